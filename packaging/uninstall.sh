#!/bin/sh
# Removes what packaging/install.sh installed.
#
#   sudo packaging/uninstall.sh            binary, unit, examples; keeps /etc/logbridge, the spool
#                                          (/var/lib/logbridge), /var/log/logbridge and the user
#   sudo packaging/uninstall.sh --purge    also those directories and the logbridge user: every
#                                          record still in the spool that no sink delivered is lost
#   DESTDIR=/tmp/stage packaging/uninstall.sh [--purge]   the same in a staging root
#   make uninstall [PURGE=1]
#
# Variables: DESTDIR (default empty), PREFIX (default /usr/local), as given to install.sh.
# Running it again is harmless.
set -eu

DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
PURGE=no
for arg in "$@"; do
    case $arg in
        --purge) PURGE=yes ;;
        -h | --help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) printf 'uninstall: unknown argument %s (only --purge)\n' "$arg" >&2; exit 2 ;;
    esac
done

TOOL=uninstall
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
normalize_roots

detect_host "removing files only (no systemctl, no userdel)"

# Stop and disable before the unit file goes (disable needs the file to find its links).
if [ "$SYSTEMD" = yes ]; then
    if systemctl cat "$UNIT_NAME" >/dev/null 2>&1; then
        systemctl disable --now "$UNIT_NAME" || say "warning: could not stop or disable $UNIT_NAME"
        say "systemctl disable --now $UNIT_NAME"
    fi
elif [ "$HOST" = yes ]; then
    say "systemd is not the init system here: nothing to stop"
fi

remove() {
    if [ -e "$1" ] || [ -L "$1" ]; then
        rm -rf "$1"
        say "removed $1"
    fi
}

remove "$DESTDIR$PREFIX/bin/logbridge"
remove "$DESTDIR$UNIT_DIR/$UNIT_NAME"
# An enablement link left behind when systemctl could not run (a staging root, no systemd).
remove "$DESTDIR$UNIT_DIR/multi-user.target.wants/$UNIT_NAME"
remove "$DESTDIR$PREFIX/share/logbridge/examples"
rmdir "$DESTDIR$PREFIX/share/logbridge" 2>/dev/null || true

if [ "$PURGE" = yes ]; then
    # Drop-ins (`systemctl edit logbridge`) are the operator's configuration too.
    remove "$DESTDIR$UNIT_DIR/$UNIT_NAME.d"
    remove "$DESTDIR$CONF_DIR"
    remove "$DESTDIR$SPOOL_DIR"
    remove "$DESTDIR$LOG_DIR"
    if [ "$HOST" = yes ]; then
        if getent passwd logbridge >/dev/null 2>&1; then
            userdel logbridge
            say "removed user logbridge"
        fi
        if getent group logbridge >/dev/null 2>&1; then
            groupdel logbridge
            say "removed group logbridge"
        fi
    fi
else
    for dir in "$CONF_DIR" "$SPOOL_DIR" "$LOG_DIR"; do
        if [ -e "$DESTDIR$dir" ]; then say "kept $DESTDIR$dir (--purge removes it)"; fi
    done
    if [ "$HOST" = yes ] && getent passwd logbridge >/dev/null 2>&1; then
        say "kept user logbridge (--purge removes it)"
    fi
fi

if [ "$SYSTEMD" = yes ]; then
    systemctl daemon-reload
    systemctl reset-failed "$UNIT_NAME" 2>/dev/null || true
fi
say "done"

# Shared by install.sh and uninstall.sh (sourced; POSIX sh): where logbridge lives on a host, and
# the checks both apply to PREFIX and DESTDIR. Set TOOL (the script's name, for messages) first.
UNIT_NAME=logbridge.service
CONF_DIR=/etc/logbridge
SPOOL_DIR=/var/lib/logbridge
LOG_DIR=/var/log/logbridge
UNIT_DIR=/etc/systemd/system

say() { printf '%s: %s\n' "$TOOL" "$*"; }
die() { printf '%s: error: %s\n' "$TOOL" "$*" >&2; exit 1; }

# PREFIX must be absolute ("/" becomes "": $PREFIX/bin is then /bin); a relative DESTDIR is taken
# from the current directory.
normalize_roots() {
    case $PREFIX in
        /*) PREFIX=${PREFIX%/} ;;
        *) die "PREFIX must be an absolute path (got '$PREFIX')" ;;
    esac
    case $DESTDIR in
        '' | /*) DESTDIR=${DESTDIR%/} ;;
        *) DESTDIR=$(pwd)/$DESTDIR ;;
    esac
}

# HOST=yes on the host itself (not a staging root) as root: manage the user, ownership and
# systemd. SYSTEMD=yes when systemd is the init system (/run/systemd/system exists: what
# sd_booted(3) checks). $1: what a non-root run still does, for the message.
detect_host() {
    HOST=no
    if [ -z "$DESTDIR" ]; then
        if [ "$(id -u)" = 0 ]; then
            HOST=yes
        else
            say "not root: $1; run with sudo for a complete $TOOL"
        fi
    fi
    SYSTEMD=no
    if [ "$HOST" = yes ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        SYSTEMD=yes
    fi
}

#!/bin/sh
# Installs logbridge on a systemd host (a VM), or into a staging root for a package build.
#
#   sudo packaging/install.sh                        install or upgrade this host
#   DESTDIR=/tmp/stage packaging/install.sh          stage the tree only (no user, chown, systemctl)
#   PREFIX=/opt/logbridge packaging/install.sh       binary and examples under another prefix
#   make install [DESTDIR=...] [PREFIX=...]          the same, after `make release`
#
# Variables: DESTDIR (default empty), PREFIX (default /usr/local), BINARY (default
# .build/release/logbridge, relative to the current directory or to the repository).
#
# What goes where:
#   $PREFIX/bin/logbridge                          the binary (0755)
#   $PREFIX/share/logbridge/examples/              the example configurations (replaced each time)
#   /etc/logbridge/logbridge.yaml                  the reference configuration, only if absent
#   /etc/logbridge/logbridge.yaml.dist             the reference configuration, every time
#   /etc/logbridge/logbridge.env                   KEY=value for ${env:NAME}, only if absent (0640)
#   /etc/systemd/system/logbridge.service          the unit
#   /var/lib/logbridge/                            the spool (0750), created if absent, never emptied
#   /var/log/logbridge/                            the reference configuration's file sink (0750)
#
# On the host itself (DESTDIR empty, as root) it also creates the `logbridge` system user, gives
# /etc/logbridge to root:logbridge (0750, files 0640) and the spool to logbridge, reloads systemd
# and restarts the service if it was running (an upgrade). Running it again is harmless.
set -eu

DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
BINARY=${BINARY:-.build/release/logbridge}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEFAULT_BIN=/usr/local/bin/logbridge # the path written in conf/systemd/logbridge.service
TOOL=install
. "$ROOT/packaging/common.sh"

# PREFIX is written into the unit with sed.
case $PREFIX in
    *[\|\&\\]*) die "PREFIX must not contain | & or \\ (got '$PREFIX')" ;;
esac
normalize_roots

# BINARY: as given when it exists from here, else relative to the repository.
case $BINARY in
    /*) ;;
    *) [ -e "$BINARY" ] || BINARY=$ROOT/$BINARY ;;
esac
if [ ! -f "$BINARY" ] || [ ! -x "$BINARY" ]; then
    die "no executable at $BINARY: build it first (make release)"
fi
for f in conf/logbridge.yaml conf/systemd/logbridge.service conf/examples; do
    [ -e "$ROOT/$f" ] || die "missing $ROOT/$f"
done

detect_host "installing the files only (no user, no chown, no systemctl)"

BIN_PATH=$PREFIX/bin/logbridge
UPGRADE=no
[ -e "$DESTDIR$BIN_PATH" ] && UPGRADE=yes

# A binary linked to the Swift runtime (a plain `swift build`) only runs where that runtime is;
# warn so a VM without the toolchain gets a --static-swift-stdlib build.
if command -v ldd >/dev/null 2>&1 && ldd "$BINARY" 2>/dev/null | grep -q 'libswiftCore\.so'; then
    say "note: $BINARY loads the Swift runtime from $(ldd "$BINARY" | sed -n 's/.*libswiftCore\.so => \(.*\)\/libswiftCore\.so.*/\1/p')"
    say "      a host without that toolchain needs: make install SWIFT_BUILD_FLAGS=--static-swift-stdlib"
fi

# --- the user (before any chown) ----------------------------------------------------------------
if [ "$HOST" = yes ]; then
    if ! getent group logbridge >/dev/null 2>&1; then
        groupadd --system logbridge
        say "created group logbridge"
    fi
    if ! getent passwd logbridge >/dev/null 2>&1; then
        nologin=/usr/sbin/nologin
        [ -x "$nologin" ] || nologin=/sbin/nologin
        useradd --system --gid logbridge --home-dir "$SPOOL_DIR" --no-create-home \
            --shell "$nologin" --comment "logbridge log forwarder" logbridge
        say "created system user logbridge"
    fi
fi

# --- the binary: a new file renamed over the old one, so a running gateway keeps its inode -------
install -d -m 0755 "$DESTDIR$(dirname "$BIN_PATH")"
tmp=$DESTDIR$BIN_PATH.new.$$
trap 'rm -f "$tmp"' EXIT
install -m 0755 "$BINARY" "$tmp"
mv -f "$tmp" "$DESTDIR$BIN_PATH"
trap - EXIT
say "binary      $DESTDIR$BIN_PATH"

# --- configuration: the operator's file is never replaced ----------------------------------------
install -d -m 0750 "$DESTDIR$CONF_DIR"
install -m 0640 "$ROOT/conf/logbridge.yaml" "$DESTDIR$CONF_DIR/logbridge.yaml.dist"
if [ -e "$DESTDIR$CONF_DIR/logbridge.yaml" ]; then
    say "config      $DESTDIR$CONF_DIR/logbridge.yaml kept (new reference: logbridge.yaml.dist)"
else
    install -m 0640 "$ROOT/conf/logbridge.yaml" "$DESTDIR$CONF_DIR/logbridge.yaml"
    say "config      $DESTDIR$CONF_DIR/logbridge.yaml"
fi
if [ ! -e "$DESTDIR$CONF_DIR/logbridge.env" ]; then
    (
        umask 027
        cat >"$DESTDIR$CONF_DIR/logbridge.env" <<'EOF'
# Environment of the logbridge service (EnvironmentFile= of logbridge.service), one KEY=value a
# line, for ${env:NAME} references in logbridge.yaml. Keep this file 0640 root:logbridge.
EOF
    )
    chmod 0640 "$DESTDIR$CONF_DIR/logbridge.env"
    say "environment $DESTDIR$CONF_DIR/logbridge.env"
fi

# --- examples: replaced as a whole, so an example removed upstream does not linger ---------------
EXAMPLES=$DESTDIR$PREFIX/share/logbridge/examples
rm -rf "$EXAMPLES"
install -d -m 0755 "$EXAMPLES"
cp -R "$ROOT/conf/examples/." "$EXAMPLES/"
find "$EXAMPLES" -type d -exec chmod 0755 {} + && find "$EXAMPLES" -type f -exec chmod 0644 {} +
say "examples    $EXAMPLES"

# --- the unit, with the binary's path when PREFIX is not /usr/local ------------------------------
install -d -m 0755 "$DESTDIR$UNIT_DIR"
tmp=$DESTDIR$UNIT_DIR/.$UNIT_NAME.new.$$
trap 'rm -f "$tmp"' EXIT
sed "s|$DEFAULT_BIN|$BIN_PATH|g" "$ROOT/conf/systemd/$UNIT_NAME" >"$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$DESTDIR$UNIT_DIR/$UNIT_NAME"
trap - EXIT
say "unit        $DESTDIR$UNIT_DIR/$UNIT_NAME"

# --- spool and log directories: created if absent; an existing one (and its content) is left alone
for dir in "$SPOOL_DIR" "$LOG_DIR"; do
    if [ ! -d "$DESTDIR$dir" ]; then
        install -d -m 0750 "$DESTDIR$dir"
        say "directory   $DESTDIR$dir"
    fi
done

# --- ownership (host only) -----------------------------------------------------------------------
if [ "$HOST" = yes ]; then
    chown root:logbridge "$CONF_DIR"
    chmod 0750 "$CONF_DIR"
    for f in logbridge.yaml logbridge.yaml.dist logbridge.env; do
        chown root:logbridge "$CONF_DIR/$f"
        chmod 0640 "$CONF_DIR/$f"
    done
    # The directories themselves only: the spool's files are the service's (systemd's
    # StateDirectory= fixes their owner at start if needed).
    chown logbridge:logbridge "$SPOOL_DIR" "$LOG_DIR"
fi

# --- systemd ---------------------------------------------------------------------------------------
if [ "$SYSTEMD" = yes ]; then
    systemctl daemon-reload
    say "systemctl daemon-reload"
    if [ "$UPGRADE" = yes ]; then
        # try-restart: restarts the service only if it is running; a stopped one stays stopped.
        if systemctl try-restart "$UNIT_NAME"; then
            say "systemctl try-restart $UNIT_NAME"
        else
            say "warning: the restart failed; see: journalctl -u $UNIT_NAME (the new binary checks the configuration first)"
            exit 1
        fi
    fi
elif [ "$HOST" = yes ]; then
    say "systemd is not the init system here (no /run/systemd/system): skipped daemon-reload and restart"
fi

if [ -n "$DESTDIR" ]; then
    say "staged into $DESTDIR (no user, ownership or systemctl: that is for the target host)"
elif [ "$UPGRADE" = yes ]; then
    say "upgraded; the configuration and the spool were kept. Compare $CONF_DIR/logbridge.yaml with logbridge.yaml.dist for new keys"
else
    cat <<EOF
install: done. Next steps:
  1. edit $CONF_DIR/logbridge.yaml (brokers or connection_string, topics, sinks);
     secrets as \${file:/path} or \${env:NAME} with NAME=value in $CONF_DIR/logbridge.env
  2. $BIN_PATH check --config $CONF_DIR/logbridge.yaml
  3. systemctl enable --now logbridge   (then: journalctl -u logbridge -f, $BIN_PATH status)
EOF
fi

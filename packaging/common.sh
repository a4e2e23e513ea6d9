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

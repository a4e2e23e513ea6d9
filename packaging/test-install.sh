#!/usr/bin/env bash
# Tests packaging/install.sh and packaging/uninstall.sh (`make install-check`).
#
# 1. Staging root: installs into a temporary DESTDIR and checks the tree, runs the installed
#    binary, checks the unit with systemd-analyze (verify, and its security exposure), runs the
#    binary under the unit's sandbox (packaging/check-sandbox.py), upgrades over a modified
#    installation (the operator's config and the spool survive), installs with another PREFIX,
#    uninstalls, purges.
# 2. Host install, when run as root where mount namespaces and overlayfs work: the same scripts
#    with DESTDIR empty, in a private mount namespace whose /etc, /usr/local and /var are overlays
#    on the real ones, so the user creation, the chown and the systemd-less path run for real
#    and the machine is left untouched. Skipped (one line says so) elsewhere.
#
# One line per check; the last line is "N passed, N failed"; exit status 1 on any failure.
# BINARY (default .build/release/logbridge) is the binary to install; nothing is built here.
# The bash -c '...' bodies below expand their "$1" in the child, on purpose:
# shellcheck disable=SC2016
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BINARY=${BINARY:-$ROOT/.build/release/logbridge}
[[ $BINARY == /* ]] || BINARY=$PWD/$BINARY
INSTALL=$ROOT/packaging/install.sh
UNINSTALL=$ROOT/packaging/uninstall.sh
REF=$ROOT/conf/logbridge.yaml

passed=0
failed=0
pass() { passed=$((passed + 1)); printf 'ok   %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf 'FAIL %s\n' "$1"; [[ -z ${2:-} ]] || printf '%s\n' "$2" | sed 's/^/     | /'; }
# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
    local description=$1
    shift
    if "$@" >/dev/null 2>&1; then pass "$description"; else fail "$description"; fi
}
mode_is() { [[ $(stat -c %a "$2") == "$1" ]]; }
summary() {
    printf '%d passed, %d failed\n' "$passed" "$failed"
    ((failed == 0))
}

# ------------------------------------------------------------------------------------------------
# Phase 2 runs this script again inside `unshare -m`: mount the overlays, run the host checks.
# ------------------------------------------------------------------------------------------------
host_phase() {
    local work=$1
    mount --make-rprivate /
    for dir in /etc /usr/local /var; do
        local name=${dir//\//_}
        mkdir -p "$work/upper$name" "$work/work$name"
        mount -t overlay overlay -o "lowerdir=$dir,upperdir=$work/upper$name,workdir=$work/work$name" "$dir"
    done
    local out
    if out=$(sh "$INSTALL" 2>&1 </dev/null); then pass "host: install.sh as root (DESTDIR empty) succeeds"; else fail "host: install.sh as root (DESTDIR empty) succeeds" "$out"; fi
    check "host: system user logbridge created, shell nologin, home /var/lib/logbridge" \
        bash -c '[[ $(getent passwd logbridge | cut -d: -f6,7) == /var/lib/logbridge:*/nologin ]]'
    check "host: user logbridge is a system account (uid < 1000)" bash -c '(( $(id -u logbridge) < 1000 ))'
    check "host: /etc/logbridge is root:logbridge 0750" \
        bash -c '[[ $(stat -c "%U:%G %a" /etc/logbridge) == "root:logbridge 750" ]]'
    local f
    for f in logbridge.yaml logbridge.yaml.dist logbridge.env; do
        check "host: /etc/logbridge/$f is root:logbridge 0640" \
            bash -c "[[ \$(stat -c '%U:%G %a' /etc/logbridge/$f) == 'root:logbridge 640' ]]"
    done
    check "host: /var/lib/logbridge is logbridge:logbridge 0750" \
        bash -c '[[ $(stat -c "%U:%G %a" /var/lib/logbridge) == "logbridge:logbridge 750" ]]'
    check "host: systemctl skipped with a message (PID 1 is not systemd here)" grep -q 'systemd is not the init system' <<<"$out"
    check "host: next steps printed (edit, check, systemctl enable --now)" \
        bash -c 'grep -q "edit /etc/logbridge/logbridge.yaml" <<<"$1" && grep -q "logbridge check --config" <<<"$1" && grep -q "systemctl enable --now logbridge" <<<"$1"' _ "$out"
    check "host: the installed binary validates the installed config as user logbridge" \
        runuser -u logbridge -- /usr/local/bin/logbridge check --config /etc/logbridge/logbridge.yaml

    # Upgrade: a spool file owned by the service and an edited config survive, owners untouched.
    printf 'records' >/var/lib/logbridge/data.mdb
    chown logbridge:logbridge /var/lib/logbridge/data.mdb
    chmod 0600 /var/lib/logbridge/data.mdb
    echo '# edited on the host' >>/etc/logbridge/logbridge.yaml
    if out=$(sh "$INSTALL" 2>&1 </dev/null); then pass "host: second install.sh (upgrade) succeeds"; else fail "host: second install.sh (upgrade) succeeds" "$out"; fi
    check "host: upgrade says it kept the configuration and the spool" grep -q 'upgraded' <<<"$out"
    check "host: upgrade kept the edited config" grep -q '^# edited on the host$' /etc/logbridge/logbridge.yaml
    check "host: upgrade left the spool file, its owner and mode alone" \
        bash -c '[[ $(stat -c "%U:%G %a" /var/lib/logbridge/data.mdb) == "logbridge:logbridge 600" && $(cat /var/lib/logbridge/data.mdb) == records ]]'
    check "host: user logbridge still there once (not created twice)" bash -c '[[ $(grep -c "^logbridge:" /etc/passwd) == 1 ]]'

    if out=$(sh "$UNINSTALL" 2>&1 </dev/null); then pass "host: uninstall.sh succeeds"; else fail "host: uninstall.sh succeeds" "$out"; fi
    check "host: uninstall removed binary and unit" bash -c '[[ ! -e /usr/local/bin/logbridge && ! -e /etc/systemd/system/logbridge.service ]]'
    check "host: uninstall kept config, spool and user" \
        bash -c '[[ -f /etc/logbridge/logbridge.yaml && -f /var/lib/logbridge/data.mdb ]] && getent passwd logbridge'
    if out=$(sh "$UNINSTALL" --purge 2>&1 </dev/null); then pass "host: uninstall.sh --purge succeeds"; else fail "host: uninstall.sh --purge succeeds" "$out"; fi
    check "host: --purge removed /etc/logbridge, /var/lib/logbridge, /var/log/logbridge" \
        bash -c '[[ ! -e /etc/logbridge && ! -e /var/lib/logbridge && ! -e /var/log/logbridge ]]'
    check "host: --purge removed the user and the group" bash -c '! getent passwd logbridge && ! getent group logbridge'
    check "host: uninstall.sh --purge again succeeds (idempotent)" sh "$UNINSTALL" --purge
    printf 'host-phase %d %d\n' "$passed" "$failed"
}

if [[ ${1:-} == --host-phase ]]; then
    host_phase "$2"
    exit 0
fi

# ------------------------------------------------------------------------------------------------
# Phase 1: staging root.
# ------------------------------------------------------------------------------------------------
if [[ ! -x $BINARY ]]; then
    echo "test-install: no executable at $BINARY (make release first)" >&2
    exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/logbridge-install-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
D=$T/root
user_existed=no
getent passwd logbridge >/dev/null 2>&1 && user_existed=yes

echo "# staging install: DESTDIR=$D"
if out=$(DESTDIR=$D BINARY=$BINARY sh "$INSTALL" 2>&1); then
    pass "install.sh into DESTDIR succeeds"
else
    fail "install.sh into DESTDIR succeeds" "$out"
fi
B=$D/usr/local/bin/logbridge
C=$D/etc/logbridge
check "binary installed, executable, 0755: /usr/local/bin/logbridge" bash -c '[[ -f $1 && -x $1 ]] && [[ $(stat -c %a "$1") == 755 ]]' _ "$B"
check "binary identical to $BINARY" cmp -s "$BINARY" "$B"
check "config dir /etc/logbridge is 0750" mode_is 750 "$C"
check "config /etc/logbridge/logbridge.yaml is the reference, 0640" bash -c 'cmp -s "$1" "$2" && [[ $(stat -c %a "$2") == 640 ]]' _ "$REF" "$C/logbridge.yaml"
check "reference copy /etc/logbridge/logbridge.yaml.dist, 0640" bash -c 'cmp -s "$1" "$2" && [[ $(stat -c %a "$2") == 640 ]]' _ "$REF" "$C/logbridge.yaml.dist"
check "environment file /etc/logbridge/logbridge.env, 0640, no variable set" \
    bash -c '[[ -f $1 && $(stat -c %a "$1") == 640 ]] && ! grep -qv "^#" "$1"' _ "$C/logbridge.env"
check "examples under /usr/local/share/logbridge/examples match conf/examples" diff -r "$ROOT/conf/examples" "$D/usr/local/share/logbridge/examples"
check "unit /etc/systemd/system/logbridge.service, 0644" bash -c '[[ -f $1 && $(stat -c %a "$1") == 644 ]]' _ "$D/etc/systemd/system/logbridge.service"
check "unit: no core dumps, system call filter, /proc limited (LimitCORE, SystemCallFilter, ProtectProc, ProcSubset, UMask)" \
    bash -c 'for k in "LimitCORE=0" "SystemCallFilter=@system-service" "SystemCallFilter=~@privileged @resources" "SystemCallArchitectures=native" "ProtectProc=invisible" "ProcSubset=pid" "UMask=0027" "StateDirectoryMode=0750"; do grep -qx "$k" "$1" || exit 1; done' _ "$D/etc/systemd/system/logbridge.service"
check "unit runs /usr/local/bin/logbridge (ExecStartPre check, ExecStart run)" \
    bash -c 'grep -qx "ExecStartPre=/usr/local/bin/logbridge check --config /etc/logbridge/logbridge.yaml" "$1" && grep -qx "ExecStart=/usr/local/bin/logbridge run --config /etc/logbridge/logbridge.yaml" "$1"' _ "$D/etc/systemd/system/logbridge.service"
check "spool dir /var/lib/logbridge, 0750" bash -c '[[ -d $1 ]] && [[ $(stat -c %a "$1") == 750 ]]' _ "$D/var/lib/logbridge"
check "log dir /var/log/logbridge (file sink of the reference config), 0750" bash -c '[[ -d $1 ]] && [[ $(stat -c %a "$1") == 750 ]]' _ "$D/var/log/logbridge"
check "staging root: no chown (files owned by the installing user)" \
    bash -c '[[ -z $(find "$1" ! -user "$(id -u)" -print -quit) ]]' _ "$D"
if [[ $user_existed == no ]]; then
    check "staging root: no logbridge user created on this machine" bash -c '! getent passwd logbridge'
fi

# The installed binary runs, and `check` (the unit's ExecStartPre) validates offline: no broker,
# no sink, no spool needed, only the file and its ${env:}/${file:} references.
if out=$("$B" --version 2>&1) && [[ -n $out ]]; then pass "installed binary --version: $out"; else fail "installed binary --version" "$out"; fi
if out=$("$B" check --config "$C/logbridge.yaml" 2>&1) && grep -q ': valid$' <<<"$out"; then
    pass "installed binary: check --config on the installed reference config is valid"
else
    fail "installed binary: check --config on the installed reference config is valid" "$out"
fi
sed 's/start_from: earliest/start_from: yesterday/' "$C/logbridge.yaml" >"$T/bad.yaml"
if out=$("$B" check --config "$T/bad.yaml" 2>&1); then
    fail "check exits non-zero on a bad config (what makes ExecStartPre stop a start)" "$out"
elif grep -Eq 'line [0-9]+: source\.kafka\.start_from' <<<"$out"; then
    pass "check exits non-zero on a bad config, naming key and line (ExecStartPre stops the start)"
else
    fail "check names the bad key and its line" "$out"
fi

# systemd-analyze verify. It checks that each Exec*= command exists and is executable on THIS
# machine: on the installed unit it reports /usr/local/bin/logbridge as missing. --root= does not
# help (systemd 252): units are read from the root but commands are still looked up on the host,
# and the staging root has no sysinit.target. So verify a copy whose binary path points into
# DESTDIR. verify exits 0 even on unknown keys or bad values ("Unknown key ..., ignoring"), so
# any output line naming our unit is a failure; other lines are host noise.
if command -v systemd-analyze >/dev/null 2>&1; then
    mkdir -p "$T/verify" "$T/verify-bad"
    sed "s|/usr/local/bin/logbridge|$B|g" "$D/etc/systemd/system/logbridge.service" >"$T/verify/logbridge.service"
    out=$(systemd-analyze verify "$T/verify/logbridge.service" 2>&1) || true
    ours=$(grep 'logbridge\.service' <<<"$out" || true)
    if [[ -z $ours ]]; then
        pass "systemd-analyze verify: no warning about logbridge.service"
    else
        fail "systemd-analyze verify: no warning about logbridge.service" "$ours"
    fi
    # The filter must see real problems: a copy with a bad key and a bad value.
    sed -e 's/^Restart=on-failure/Restart=sometimes/' -e '/^\[Service\]/a Bogus=1' \
        "$T/verify/logbridge.service" >"$T/verify-bad/logbridge.service"
    out=$(systemd-analyze verify "$T/verify-bad/logbridge.service" 2>&1) || true
    if grep -q 'logbridge\.service:.*Bogus' <<<"$out" && grep -q 'logbridge\.service:.*sometimes' <<<"$out"; then
        pass "systemd-analyze verify: a planted bad key and value are reported (the filter works)"
    else
        fail "systemd-analyze verify: a planted bad key and value are reported" "$out"
    fi
    # The exposure score of the unit as installed (systemd 250+ rates a unit file offline).
    out=$(cd "$T/verify" && systemd-analyze security --offline=yes logbridge.service 2>&1) || true
    score=$(sed -n 's/.*Overall exposure level for logbridge\.service: \([0-9.]*\).*/\1/p' <<<"$out")
    if [[ -z $score ]]; then
        echo "skip systemd-analyze security --offline (not supported here)"
    elif awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
        pass "systemd-analyze security: exposure $score (at most 2.0)"
    else
        fail "systemd-analyze security: exposure $score (at most 2.0)" "$(grep '✗' <<<"$out")"
    fi
else
    echo "skip systemd-analyze not found"
fi

# The binary under the unit's sandbox (its system call filter, /proc restrictions as root): it
# must run, deliver, reload and stop as it does unconfined.
echo "# sandbox run: the installed unit's SystemCallFilter=, ProtectProc= and ProcSubset= on $BINARY"
if out=$(python3 "$ROOT/packaging/check-sandbox.py" "$BINARY" "$D/etc/systemd/system/logbridge.service" 2>&1); then
    pass "logbridge runs under the unit's sandbox ($(tail -1 <<<"$out"))"
else
    fail "logbridge runs under the unit's sandbox" "$out"
fi

# Upgrade over an installation the operator changed.
echo '# operator edit: keep me' >>"$C/logbridge.yaml"
echo 'ES_PASSWORD=kept' >>"$C/logbridge.env"
echo 'stale' >"$C/logbridge.yaml.dist"
printf 'spooled records\n' >"$D/var/lib/logbridge/data.mdb"
chmod 0600 "$D/var/lib/logbridge/data.mdb"
chmod 0700 "$D/var/lib/logbridge"
echo 'old' >"$D/usr/local/share/logbridge/examples/removed-upstream.yaml"
if out=$(DESTDIR=$D BINARY=$BINARY sh "$INSTALL" 2>&1); then
    pass "second install.sh (upgrade) succeeds"
else
    fail "second install.sh (upgrade) succeeds" "$out"
fi
check "upgrade kept the operator's config" grep -qx '# operator edit: keep me' "$C/logbridge.yaml"
check "upgrade said it kept the config" grep -q 'logbridge.yaml kept' <<<"$out"
check "upgrade kept the environment file" grep -qx 'ES_PASSWORD=kept' "$C/logbridge.env"
check "upgrade refreshed logbridge.yaml.dist" cmp -s "$REF" "$C/logbridge.yaml.dist"
check "upgrade kept the spool file (content and mode)" \
    bash -c '[[ $(cat "$1") == "spooled records" && $(stat -c %a "$1") == 600 ]]' _ "$D/var/lib/logbridge/data.mdb"
check "upgrade left the existing spool dir's mode alone" mode_is 700 "$D/var/lib/logbridge"
check "upgrade replaced the examples (stale file gone, tree matches)" diff -r "$ROOT/conf/examples" "$D/usr/local/share/logbridge/examples"
check "upgrade left no temporary file behind" bash -c '[[ -z $(find "$1" -name "*.new.*" -print -quit) ]]' _ "$D"
chmod 0750 "$D/var/lib/logbridge"

# Another PREFIX: the unit follows the binary.
P=$T/prefix
if out=$(DESTDIR=$P PREFIX=/opt/logbridge BINARY=$BINARY sh "$INSTALL" 2>&1); then
    pass "install.sh with PREFIX=/opt/logbridge succeeds"
else
    fail "install.sh with PREFIX=/opt/logbridge succeeds" "$out"
fi
check "PREFIX=/opt/logbridge: binary and examples under /opt/logbridge" \
    bash -c '[[ -x $1/opt/logbridge/bin/logbridge && -d $1/opt/logbridge/share/logbridge/examples && ! -e $1/usr/local ]]' _ "$P"
check "PREFIX=/opt/logbridge: unit runs /opt/logbridge/bin/logbridge, no /usr/local left" \
    bash -c 'grep -qx "ExecStart=/opt/logbridge/bin/logbridge run --config /etc/logbridge/logbridge.yaml" "$1" && ! grep -q /usr/local/bin "$1"' _ "$P/etc/systemd/system/logbridge.service"
check "PREFIX=/opt/logbridge: uninstall --purge leaves nothing but empty directories" \
    bash -c 'DESTDIR=$1 PREFIX=/opt/logbridge sh "$2" --purge && [[ -z $(find "$1" ! -type d -print -quit) ]]' _ "$P" "$UNINSTALL"
check "install.sh refuses a relative PREFIX" bash -c '! DESTDIR=$1 PREFIX=opt BINARY=$2 sh "$3"' _ "$T/x" "$BINARY" "$INSTALL"

# Uninstall keeps configuration and spool; --purge removes them.
if out=$(DESTDIR=$D sh "$UNINSTALL" 2>&1); then pass "uninstall.sh succeeds"; else fail "uninstall.sh succeeds" "$out"; fi
check "uninstall removed the binary" test ! -e "$B"
check "uninstall removed the unit" test ! -e "$D/etc/systemd/system/logbridge.service"
check "uninstall removed the examples" test ! -e "$D/usr/local/share/logbridge"
check "uninstall kept config, .dist and environment file" \
    bash -c '[[ -f $1/logbridge.yaml && -f $1/logbridge.yaml.dist && -f $1/logbridge.env ]] && grep -qx "# operator edit: keep me" "$1/logbridge.yaml"' _ "$C"
check "uninstall kept the spool and its file" test -f "$D/var/lib/logbridge/data.mdb"
check "uninstall.sh again succeeds (idempotent)" env DESTDIR="$D" sh "$UNINSTALL"
if out=$(DESTDIR=$D sh "$UNINSTALL" --purge 2>&1); then pass "uninstall.sh --purge succeeds"; else fail "uninstall.sh --purge succeeds" "$out"; fi
check "--purge removed /etc/logbridge" test ! -e "$C"
check "--purge removed /var/lib/logbridge" test ! -e "$D/var/lib/logbridge"
check "--purge removed /var/log/logbridge" test ! -e "$D/var/log/logbridge"
check "uninstall.sh --purge again succeeds (idempotent)" env DESTDIR="$D" sh "$UNINSTALL" --purge
check "uninstall.sh rejects an unknown argument" bash -c '! DESTDIR=$1 sh "$2" --force' _ "$D" "$UNINSTALL"

# ------------------------------------------------------------------------------------------------
# Phase 2: host install in a throwaway mount namespace.
# ------------------------------------------------------------------------------------------------
echo "# host install (DESTDIR empty) in a private mount namespace with overlays on /etc, /usr/local, /var"
if [[ $(id -u) != 0 ]]; then
    echo "skip host install: needs root"
elif [[ -e /usr/local/bin/logbridge || -e /etc/logbridge || -e /var/lib/logbridge ]] || getent passwd logbridge >/dev/null 2>&1; then
    echo "skip host install: logbridge is installed on this machine; the overlays would start from it"
elif ! command -v unshare >/dev/null 2>&1 ||
    ! unshare -m sh -c "mount --make-rprivate / && mkdir -p '$T/probe/u' '$T/probe/w' && mount -t overlay overlay -o lowerdir=/etc,upperdir='$T/probe/u',workdir='$T/probe/w' /etc" >/dev/null 2>&1; then
    echo "skip host install: no mount namespace or overlayfs here"
else
    mkdir -p "$T/host"
    host_out=$(BINARY=$BINARY unshare -m bash "$0" --host-phase "$T/host" 2>&1) || true
    grep -v '^host-phase ' <<<"$host_out" || true
    counts=$(sed -n 's/^host-phase \([0-9]*\) \([0-9]*\)$/\1 \2/p' <<<"$host_out")
    if [[ -n $counts ]]; then
        passed=$((passed + ${counts% *}))
        failed=$((failed + ${counts#* }))
    else
        fail "host install phase ran to its end"
    fi
    check "host install left this machine without a logbridge user" bash -c '! getent passwd logbridge'
    check "host install left this machine without /etc/logbridge, /var/lib/logbridge, /usr/local/bin/logbridge" \
        bash -c '[[ ! -e /etc/logbridge && ! -e /var/lib/logbridge && ! -e /usr/local/bin/logbridge ]]'
fi

summary

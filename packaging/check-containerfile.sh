#!/usr/bin/env bash
# Static checks of the Containerfile, for machines without a container engine:
#   - two stages: the Swift build image (ARG SWIFT_IMAGE, Debian 12) and debian:12-slim;
#   - the build stage installs the -dev packages of the Makefile and builds with
#     --static-swift-stdlib (a flag this toolchain's `swift build --help` lists);
#   - the runtime stage installs existing Debian 12 packages, no -dev or build tool, and covers
#     every C library the binary loads (ldd of the local build, mapped with dpkg -S, closed over
#     the packages' Depends);
#   - non-root USER, VOLUME = spool.path, EXPOSE/ENTRYPOINT/CMD, the admin.listen rewrite gives a
#     valid configuration, COPY sources exist and are not ignored, .containerignore = .dockerignore.
# One line per check; the last line is "N passed, N failed"; exit status 1 on any failure.
# Package look-ups use apt-cache (run as root, it runs `apt-get update -qq` once if the lists are empty).
# The bash -c '...' bodies below expand their "$1" in the child, on purpose:
# shellcheck disable=SC2016
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
FILE=${CONTAINERFILE:-$ROOT/Containerfile}
BINARY=${BINARY:-$ROOT/.build/release/logbridge}
# The admin.listen rewrite the Containerfile must contain, verbatim.
LISTEN_SED='s|^  listen: "127.0.0.1:9180"$|  listen: "0.0.0.0:9180"|'

passed=0
failed=0
pass() { passed=$((passed + 1)); printf 'ok   %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf 'FAIL %s\n' "$1"; [[ -z ${2:-} ]] || printf '%s\n' "$2" | sed 's/^/     | /'; }
skip() { printf 'skip %s\n' "$1"; }
verdict() { if "${@:2}"; then pass "$1"; else fail "$1" "${detail:-}"; fi; detail=; }
detail=

if [[ ! -f $FILE ]]; then
    fail "Containerfile exists at $FILE"
    printf '%d passed, %d failed\n' "$passed" "$failed"
    exit 1
fi

# --- parse: continuation lines joined, comments and blank lines dropped ------------------------
# INSTR[i]="KEYWORD rest", STAGE[i]=index of the stage (FROM count - 1; -1 before the first FROM).
INSTR=()
STAGE=()
stage=-1
pending=
while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ ^[[:space:]]*# ]] && continue # also inside a continued RUN, as the engines do
    if [[ $line =~ \\[[:space:]]*$ ]]; then
        pending+="${line%\\*} "
        continue
    fi
    line="$pending$line"
    pending=
    line=$(sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' <<<"$line")
    [[ -z $line ]] && continue
    keyword=${line%%[[:space:]]*}
    keyword=${keyword^^}
    [[ $keyword == FROM ]] && stage=$((stage + 1))
    INSTR+=("$keyword ${line#*[[:space:]]}")
    STAGE+=("$stage")
done <"$FILE"
STAGES=$((stage + 1))

# Instructions of one stage with one keyword, without the keyword.
instructions() { # STAGE KEYWORD
    local i
    for i in "${!INSTR[@]}"; do
        if [[ ${STAGE[i]} == "$1" && ${INSTR[i]%% *} == "$2" ]]; then printf '%s\n' "${INSTR[i]#* }"; fi
    done
}
# ARG defaults declared before the first FROM.
declare -A ARGS=()
while IFS= read -r a; do
    [[ $a == *=* ]] && ARGS[${a%%=*}]=${a#*=}
done < <(instructions -1 ARG)
resolve() { # expands ${NAME} and $NAME with the global ARG defaults
    local s=$1 name
    for name in "${!ARGS[@]}"; do
        s=${s//\$\{$name\}/${ARGS[$name]}}
        s=${s//\$$name/${ARGS[$name]}}
    done
    printf '%s' "$s"
}
# Packages of the `apt-get install` commands of a stage (options dropped).
apt_packages() { # STAGE
    instructions "$1" RUN | grep -o 'apt-get install[^&;|]*' | sed 's/^apt-get install//' | tr ' ' '\n' |
        grep -v '^-' | grep -v '^$' || true
}

LAST=$((STAGES - 1))
echo "# $FILE: $STAGES stages"

# --- stages ---------------------------------------------------------------------------------------
verdict "multi-stage: at least 2 stages (build, runtime)" test "$STAGES" -ge 2
build_from=$(instructions 0 FROM)
detail="ARG SWIFT_IMAGE=${ARGS[SWIFT_IMAGE]:-<unset>}"
verdict "ARG SWIFT_IMAGE defaults to an official Swift image for Debian 12 (swift:X.Y-bookworm)" \
    bash -c '[[ $1 =~ ^swift:[0-9]+\.[0-9]+(\.[0-9]+)?-bookworm$ ]]' _ "${ARGS[SWIFT_IMAGE]:-}"
detail="FROM $build_from"
verdict "build stage: FROM \${SWIFT_IMAGE} AS build" \
    bash -c 'shopt -s nocasematch; [[ $1 =~ ^\$\{SWIFT_IMAGE\}[[:space:]]+AS[[:space:]]+build$ ]]' _ "$build_from"
if command -v swift >/dev/null 2>&1; then
    local_swift=$(swift --version 2>/dev/null | sed -n 's/.*Swift version \([0-9]*\.[0-9]*\).*/\1/p' | head -1)
    detail="local toolchain: Swift $local_swift, image: ${ARGS[SWIFT_IMAGE]:-}"
    verdict "SWIFT_IMAGE is the Swift version of this toolchain ($local_swift)" \
        bash -c '[[ $1 == swift:$2-* || $1 == swift:$2.* ]]' _ "${ARGS[SWIFT_IMAGE]:-}" "$local_swift"
fi
runtime_from=$(resolve "$(instructions "$LAST" FROM)")
detail="FROM $runtime_from"
verdict "runtime stage: FROM debian:12-slim" bash -c '[[ $1 == debian:12-slim || $1 == "debian:12-slim "* ]]' _ "$runtime_from"
detail="FROM $runtime_from"
verdict "runtime stage is not a Swift image" bash -c '[[ $1 != *swift* ]]' _ "$runtime_from"

# --- package look-ups -------------------------------------------------------------------------------
codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null || true)
APT=yes
if ! command -v apt-cache >/dev/null 2>&1; then
    APT=no
    skip "package look-ups: no apt-cache on this machine"
else
    if ! apt-cache show libc6 >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
        apt-get update -qq >/dev/null 2>&1 || true
    fi
    if ! apt-cache show libc6 >/dev/null 2>&1; then
        APT=no
        fail "apt-cache has package lists (run apt-get update)"
    elif [[ $codename != bookworm ]]; then
        echo "# note: this machine is '$codename', not bookworm: look-ups are against its own lists"
    fi
fi
# apt-cache show exits 100 for an unknown or purely virtual package.
exists() { apt-cache show --no-all-versions "$1" >/dev/null 2>&1; }

# --- build stage -----------------------------------------------------------------------------------
mapfile -t build_pkgs < <(apt_packages 0)
make_dev=$(sed -n 's/^DEBIAN_PACKAGES[[:space:]]*:=//p' "$ROOT/Makefile" | tr ' ' '\n' | grep -v '^$' | grep -vx -e kcat -e openssl | sort)
detail="Makefile: $(tr '\n' ' ' <<<"$make_dev"); Containerfile: ${build_pkgs[*]:-}"
verdict "build stage installs the Makefile's build packages (DEBIAN_PACKAGES less kcat and openssl, test tools)" \
    bash -c '[[ $1 == "$2" ]]' _ "$make_dev" "$(printf '%s\n' "${build_pkgs[@]}" | sort)"
if [[ $APT == yes ]]; then
    for p in "${build_pkgs[@]}"; do
        verdict "build package exists (apt-cache): $p" exists "$p"
    done
fi
build_cmd=$(instructions 0 RUN | grep -o 'swift build[^&;|]*' | head -1 || true)
detail="$build_cmd"
verdict "build stage: swift build -c release --product logbridge --static-swift-stdlib" \
    bash -c '[[ " $1 " == *" -c release "* && " $1 " == *" --product logbridge "* && " $1 " == *" --static-swift-stdlib "* ]]' _ "$build_cmd"
if command -v swift >/dev/null 2>&1; then
    verdict "this toolchain's swift build knows --static-swift-stdlib" \
        bash -c 'swift build --help 2>&1 | grep -q -- "--static-swift-stdlib"'
    verdict "this toolchain's swift build knows --show-bin-path" \
        bash -c 'swift build --help 2>&1 | grep -q -- "--show-bin-path"'
    swift_dir=$(dirname "$(readlink -f "$(command -v swift)")")
    verdict "the static backtracer the build stage copies exists in a toolchain (libexec/swift/linux/swift-backtrace-static)" \
        test -x "$swift_dir/../libexec/swift/linux/swift-backtrace-static"
    verdict "the toolchain has the static Swift runtime and Foundation (swift_static/linux/libswiftCore.a, libFoundation.a)" \
        test -f "$swift_dir/../lib/swift_static/linux/libswiftCore.a" -a -f "$swift_dir/../lib/swift_static/linux/libFoundation.a"
else
    skip "swift build flags: no swift here"
fi

# --- runtime stage -------------------------------------------------------------------------------
mapfile -t runtime_pkgs < <(apt_packages "$LAST")
echo "# runtime packages: ${runtime_pkgs[*]:-<none>}"
verdict "runtime stage installs packages with apt-get" test "${#runtime_pkgs[@]}" -gt 0
dev=$(printf '%s\n' "${runtime_pkgs[@]}" | grep -E -- '-dev$|^(pkg-config|gcc|g\+\+|clang|make|build-essential|swiftlang|curl)$' || true)
detail="$dev"
verdict "runtime stage: no -dev package, compiler or build tool" test -z "$dev"
if [[ $APT == yes ]]; then
    for p in "${runtime_pkgs[@]}"; do
        verdict "runtime package exists (apt-cache): $p" exists "$p"
    done
fi

# Every C library the binary loads must come from a runtime package or one of their dependencies.
# The local build links the Swift runtime dynamically (/opt/swift, libswift*, Foundation, dispatch):
# the image's --static-swift-stdlib build does not, so those are left out. What the static runtime
# itself links (static-stdlib-args.lnk: libstdc++, libm, libdl, libpthread) is added.
if [[ $APT == yes ]] && command -v dpkg >/dev/null 2>&1 && [[ -x $BINARY ]] && command -v ldd >/dev/null 2>&1; then
    closure=$(apt-cache depends --recurse --important "${runtime_pkgs[@]}" libc6 2>/dev/null |
        grep -v '^[[:space:]]' | sed 's/:.*//' | sort -u)
    libs=$(ldd "$BINARY" | awk '$2 == "=>" && $3 ~ /^\// {print $1 " " $3}' |
        grep -Ev 'libswift|libFoundation|lib_FoundationICU|libdispatch|libBlocksRuntime|/opt/swift|/usr/lib/swift' || true)
    if command -v swift >/dev/null 2>&1; then
        lnk="$(dirname "$(readlink -f "$(command -v swift)")")/../lib/swift_static/linux/static-stdlib-args.lnk"
        if [[ -f $lnk ]]; then
            while read -r l; do
                [[ -e $(dirname "$lnk")/lib$l.a ]] && continue # part of the static Swift runtime
                so=$(ldconfig -p | awk -v n="lib$l.so" '$1 ~ "^"n"(\\.|$)" && $NF ~ /^\// {print $NF; exit}')
                [[ -n $so ]] && libs+=$'\n'"lib$l.so $so"
            done < <(grep -o -- '-l[A-Za-z0-9_+.-]*' "$lnk" | sed 's/^-l//')
        fi
    fi
    while read -r soname path; do
        [[ -z $soname ]] && continue
        pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null || true)
        pkg=${pkg%%:*}
        if [[ -z $pkg ]]; then
            fail "runtime covers $soname ($path): no Debian package owns it"
        elif grep -qx "$pkg" <<<"$closure"; then
            how="listed"
            printf '%s\n' "${runtime_pkgs[@]}" | grep -qx "$pkg" || how="dependency"
            pass "runtime covers $soname -> $pkg ($how)"
        else
            fail "runtime covers $soname -> $pkg (not installed by the runtime stage)"
        fi
    done < <(sort -u <<<"$libs")
else
    skip "library coverage: needs apt-cache, dpkg, ldd and the local build at $BINARY"
fi

# --- user, volume, port, entry point -------------------------------------------------------------
user=$(instructions "$LAST" USER | tail -1)
uid=${user%%:*}
detail="USER ${user:-<none>}"
verdict "runtime stage: USER is set and not root" bash -c '[[ -n $1 && $1 != 0 && $1 != root ]]' _ "$uid"
detail="USER ${user:-<none>}"
verdict "runtime stage: USER 10001" test "$uid" = 10001
verdict "runtime stage: user and group 10001 created (useradd --uid 10001, groupadd --gid 10001)" \
    bash -c 'grep -q -- "useradd[^&]*--uid 10001" <<<"$1" && grep -q -- "groupadd[^&]*--gid 10001" <<<"$1"' _ "$(instructions "$LAST" RUN)"
spool=$(sed -n '/^spool:/,/^[^ #]/s/^  path: "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$ROOT/conf/logbridge.yaml")
volume=$(instructions "$LAST" VOLUME)
detail="VOLUME ${volume:-<none>}; spool.path $spool"
verdict "VOLUME is the reference config's spool.path ($spool)" bash -c '[[ $1 == "$2" || $1 == "[\"$2\"]" ]]' _ "$volume" "$spool"
verdict "spool dir created owned by 10001 before the VOLUME (a new volume inherits it)" \
    bash -c 'grep -q -- "install -d [^&]*-o 10001 -g 10001 [^&]*$1" <<<"$2"' _ "$spool" "$(instructions "$LAST" RUN)"
verdict "EXPOSE 9180 (admin endpoint)" bash -c '[[ $1 == 9180 || $1 == 9180/tcp ]]' _ "$(instructions "$LAST" EXPOSE)"
verdict 'ENTRYPOINT ["/usr/local/bin/logbridge"]' test "$(instructions "$LAST" ENTRYPOINT)" = '["/usr/local/bin/logbridge"]'
verdict 'CMD ["run", "--config", "/etc/logbridge/logbridge.yaml"]' \
    test "$(instructions "$LAST" CMD)" = '["run", "--config", "/etc/logbridge/logbridge.yaml"]'
verdict "binary copied from the build stage" bash -c 'grep -q -- "^--from=build " <<<"$1"' _ "$(instructions "$LAST" COPY)"
verdict "no HEALTHCHECK (no HTTP client in the image; probes call /healthz)" test -z "$(instructions "$LAST" HEALTHCHECK)"

# --- admin.listen: the rewrite gives a valid configuration listening on every interface -----------
verdict "runtime stage rewrites admin.listen with: sed -i '$LISTEN_SED'" \
    grep -qF -- "sed -i '$LISTEN_SED' /etc/logbridge/logbridge.yaml" "$FILE"
verdict "runtime stage runs logbridge check on the image's config (build-time smoke test of the libraries)" \
    bash -c 'grep -q "/usr/local/bin/logbridge check --config /etc/logbridge/logbridge.yaml" <<<"$1"' _ "$(instructions "$LAST" RUN)"
rewritten=$(mktemp)
trap 'rm -f "$rewritten"' EXIT
sed "$LISTEN_SED" "$ROOT/conf/logbridge.yaml" >"$rewritten"
changed=$(diff "$ROOT/conf/logbridge.yaml" "$rewritten" | grep -c '^>' || true)
verdict "the rewrite changes exactly one line of conf/logbridge.yaml" test "$changed" = 1
if [[ -x $BINARY ]]; then
    out=$("$BINARY" check --config "$rewritten" 2>&1) || true
    detail="$out"
    verdict "logbridge check: the image's config is valid, admin.listen 0.0.0.0:9180" \
        bash -c 'grep -q ": valid$" <<<"$1" && grep -q "^  listen: 0.0.0.0:9180$" <<<"$1"' _ "$out"
else
    skip "image config validation: no binary at $BINARY"
fi

# --- build context ---------------------------------------------------------------------------------
IGNORE=$ROOT/.containerignore
verdict ".containerignore exists" test -f "$IGNORE"
for pattern in .build demo-data Benchmarks/.build .git; do
    verdict ".containerignore excludes $pattern" grep -qx -- "$pattern" "$IGNORE"
done
verdict ".dockerignore is identical to .containerignore" cmp -s "$IGNORE" "$ROOT/.dockerignore"
ignored() { # PATH: excluded by a plain pattern of .containerignore (prefix match, no globs)
    local p
    while IFS= read -r p; do
        [[ -z $p || $p == \#* || $p == *\** ]] && continue
        [[ $1 == "$p" || $1 == "$p"/* ]] && return 0
    done <"$IGNORE"
    return 1
}
for i in "${!INSTR[@]}"; do
    [[ ${INSTR[i]%% *} == COPY ]] || continue
    args=${INSTR[i]#COPY }
    [[ $args == --from=* ]] && continue
    read -r -a words <<<"$args"
    for src in "${words[@]:0:${#words[@]}-1}"; do
        [[ $src == --* ]] && continue
        # shellcheck disable=SC2206 # the glob is meant to expand
        matches=($ROOT/$src)
        if [[ ! -e ${matches[0]} ]]; then
            fail "COPY source exists in the context: $src"
        elif ignored "$src"; then
            fail "COPY source not excluded by .containerignore: $src"
        else
            pass "COPY source exists and is in the context: $src"
        fi
    done
done

printf '%d passed, %d failed\n' "$passed" "$failed"
((failed == 0))

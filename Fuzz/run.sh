#!/usr/bin/env bash
# Builds the libFuzzer targets (release, -sanitize=fuzzer,address) into Fuzz/.build and runs each
# for a fixed number of inputs, starting from a temporary copy of its committed corpus
# (Fuzz/Corpus/<target>/), so runs never grow the repository. Prints one line per target and
# exits non-zero if any target found a crash, a hang or a sanitizer report; the input that did it
# is kept under Fuzz/.build/fuzz-artifacts/<target>/ with the full log beside it.
#
#   bash Fuzz/run.sh                 # every target (what `make fuzz` runs)
#   bash Fuzz/run.sh cri kv          # some targets
#   FUZZ_RUNS=1000000 bash Fuzz/run.sh json     # more inputs (default: per target, below)
#   FUZZ_JOBS=1 nice -n 19 bash Fuzz/run.sh     # a gentler build on a shared machine
#   FUZZ_SEED=1 bash Fuzz/run.sh     # a fixed libFuzzer seed (default: a new one per run)
#   Fuzz/.build/release/FuzzCRI Fuzz/.build/fuzz-artifacts/cri/crash-…   # replay one input
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
scratch="$here/.build"
artifacts="$scratch/fuzz-artifacts"

# name  executable  inputs  max_len. The inputs are chosen so each target runs for about half a
# minute on this project's 2-core machine (about 6 minutes for all; see Fuzz/README.md).
targets=(
    "json            FuzzJSON                  170000  4096"
    "json-processor  FuzzJSONProcessor         130000  4096"
    "cri             FuzzCRI                    25000  4096"
    "logfmt          FuzzLogfmt                120000  4096"
    "kv              FuzzKV                    120000  4096"
    "csv             FuzzCSV                    70000  4096"
    "redact          FuzzRedact                 80000  4096"
    "config          FuzzConfig                 45000 16384"
    "es-response     FuzzElasticsearchResponse  30000  4096"
    "hec-response    FuzzHECResponse           100000  4096"
    "loki-response   FuzzLokiResponse          400000  4096"
    "encoders        FuzzEncoders               60000  4096"
)
timeout_seconds=10

selected=("$@")
wanted() {
    [ ${#selected[@]} -eq 0 ] && return 0
    local s
    for s in "${selected[@]}"; do [ "$s" = "$1" ] && return 0; done
    return 1
}
for s in "${selected[@]}"; do
    printf '%s\n' "${targets[@]}" | awk '{print $1}' | grep -qx -- "$s" || { echo "unknown fuzz target: $s" >&2; exit 2; }
done

# Coverage and address-sanitizer instrumentation go to every Swift module (-Xswiftc), so the
# product modules are instrumented where the fuzzer needs them. -enable-testing lets the sink
# targets reach the sinks' internal response readers; -assert-config Debug keeps the standard
# library's bounds checks on unsafe buffers (off in plain release builds), so a parser reading
# past its input stops here even where the sanitizer cannot see it (inside a larger array).
build=(swift build -c release --scratch-path "$scratch" --package-path "$here"
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing -Xswiftc -assert-config -Xswiftc Debug -Xswiftc -g)
[ -n "${FUZZ_JOBS:-}" ] && build+=(-j "$FUZZ_JOBS")
echo "building: ${build[*]}"
start=$(date +%s)
"${build[@]}"
echo "build: $(( $(date +%s) - start )) s"

bin="$("${build[@]}" --show-bin-path)"
work="$(mktemp -d "${TMPDIR:-/tmp}/logbridge-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# No Swift backtracer (it gets in the sanitizer's way) and the same Dictionary order every run,
# so a saved input replays the way it failed.
export SWIFT_BACKTRACE=enable=off SWIFT_DETERMINISTIC_HASHING=1

failed=0
printf '%-15s %10s %9s %8s  %s\n' target runs exec/s corpus result
for line in "${targets[@]}"; do
    read -r name executable runs max_len <<<"$line"
    wanted "$name" || continue
    runs="${FUZZ_RUNS:-$runs}"
    corpus="$work/$name"
    mkdir -p "$corpus" "$artifacts/$name"
    cp "$here/Corpus/$name/"* "$corpus/"
    log="$artifacts/$name/last-run.log"
    args=(-runs="$runs" -max_len="$max_len" -timeout="$timeout_seconds" -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/$name/")
    [ -n "${FUZZ_SEED:-}" ] && args+=(-seed="$FUZZ_SEED")
    set +e
    "$bin/$executable" "${args[@]}" "$corpus" >"$log" 2>&1
    status=$?
    set -e
    executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    size=$(find "$corpus" -type f | wc -l)
    if [ "$status" -eq 0 ]; then
        result=ok
    else
        failed=1
        # The most specific cause in the log: a broken property, a Swift trap, a sanitizer, then libFuzzer's own.
        kind=""
        for pattern in 'fuzz property violated' 'Fatal error: .{0,60}' 'Swift runtime failure: [a-zA-Z ]+' \
            'ERROR: (Address|Leak)Sanitizer: [a-zA-Z -]+' 'ERROR: libFuzzer: [a-zA-Z -]+'; do
            kind=$(grep -oE -m1 "$pattern" "$log" | head -1 || true)
            [ -n "$kind" ] && break
        done
        artifact=$(sed -n "s/.*Test unit written to //p" "$log" | tail -1 || true)
        result="FAILED (${kind:-exit $status}) ${artifact:-}; log: $log"
    fi
    printf '%-15s %10s %9s %8s  %s\n' "$name" "${executed:--}" "${speed:--}" "$size" "$result"
    if [ "$status" -ne 0 ]; then
        { grep -E 'fuzz property violated|ERROR: |SUMMARY: |Fatal error|#[0-9]+ 0x[0-9a-f]+ in ' "$log" || true; } | head -15 | cut -c1-400 | sed 's/^/    /' || true
    fi
done
exit "$failed"

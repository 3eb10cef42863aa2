#!/usr/bin/env bash
# Builds the libFuzzer targets (--sanitize=fuzzer --sanitize=address, in .build-fuzz) and
# runs each for RUNS iterations (default 100000) from its seed corpus in Tests/Fuzz/Corpus:
#   FuzzRESPDecoder  the RESP2/RESP3 decoder, whole and split at random points
#   FuzzCommandLine  the command-line splitter, and quoting its words back
#   FuzzSentinelURL  the redis+sentinel:// URL parser
#   FuzzRenderer     random RESP3 values rendered in every output mode
# Exits 1 on any crash, sanitizer report or failed property, and keeps the input.
#
#   scripts/fuzz.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-100000}
targets=(FuzzRESPDecoder FuzzCommandLine FuzzSentinelURL FuzzRenderer)
export SENTINEL_REPL_FUZZ=1
# Swift's own crash backtracer, run under ASan, buries the failure under a false ASan
# report of its own; libFuzzer's handler prints the stack instead.
export SWIFT_BACKTRACE=enable=no
# SwiftPM's --sanitize=fuzzer links libFuzzer but leaves Swift code without coverage
# counters: without them libFuzzer mutates blind. The counters are asked for by name.
coverage=(-Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp)
build_log=$(mktemp "${TMPDIR:-/tmp}/sentinel-repl-fuzz-build.XXXXXX")
for target in "${targets[@]}"; do
    # Quiet unless it fails: then what the compiler said (swift build prints its errors on stdout).
    if ! swift build --scratch-path .build-fuzz --sanitize=fuzzer --sanitize=address "${coverage[@]}" --product "$target" >"$build_log" 2>&1; then
        echo "fuzz: building $target failed:" >&2
        grep -v 'Cannot export local symbol' "$build_log" | tail -40 >&2
        rm -f "$build_log"
        exit 1
    fi
done
rm -f "$build_log"
# What failed, where, and the input that did it; not the shadow-memory dump.
failure_report() {
    grep -m1 -E 'Precondition failed|Fatal error|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|deadly signal' "$1" || true
    grep -E '^ *#[0-9]+ ' "$1" | grep -v -E ' in (fuzzer::|__sanitizer|__asan|__interceptor|_start|__libc)' | head -12 || true
    grep -E '^(SUMMARY|artifact_prefix|Base64):' "$1" | cut -c1-400 || true
}
work=$(mktemp -d "${TMPDIR:-/tmp}/sentinel-repl-fuzz.XXXXXX")
status=0
for target in "${targets[@]}"; do
    corpus=$work/$target
    mkdir -p "$corpus"
    cp Tests/Fuzz/Corpus/"$target"/* "$corpus"/
    started=$SECONDS
    if .build-fuzz/debug/"$target" -runs="$runs" -max_len=4096 -artifact_prefix="$work/$target-" \
        "$corpus" >"$work/$target.log" 2>&1; then
        echo "fuzz: $target: $runs runs, no crash in $((SECONDS - started)) s; $(grep -o 'cov: [0-9]*' "$work/$target.log" | tail -1) edges, $(ls "$corpus" | wc -l) inputs in the corpus"
    else
        status=1
        echo "fuzz: $target FAILED; log and input in $work:" >&2
        failure_report "$work/$target.log" >&2
    fi
done
((status == 0)) && rm -rf "$work"
exit $status

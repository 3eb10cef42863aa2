#!/usr/bin/env bash
# Runs the tests (unit and end to end; the end-to-end ones drive the sanitized
# sentinel-repl binary too) under ThreadSanitizer or AddressSanitizer, in their own
# build folder. Extra arguments go to swift test (--filter ...).
#
#   scripts/sanitize.sh thread|address [swift test options]
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-}
[[ $kind == thread || $kind == address ]] || { echo "usage: $0 thread|address [swift test options]" >&2; exit 2; }
shift
scripts/install-deps.sh
swift build --build-tests --scratch-path ".build-$kind" --sanitize="$kind"
# A report fails the run (TSan exits 66 by default, ASan aborts). The suppressions are
# explained in their file; matching one prints nothing (the end-to-end tests read stderr).
export TSAN_OPTIONS="halt_on_error=1 print_suppressions=0 suppressions=$PWD/scripts/tsan-suppressions.txt ${TSAN_OPTIONS:-}"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
# Sanitized code runs several times slower (2,000,000 piped lines take about 4 minutes
# under TSan): the suites' time limits are multiplied by this.
export SENTINEL_REPL_TEST_SLOWDOWN=${SENTINEL_REPL_TEST_SLOWDOWN:-4}
swift test --skip-build --scratch-path ".build-$kind" --sanitize="$kind" --no-parallel "$@"

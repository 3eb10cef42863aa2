#!/usr/bin/env bash
# Benchmarks sentinel-repl beside redis-cli on a throwaway loopback topology and
# writes bench/RESULTS.md. Not a test; see bench/bench.py for what is measured.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
[[ -x /usr/bin/time ]] || apt-get install -y time  # GNU time, for peak RSS
bins=$(mktemp -d)
trap 'rm -rf "$bins"' EXIT
SENTINEL_REPL_DYNAMIC_BIN=${SENTINEL_REPL_DYNAMIC_BIN:-}
SENTINEL_REPL_SIZES=${SENTINEL_REPL_SIZES:-}
if [[ -z ${SENTINEL_REPL_BIN:-} ]]; then
    # The plain release build (Swift runtime as shared libraries), kept aside ...
    swift build -c release --product sentinel-repl
    cp .build/release/sentinel-repl "$bins/sentinel-repl-dynamic"
    SENTINEL_REPL_DYNAMIC_BIN=$bins/sentinel-repl-dynamic
    # ... then the one scripts/install.sh installs: the Swift runtime linked in, stripped.
    swift build -c release --product sentinel-repl --static-swift-stdlib
    install -s .build/release/sentinel-repl "$bins/sentinel-repl"
    SENTINEL_REPL_BIN=$bins/sentinel-repl
    SENTINEL_REPL_SIZES="Installed binary: $(($(stat -c %s "$SENTINEL_REPL_BIN") / 1048576)) MiB stripped ($(($(stat -c %s .build/release/sentinel-repl) / 1048576)) MiB before)."
fi
VALGRIND=$(bench/valgrind.sh) || VALGRIND=""  # instructions are left out without it
env_file=$(mktemp)
scripts/topology.sh start --owner $$ >"$env_file"
# shellcheck disable=SC1090
source "$env_file"
rm -f "$env_file"
trap 'scripts/topology.sh stop "$TOPOLOGY_DIR"; rm -rf "$bins"' EXIT
export SENTINEL_REPL_BIN SENTINEL_REPL_DYNAMIC_BIN SENTINEL_REPL_SIZES VALGRIND MASTER_NAME MASTER_PORT SENTINEL_PORTS TOPOLOGY_DIR
python3 bench/bench.py bench/RESULTS.md

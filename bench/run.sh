#!/usr/bin/env bash
# Benchmarks sentinel-repl beside redis-cli on a throwaway loopback topology and
# writes bench/RESULTS.md. Not a test; see bench/bench.py for what is measured.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
[[ -x /usr/bin/time ]] || apt-get install -y time  # GNU time, for peak RSS
if [[ -z ${SENTINEL_REPL_BIN:-} ]]; then
    # The Swift runtime linked in: no dynamic loading of libswiftCore and friends at start.
    swift build -c release --product sentinel-repl --static-swift-stdlib
    SENTINEL_REPL_BIN=$PWD/.build/release/sentinel-repl
fi
env_file=$(mktemp)
scripts/topology.sh start --owner $$ >"$env_file"
# shellcheck disable=SC1090
source "$env_file"
rm -f "$env_file"
trap 'scripts/topology.sh stop "$TOPOLOGY_DIR"' EXIT
export SENTINEL_REPL_BIN MASTER_NAME MASTER_PORT SENTINEL_PORTS
python3 bench/bench.py bench/RESULTS.md

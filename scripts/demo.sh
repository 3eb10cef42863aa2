#!/usr/bin/env bash
# Sets everything up and opens the REPL on a throwaway loopback topology
# (1 master, 2 replicas, 3 sentinels); the topology is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
bin=${SENTINEL_REPL_BIN:-}
if [[ -z $bin ]]; then
    swift build --product sentinel-repl
    bin=.build/debug/sentinel-repl
fi
env_file=$(mktemp)
scripts/topology.sh start --owner $$ "$@" >"$env_file"
# shellcheck disable=SC1090
source "$env_file"
rm -f "$env_file"
trap 'scripts/topology.sh stop "$TOPOLOGY_DIR"' EXIT
args=()
for port in ${SENTINEL_PORTS//,/ }; do args+=(-s "127.0.0.1:$port"); done
echo "topology: dir $TOPOLOGY_DIR" >&2
echo "topology: master 127.0.0.1:$MASTER_PORT, replicas $REPLICA_PORTS, sentinels $SENTINEL_PORTS" >&2
echo "try: SENTINEL FAILOVER from another terminal: redis-cli -p ${SENTINEL_PORTS%%,*} SENTINEL FAILOVER $MASTER_NAME" >&2
status=0
"$bin" "${args[@]}" "$MASTER_NAME" || status=$?
exit $status

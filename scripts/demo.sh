#!/usr/bin/env bash
# Sets everything up and opens the REPL on a throwaway loopback topology
# (1 master, 2 replicas, 3 sentinels); the topology is removed on exit. Options go to
# scripts/topology.sh start: --tls, --address ipv6|hostname, --data-pass P, ...
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
host=$HOST
[[ $host == *:* ]] && host="[$host]"
args=() cli_tls=""
for port in ${SENTINEL_PORTS//,/ }; do args+=(-s "$host:$port"); done
if [[ -n $TLS_DIR ]]; then
    args+=(--tls --sentinel-tls --cacert "$TLS_DIR/ca.crt")
    cli_tls=" --tls --cacert $TLS_DIR/ca.crt"
fi
echo "topology: dir $TOPOLOGY_DIR" >&2
echo "topology: master $host:$MASTER_PORT, replicas $REPLICA_PORTS, sentinels $SENTINEL_PORTS" >&2
echo "try: SENTINEL FAILOVER from another terminal: redis-cli -h $HOST -p ${SENTINEL_PORTS%%,*}$cli_tls SENTINEL FAILOVER $MASTER_NAME" >&2
status=0
"$bin" "${args[@]}" "$MASTER_NAME" || status=$?
exit $status

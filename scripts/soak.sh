#!/usr/bin/env bash
# Resource stability: one piped sentinel-repl session on a throwaway topology through
# RECONNECTS forced reconnects (CLIENT KILL of its connections) and FAILOVERS Sentinel
# failovers, with INCR lines flowing all along. Prints open descriptors, threads and RSS
# of the REPL at the start, the middle and the end; exits 1 when descriptors grew from the
# middle to the end (or by more than the pool from the start), when threads are more than
# at the start once idle (transient dispatch workers end by themselves), when a line
# got no output line, or when the counter contradicts the replies.
#
#   scripts/soak.sh [RECONNECTS] [FAILOVERS]     (default 200 and 50)
set -euo pipefail
cd "$(dirname "$0")/.."
reconnects=${1:-200}
failovers=${2:-50}
bin=${SENTINEL_REPL_BIN:-.build/debug/sentinel-repl}
[[ -x $bin ]] || swift build --product sentinel-repl >/dev/null

env_file=$(mktemp)
scripts/topology.sh start --owner $$ --down-after 1000 --failover-timeout 2000 >"$env_file"
# shellcheck disable=SC1090
source "$env_file"
rm -f "$env_file"
work=$(mktemp -d "${TMPDIR:-/tmp}/sentinel-repl-soak.XXXXXX")
repl=""
cleanup() {
    exec 3>&- || true
    [[ -n $repl ]] && kill "$repl" 2>/dev/null || true
    scripts/topology.sh stop "$TOPOLOGY_DIR"
    rm -rf "$work"
}
trap cleanup EXIT

cli() { redis-cli -h 127.0.0.1 -p "$1" "${@:2}"; }
sentinel=${SENTINEL_PORTS%%,*}
master_port() { cli "$sentinel" SENTINEL get-master-addr-by-name "$MASTER_NAME" | tail -1; }

mkfifo "$work/in"
args=()
for port in ${SENTINEL_PORTS//,/ }; do args+=(-s "127.0.0.1:$port"); done
"$bin" "${args[@]}" "$MASTER_NAME" <"$work/in" >"$work/out" 2>"$work/err" &
repl=$!
exec 3>"$work/in"
sent=0
send_incr() { # a REPL that died ends the soak here, with its stderr
    kill -0 "$repl" 2>/dev/null || { echo "soak: the REPL exited early:" >&2; cat "$work/err" >&2; exit 1; }
    echo "INCR soak" >&3
    sent=$((sent + 1))
}

measure() { # measure LABEL: the REPL's descriptors, threads and RSS
    local fds threads rss
    fds=$(ls "/proc/$repl/fd" | wc -l)
    threads=$(awk '/^Threads:/ {print $2}' "/proc/$repl/status")
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$repl/status")
    printf 'soak: %-6s fds %3d  threads %2d  rss %6d kB  (lines sent %d)\n' "$1" "$fds" "$threads" "$rss" "$sent"
    eval "${1}_fds=$fds ${1}_threads=$threads ${1}_rss=$rss"
}

reconnect_once() { # kills every connection of the REPL on the master (it names them sentinel-repl)
    local port id
    port=$(master_port)
    for id in $(cli "$port" CLIENT LIST | awk '/ name=sentinel-repl / {sub("id=", "", $1); print $1}'); do
        cli "$port" CLIENT KILL ID "$id" >/dev/null || true
    done
    send_incr
    sleep 0.05
    send_incr
}

failover_once() { # SENTINEL FAILOVER, then wait until the sentinels name the new master and it ended
    local before deadline
    before=$(master_port)
    deadline=$((SECONDS + 30))
    until cli "$sentinel" SENTINEL FAILOVER "$MASTER_NAME" | grep -q OK; do
        ((SECONDS < deadline)) || { echo "soak: Sentinel refused a failover for 30 s" >&2; exit 1; }
        send_incr
        sleep 0.2
    done
    while [[ $(master_port) == "$before" ]] || cli "$sentinel" SENTINEL master "$MASTER_NAME" | grep -q failover_in_progress; do
        ((SECONDS < deadline)) || { echo "soak: a failover did not end within 30 s" >&2; exit 1; }
        send_incr
        sleep 0.1
    done
    send_incr
}

for _ in $(seq 20); do send_incr; sleep 0.05; done
sleep 1
measure start
for i in $(seq "$reconnects"); do
    reconnect_once
    ((i == reconnects / 2)) && measure middle_reconnects
done
for i in $(seq "$failovers"); do
    failover_once
    ((i == failovers / 2)) && measure middle
done
sleep 1
measure end
# libdispatch starts worker threads under load and ends them after some idle seconds: a
# thread that is still there after 10 idle seconds is one the REPL keeps.
for _ in $(seq 20); do
    ((end_threads <= start_threads)) && break
    sleep 0.5
    idle_threads=$(awk '/^Threads:/ {print $2}' "/proc/$repl/status")
    ((idle_threads < end_threads)) && end_threads=$idle_threads
done
exec 3>&-
status=0
wait "$repl" || status=$?
repl=""
lines=$(wc -l <"$work/out")
acknowledged=$(grep -cx '[0-9]\+' "$work/out" || true)
in_doubt=$(grep -c 'may or may not have run' "$work/out" || true)
counter=$(cli "$(master_port)" GET soak || true)
[[ $counter =~ ^[0-9]+$ ]] || { echo "soak: GET soak on the master gave '$counter'" >&2; exit 1; }
echo "soak: $reconnects reconnects, $failovers failovers; $sent lines, $lines output lines, $acknowledged acknowledged, $in_doubt in doubt, counter $counter; exit $status"
failed=0
((lines == sent)) || { echo "soak: $sent lines sent but $lines output lines" >&2; failed=1; }
((acknowledged <= counter && counter <= acknowledged + in_doubt)) || { echo "soak: counter $counter outside [$acknowledged, $((acknowledged + in_doubt))]" >&2; failed=1; }
# Flat: after the first failovers (new masters, learned sentinels, a fuller pool) nothing
# grows per cycle; the pool holds at most 4 connections.
((end_fds <= middle_fds + 2 && end_fds <= start_fds + 6)) || {
    echo "soak: open descriptors grew: $start_fds, $middle_fds, $end_fds" >&2
    failed=1
}
((end_threads <= start_threads)) || { echo "soak: threads grew from $start_threads to $end_threads (after 10 idle seconds)" >&2; failed=1; }
[[ -s $work/err ]] && { echo "soak: stderr of the REPL:" >&2; head -5 "$work/err" >&2; }
exit $failed

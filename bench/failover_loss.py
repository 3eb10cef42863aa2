#!/usr/bin/env python3
"""Acknowledged writes lost across one SENTINEL FAILOVER, sentinel-repl beside redis-py.

Each run starts a fresh loopback topology (scripts/topology.sh), sends INCR at a fixed
rate for DURATION seconds, asks a sentinel for a failover after FAILOVER_AT seconds,
then reads the counter on the master Sentinel names at the end:
  lines sent; A acknowledged (an integer reply), D in doubt or failed, F the new master's counter;
  lost = A - F when positive (acknowledged increments the new master does not have);
  silence = the longest time between two replies.
A control run per client first asks for no failover: its longest silence is that client's
(and this script's) own jitter, the floor under any failover run's figure.
Not a test: it prints a table and writes bench/FAILOVER.md, it asserts nothing.

  bench/failover_loss.py [RUNS]        env: SENTINEL_REPL_BIN, RATE (2000), DURATION (12),
                                            CONTROL (1 control run per client; 0 for none), CLIENTS,
                                            FAILOVER, SENTINEL_REPL_SERVER (redis or valkey)
How the failover is asked (FAILOVER): `sentinel` (the default, a plain SENTINEL FAILOVER),
`coordinated` (SENTINEL FAILOVER <name> COORDINATED, Valkey 9), or `tool` (sentinel-repl
--failover --yes: the coordinated failover every client should survive). The table goes to
bench/FAILOVER.md for the default, else bench/FAILOVER-<mode>-<server>.md.
"""
import os
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPL = os.environ.get("SENTINEL_REPL_BIN", os.path.join(ROOT, ".build/debug/sentinel-repl"))
RATE = int(os.environ.get("RATE", "2000"))
DURATION = float(os.environ.get("DURATION", "12"))
FAILOVER_AT = 3.0
MODE = os.environ.get("FAILOVER", "sentinel")
SERVER = os.environ.get("SENTINEL_REPL_SERVER", "redis")
TOOL_SUMMARIES = []


def topology():
    out = subprocess.run([os.path.join(ROOT, "scripts/topology.sh"), "start", "--owner", str(os.getpid())],
                         capture_output=True, text=True, check=True).stdout
    env = dict(line.split("=", 1) for line in out.split("\n") if "=" in line)
    return env


def stop(env):
    subprocess.run([os.path.join(ROOT, "scripts/topology.sh"), "stop", env["TOPOLOGY_DIR"]], capture_output=True)


def cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True).stdout.strip()


def counter_on_master(env):
    sentinel = env["SENTINEL_PORTS"].split(",")[0]
    host, port = cli(sentinel, "SENTINEL", "get-master-addr-by-name", env["MASTER_NAME"]).split("\n")
    return int(cli(port, "GET", "counter") or 0), int(port)


def paced(send, stop_at):
    """Calls send() RATE times a second until stop_at (monotonic); returns how many times."""
    interval = 1.0 / RATE
    next_at = time.monotonic()
    sent = 0
    while time.monotonic() < stop_at:
        send()
        sent += 1
        next_at += interval
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    return sent


def failover_later(env, started):
    if env.get("CONTROL"):
        return
    time.sleep(max(0, started + FAILOVER_AT - time.monotonic()))
    sentinel = env["SENTINEL_PORTS"].split(",")[0]
    if MODE == "tool":
        done = subprocess.run([REPL, "-s", f"127.0.0.1:{sentinel}", "--failover", "--yes", env["MASTER_NAME"]],
                              capture_output=True, text=True)
        TOOL_SUMMARIES.append((done.stdout.strip().split("\n")[-1:] or [""])[0] + done.stderr.strip())
    elif MODE == "coordinated":
        cli(sentinel, "SENTINEL", "FAILOVER", env["MASTER_NAME"], "COORDINATED")
    else:
        cli(sentinel, "SENTINEL", "FAILOVER", env["MASTER_NAME"])


def run_repl(env):
    args = [REPL] + sum((["-s", f"127.0.0.1:{p}"] for p in env["SENTINEL_PORTS"].split(",")), []) + [env["MASTER_NAME"]]
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
    replies = []

    def read():
        for line in proc.stdout:
            replies.append((time.monotonic(), line.decode(errors="replace").strip()))

    reader = threading.Thread(target=read)
    reader.start()
    started = time.monotonic()
    threading.Thread(target=failover_later, args=(env, started)).start()
    sent = paced(lambda: proc.stdin.write(b"INCR counter\n"), started + DURATION)
    proc.stdin.close()
    proc.wait()
    reader.join()
    acknowledged = sum(1 for _, line in replies if line.lstrip("-").isdigit())
    return sent, acknowledged, len(replies) - acknowledged, [t for t, _ in replies]


def run_redis_py(env):
    from redis.sentinel import Sentinel
    sentinels = [("127.0.0.1", int(p)) for p in env["SENTINEL_PORTS"].split(",")]
    master = Sentinel(sentinels, socket_timeout=0.5).master_for(env["MASTER_NAME"], socket_timeout=0.5)
    counts = {"acknowledged": 0, "other": 0}
    times = []

    def send():
        try:
            master.incr("counter")
            counts["acknowledged"] += 1
        except Exception:
            counts["other"] += 1
        times.append(time.monotonic())

    started = time.monotonic()
    threading.Thread(target=failover_later, args=(env, started)).start()
    sent = paced(send, started + DURATION)
    return sent, counts["acknowledged"], counts["other"], times


def measure(client, control=False):
    env = topology()
    if control:
        env["CONTROL"] = "1"
    try:
        sent, acknowledged, other, times = client(env)
        time.sleep(7)  # let Sentinel finish turning the old master into a replica
        counter, port = counter_on_master(env)
        moved = port != int(env["MASTER_PORT"])
        silence = max((b - a for a, b in zip(times, times[1:])), default=0)
        return dict(lines=sent, unanswered=sent - acknowledged - other, A=acknowledged, D=other, F=counter, lost=max(0, acknowledged - counter), silence=silence, moved=moved)
    finally:
        stop(env)


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    try:
        import redis  # noqa: F401
        clients = [("sentinel-repl", run_repl), ("redis-py", run_redis_py)]
    except ImportError:
        print("redis-py is not installed (pip install redis): measuring sentinel-repl alone", file=sys.stderr)
        clients = [("sentinel-repl", run_repl)]
    only = os.environ.get("CLIENTS")
    if only:
        clients = [c for c in clients if c[0] in only.split(",")]
    rows = []
    for _ in range(int(os.environ.get("CONTROL", "1"))):
        for name, client in clients:
            result = measure(client, control=True)
            rows.append(("control", name, result))
            print(f"control {name}: {result}", flush=True)
    for run in range(1, runs + 1):
        for name, client in clients:
            result = measure(client)
            rows.append((run, name, result))
            print(f"run {run} {name}: {result}", flush=True)
    asked = {"sentinel": "SENTINEL FAILOVER", "coordinated": "SENTINEL FAILOVER ... COORDINATED",
             "tool": "sentinel-repl --failover --yes"}[MODE]
    lines = [
        f"# Acknowledged writes lost across {asked} ({SERVER})",
        "",
        f"`FAILOVER={MODE} SENTINEL_REPL_SERVER={SERVER} bench/failover_loss.py {runs}`: INCR at {RATE}/s for {DURATION:g} s, failover asked at {FAILOVER_AT:g} s.",
        "lines sent, unanswered = lines - A - D (0: every line got one reply or one failure),",
        "A acknowledged, D in doubt or failed, F the new master's counter, lost = A - F (when positive).",
        "A control run asks for no failover: its longest silence is the client's own jitter (pacing, scheduling, this script's threads).",
        "",
        "| run | client | lines | unanswered | A | D | F | lost | longest silence | master moved |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    if MODE == "sentinel":
        lines[-2:-2] = [
            "sentinel-repl holds new commands from `+selected-slave` until ROLE on the selected replica says master (one Sentinel timer tick, 50 to 100 ms): that hold is its longest silence. redis-py's silence is short because it never pauses: it keeps writing to the old master, whose writes are discarded when Sentinel demotes it (its `lost`). It learns of the switch only when Sentinel reconfigures the old master, some 16 s after the failover is asked: after a 12 s run ends (`DURATION=40` shows it: one failed INCR, then it goes on on the new master).",
            "",
        ]
    for run, name, r in rows:
        lines.append(f"| {run} | {name} | {r['lines']} | {r['unanswered']} | {r['A']} | {r['D']} | {r['F']} | {r['lost']} | {r['silence'] * 1000:.0f} ms | {r['moved']} |")
    if TOOL_SUMMARIES:
        lines += ["", "sentinel-repl --failover's own summary, run by run:", ""] + [f"- {s}" for s in TOOL_SUMMARIES]
    name = "FAILOVER.md" if MODE == "sentinel" and SERVER == "redis" else f"FAILOVER-{MODE}-{SERVER}.md"
    with open(os.path.join(ROOT, "bench", name), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

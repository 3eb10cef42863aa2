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
                                            FAILOVER, SENTINEL_REPL_SERVER (redis or valkey),
                                            SOCKET_TIMEOUT (redis-py's, 0.5 s)
How the failover is asked (FAILOVER): `sentinel` (the default, a plain SENTINEL FAILOVER),
`coordinated` (SENTINEL FAILOVER <name> COORDINATED, Valkey 9), or `tool` (sentinel-repl
--failover --yes: the coordinated failover every client should survive); a comma list runs
each in turn within every run, side by side. The table goes to bench/FAILOVER.md for the
default, bench/FAILOVER-<mode>-<server>.md for another mode, bench/FAILOVER-compare-<server>.md
for a list.
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
MODES = os.environ.get("FAILOVER", "sentinel").split(",")
SERVER = os.environ.get("SENTINEL_REPL_SERVER", "redis")
SOCKET_TIMEOUT = float(os.environ.get("SOCKET_TIMEOUT", "0.5"))
ASKED = {"sentinel": "SENTINEL FAILOVER", "coordinated": "SENTINEL FAILOVER ... COORDINATED",
         "tool": "sentinel-repl --failover --yes"}
TOOL_SUMMARIES = []
OTHER_REPLIES = {}  # (mode, a sentinel-repl reply that is not an integer) -> how many


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
    mode = env["MODE"]
    if mode == "tool":
        done = subprocess.run([REPL, "-s", f"127.0.0.1:{sentinel}", "--failover", "--yes", env["MASTER_NAME"]],
                              capture_output=True, text=True)
        TOOL_SUMMARIES.append((done.stdout.strip().split("\n")[-1:] or [""])[0] + done.stderr.strip())
    elif mode == "coordinated":
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
    for _, line in replies:
        if not line.lstrip("-").isdigit():
            OTHER_REPLIES[(env["MODE"], line)] = OTHER_REPLIES.get((env["MODE"], line), 0) + 1
    return sent, acknowledged, len(replies) - acknowledged, [t for t, _ in replies]


def run_redis_py(env):
    from redis.sentinel import Sentinel
    sentinels = [("127.0.0.1", int(p)) for p in env["SENTINEL_PORTS"].split(",")]
    master = Sentinel(sentinels, socket_timeout=SOCKET_TIMEOUT).master_for(env["MASTER_NAME"], socket_timeout=SOCKET_TIMEOUT)
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


def measure(client, mode, control=False):
    env = topology()
    env["MODE"] = mode
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


def spread(values, unit=""):
    values = sorted(values)
    return f"{values[0]}{unit} / {values[len(values) // 2]}{unit} / {values[-1]}{unit}"


def summary(rows):
    """Per failover mode and client: runs without a lost write, failed writes and longest silence (min / median / max)."""
    lines = ["| failover | client | runs | runs with 0 lost | lost (total) | failed: min / median / max | longest silence: min / median / max |",
             "|---|---|---|---|---|---|---|"]
    for mode in MODES:
        for name in dict.fromkeys(r[2] for r in rows):
            results = [r[3] for r in rows if r[0] != "control" and r[1] == mode and r[2] == name]
            if not results:
                continue
            silences = [round(r["silence"] * 1000) for r in results]
            lines.append(f"| {ASKED[mode]} | {name} | {len(results)} | {sum(r['lost'] == 0 for r in results)} | {sum(r['lost'] for r in results)} | "
                         f"{spread([r['D'] for r in results])} | {spread(silences, ' ms')} |")
    return lines


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
            result = measure(client, MODES[0], control=True)
            rows.append(("control", "none", name, result))
            print(f"control {name}: {result}", flush=True)
    for run in range(1, runs + 1):
        for mode in MODES:
            for name, client in clients:
                result = measure(client, mode)
                rows.append((run, mode, name, result))
                print(f"run {run} {mode} {name}: {result}", flush=True)
    asked = " beside ".join(ASKED[mode] for mode in MODES)
    lines = [
        f"# Acknowledged writes lost across {asked} ({SERVER})",
        "",
        f"`FAILOVER={','.join(MODES)} SENTINEL_REPL_SERVER={SERVER} bench/failover_loss.py {runs}`: INCR at {RATE}/s for {DURATION:g} s, failover asked at {FAILOVER_AT:g} s; redis-py's socket_timeout {SOCKET_TIMEOUT:g} s.",
        "lines sent, unanswered = lines - A - D (0: every line got one reply or one failure),",
        "A acknowledged, D in doubt or failed, F the new master's counter, lost = A - F (when positive).",
        "longest silence: the longest time between two replies (for redis-py, a write that waited, plus the pacing).",
        "A control run asks for no failover: its longest silence is the client's own jitter (pacing, scheduling, this script's threads).",
        "",
    ]
    if len(MODES) > 1:
        lines += summary(rows) + [""]
    lines += ["| run | failover | client | lines | unanswered | A | D | F | lost | longest silence | master moved |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    if MODES == ["sentinel"]:
        lines[-2:-2] = [
            "sentinel-repl holds new commands from `+selected-slave` until ROLE on the selected replica says master (one Sentinel timer tick, 50 to 100 ms): that hold is its longest silence. redis-py's silence is short because it never pauses: it keeps writing to the old master, whose writes are discarded when Sentinel demotes it (its `lost`). It learns of the switch only when Sentinel reconfigures the old master, some 16 s after the failover is asked: after a 12 s run ends (`DURATION=40` shows it: one failed INCR, then it goes on on the new master).",
            "",
        ]
    for run, mode, name, r in rows:
        lines.append(f"| {run} | {mode} | {name} | {r['lines']} | {r['unanswered']} | {r['A']} | {r['D']} | {r['F']} | {r['lost']} | {r['silence'] * 1000:.0f} ms | {r['moved']} |")
    if TOOL_SUMMARIES:
        lines += ["", "sentinel-repl --failover's own summary, run by run:", ""] + [f"- {s}" for s in TOOL_SUMMARIES]
    if OTHER_REPLIES:
        lines += ["", "sentinel-repl's replies other than an integer (its D), all runs:", ""]
        lines += [f"- {mode}: {count} x `{line}`" for (mode, line), count in sorted(OTHER_REPLIES.items())]
    if len(MODES) > 1:
        name = f"FAILOVER-compare-{SERVER}.md"
    else:
        name = "FAILOVER.md" if MODES == ["sentinel"] and SERVER == "redis" else f"FAILOVER-{MODES[0]}-{SERVER}.md"
    with open(os.path.join(ROOT, "bench", name), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

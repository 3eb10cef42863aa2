#!/usr/bin/env python3
"""`sentinel-repl --pipe` beside `redis-cli --pipe`, on the same data, in the same run.

One loopback topology (scripts/topology.sh). The input is COMMANDS `SET key:i value:i` in
RESP (what redis-cli --pipe documents), written once to a file. RUNS rounds alternate the
two clients (which goes first alternates too), each after FLUSHALL on the master: wall
time, CPU (user+sys) and peak RSS from GET /usr/bin/time. Both summaries must be the same
bytes; any difference fails the run. Then callgrind counts each client's instructions
per command on CALLGRIND_COMMANDS of the input (repeatable on a noisy machine).
Not a test: it prints a table and writes bench/PIPE.md, it asserts nothing of speed.

  bench/pipe.py      env: SENTINEL_REPL_BIN, COMMANDS (1000000), RUNS (10),
                          CALLGRIND_COMMANDS (100000; 0 skips callgrind)
"""
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPL = os.environ.get("SENTINEL_REPL_BIN", os.path.join(ROOT, ".build/release/sentinel-repl"))
COMMANDS = int(os.environ.get("COMMANDS", "1000000"))
RUNS = int(os.environ.get("RUNS", "10"))
CALLGRIND_COMMANDS = int(os.environ.get("CALLGRIND_COMMANDS", "100000"))


def write_input(path, count):
    with open(path, "wb") as out:
        for i in range(count):
            key, value = b"key:%d" % i, b"value:%d" % i
            out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(value), value))


def timed(argv, input_path):
    """(stdout, wall s, cpu s, peak RSS KiB) of one run with stdin from input_path. CPU
    comes from this process's waited-for children (microseconds; GNU time's %U and %S
    step by 10 ms, and gave 0.00 s for a small input); the peak RSS from GNU time."""
    with open(input_path, "rb") as stdin, tempfile.NamedTemporaryFile("r") as times:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-o", times.name, "-f", "%M", *argv],
                              stdin=stdin, capture_output=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        rss = times.read().split()[-1]
    if proc.returncode != 0:
        sys.exit(f"{argv[0]} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return proc.stdout, wall, cpu, int(rss)


def valgrind():
    """A valgrind whose callgrind runs the Swift binary (bench/valgrind.sh: 3.19 cannot);
    "valgrind" when none could be had (the count is then left out, and the table says so)."""
    if os.environ.get("VALGRIND"):
        return os.environ["VALGRIND"]
    found = subprocess.run([os.path.join(ROOT, "bench/valgrind.sh")], capture_output=True, text=True)
    return found.stdout.strip() if found.returncode == 0 else "valgrind"


def instructions(argv, input_path):
    with open(input_path, "rb") as stdin, tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([valgrind(), "--tool=callgrind", f"--callgrind-out-file={tmp}/out",
                               "--trace-children=no", *argv], stdin=stdin, capture_output=True, text=True)
        match = re.search(r"Collected : (\d+)", proc.stderr)
        return int(match.group(1)) if match else None


def main():
    env = dict(line.split("=", 1) for line in subprocess.run(
        [os.path.join(ROOT, "scripts/topology.sh"), "start", "--owner", str(os.getpid())],
        capture_output=True, text=True, check=True).stdout.split("\n") if "=" in line)
    try:
        sentinel = env["SENTINEL_PORTS"].split(",")[0]
        master = env["MASTER_PORT"]
        repl = [REPL, "-s", f"127.0.0.1:{sentinel}", "--pipe", env["MASTER_NAME"]]
        cli = ["redis-cli", "-p", master, "--pipe"]
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "input.resp")
            write_input(data, COMMANDS)
            figures = {"repl": [], "cli": []}
            summaries = set()
            for run in range(RUNS):
                order = [("repl", repl), ("cli", cli)] if run % 2 == 0 else [("cli", cli), ("repl", repl)]
                for name, argv in order:
                    subprocess.run(["redis-cli", "-p", master, "FLUSHALL"], capture_output=True, check=True)
                    out, wall, cpu, rss = timed(argv, data)
                    summaries.add(out)
                    figures[name].append((wall, cpu, rss))
                    print(f"run {run + 1} {name}: {wall:.2f} s wall, {cpu:.2f} s CPU, {rss} KiB", flush=True)
            if len(summaries) != 1:
                sys.exit(f"the summaries differ: {summaries}")
            counts = {}
            if CALLGRIND_COMMANDS:
                small = os.path.join(tmp, "small.resp")
                write_input(small, CALLGRIND_COMMANDS)
                for name, argv in (("repl", repl), ("cli", cli)):
                    subprocess.run(["redis-cli", "-p", master, "FLUSHALL"], capture_output=True, check=True)
                    counts[name] = instructions(argv, small)
        report(figures, summaries.pop().decode(), counts)
    finally:
        subprocess.run([os.path.join(ROOT, "scripts/topology.sh"), "stop", env["TOPOLOGY_DIR"]], capture_output=True)


def spread(values, fmt):
    return f"{fmt(min(values))} / {fmt(statistics.median(values))} / {fmt(max(values))}"


def report(figures, summary, counts):
    ratios = [r[0] / c[0] for r, c in zip(figures["repl"], figures["cli"])]
    cpu_ratios = [r[1] / c[1] for r, c in zip(figures["repl"], figures["cli"])]
    seconds = lambda v: f"{v:.2f} s"
    lines = [
        "# `--pipe` beside `redis-cli --pipe`",
        "",
        f"Written by `bench/pipe.py` (`COMMANDS={COMMANDS} RUNS={RUNS}`): {COMMANDS:,} `SET key:i value:i` in RESP from a file,",
        f"{RUNS} alternating runs on one loopback topology (1 master, 2 replicas, 3 sentinels), FLUSHALL before each.",
        "Both printed the same summary in every run:",
        "",
        "```", summary.rstrip("\n"), "```",
        "",
        "| figure (min / median / max) | sentinel-repl --pipe | redis-cli --pipe | ratio (per run) |",
        "|---|---|---|---|",
        f"| wall | {spread([f[0] for f in figures['repl']], seconds)} | {spread([f[0] for f in figures['cli']], seconds)} | "
        f"{spread(ratios, lambda v: f'{v:.2f}x')} |",
        f"| CPU (user+sys) | {spread([f[1] for f in figures['repl']], seconds)} | {spread([f[1] for f in figures['cli']], seconds)} | "
        f"{spread(cpu_ratios, lambda v: f'{v:.2f}x')} |",
        f"| peak RSS | {spread([f[2] / 1024 for f in figures['repl']], lambda v: f'{v:.1f} MiB')} | "
        f"{spread([f[2] / 1024 for f in figures['cli']], lambda v: f'{v:.1f} MiB')} | |",
    ]
    if counts.get("repl") and counts.get("cli"):
        per = {k: v / CALLGRIND_COMMANDS for k, v in counts.items()}
        lines.append(f"| instructions per command (callgrind, {CALLGRIND_COMMANDS:,} commands, start-up included) | "
                     f"{per['repl']:,.0f} | {per['cli']:,.0f} | {per['repl'] / per['cli']:.2f}x |")
    elif CALLGRIND_COMMANDS:
        lines += ["", f"Instructions were not counted: callgrind gave repl={counts.get('repl')}, cli={counts.get('cli')} "
                  "(see bench/valgrind.sh). CPU time stands in for them."]
    lines += ["", "The goal (issue 21): median wall at most 1.2x redis-cli's. Wall is the server's pace on this",
              "machine (2 cores shared by the client, the master and its replication to two replicas);",
              "CPU and instructions are the client's own cost."]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(ROOT, "bench/PIPE.md"), "w") as out:
        out.write(text)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Side-by-side benchmarks of sentinel-repl and redis-cli on one loopback topology.

Called by bench/run.sh, which starts the topology and passes its ports. Writes
bench/RESULTS.md and the README's table. Times are min / median / max of rounds that
alternate the two clients; callgrind (VALGRIND) counts instructions per start-up, per
piped line and per pasted line (a run with N lines less a shorter one). Not a test: it
reports numbers and ratios, it asserts nothing.
"""
import fcntl
import glob
import os
import platform
import re
import pty
import resource
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time

REPL = os.environ["SENTINEL_REPL_BIN"]
MASTER_NAME = os.environ["MASTER_NAME"]
MASTER_PORT = int(os.environ["MASTER_PORT"])
SENTINELS = [int(p) for p in os.environ["SENTINEL_PORTS"].split(",")]
LINES = int(os.environ.get("BENCH_LINES", "100000"))
RUNS = int(os.environ.get("BENCH_RUNS", "10"))
BIG_LINES = int(os.environ.get("BENCH_BIG_LINES", "2000000"))
START_RUNS = int(os.environ.get("BENCH_START_RUNS", "30"))
CALLGRIND_LINES = int(os.environ.get("BENCH_CALLGRIND_LINES", "20000"))
PASTE_CALLGRIND_LINES = int(os.environ.get("BENCH_PASTE_CALLGRIND_LINES", "2000"))
VALGRIND = os.environ.get("VALGRIND", "valgrind")
# The plain release build (Swift runtime as shared libraries), beside the static one.
DYNAMIC_REPL = os.environ.get("SENTINEL_REPL_DYNAMIC_BIN")
SENTINEL_ARGS = sum((["-s", f"127.0.0.1:{p}"] for p in SENTINELS), [])
# The topology's processes (master, replicas, sentinels): their CPU, and the core they run on.
TOPOLOGY_PIDS = [int(open(f).read()) for f in glob.glob(os.path.join(os.environ.get("TOPOLOGY_DIR", "/nonexistent"), "*.pid"))]


def cli(*args):
    return subprocess.run(["redis-cli", "-p", str(MASTER_PORT), *args], capture_output=True, text=True).stdout.strip()


def timed(cmd, stdin_path=None):
    """Wall time, peak RSS (KiB) and CPU (user+sys s) of one run. The RSS comes from GNU
    time, whose child is forked from a small process: a child of this Python would report
    Python's own memory as its peak (Linux keeps the pre-exec high-water mark)."""
    rss_file = tempfile.NamedTemporaryFile(delete=False)
    rss_file.close()
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    # CPU from this process's waited-for children (GNU time and, through it, the command):
    # microseconds, where time's %U and %S have 10 ms steps.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    status = subprocess.call(["/usr/bin/time", "-f", "%M", "-o", rss_file.name, *cmd],
                             stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if stdin_path:
        stdin.close()
    with open(rss_file.name) as f:
        rss = f.read().split()[-1]
    os.unlink(rss_file.name)
    if status != 0:
        raise RuntimeError(f"{cmd[0]} exited {status}")
    return elapsed, int(rss), cpu


def topology_cpu():
    """CPU seconds the topology's processes have used so far, every thread (schedstat: ns)."""
    total = 0
    for pid in TOPOLOGY_PIDS:
        for stat in glob.glob(f"/proc/{pid}/task/*/schedstat"):
            with open(stat) as f:
                total += int(f.read().split()[0])
    return total / 1e9


def pin_topology(cpus):
    """Moves every thread of the topology's processes to `cpus` (pid: taskset's list form)."""
    for pid in TOPOLOGY_PIDS:
        subprocess.run(["taskset", "-a", "-p", "-c", cpus[pid], str(pid)], stdout=subprocess.DEVNULL, check=True)


def median_time(cmd, stdin_path=None, runs=RUNS):
    results = [timed(cmd, stdin_path) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


class Figures:
    """min / median / max of a list of numbers."""

    def __init__(self, values):
        self.values = sorted(values)
        self.min, self.median, self.max = self.values[0], statistics.median(self.values), self.values[-1]

    def ms(self):
        return f"{self.min * 1000:.1f} / **{self.median * 1000:.1f}** / {self.max * 1000:.1f} ms"


def rounds(runs, commands, measure=timed, before=None):
    """`runs` rounds over `commands` (name: (argv, stdin path or None)), taking turns, the
    first of each round changing; `before` runs before each command:
    {name: [measure(argv, path), ...]}."""
    results = {name: [] for name in commands}
    names = list(commands)
    for round_ in range(runs):
        for name in (names if round_ % 2 == 0 else names[::-1]):
            if before:
                before()
            argv, path = commands[name]
            results[name].append(measure(argv, path))
    return results


def alternating(commands, runs, stdin_path=None, before=None):
    """`rounds` of `commands` (name: argv), all on one stdin:
    {name: (wall Figures, cpu Figures, max RSS KiB, [wall...])}."""
    results = rounds(runs, {name: (argv, stdin_path) for name, argv in commands.items()}, before=before)
    return {name: (Figures([r[0] for r in rs]), Figures([r[2] for r in rs]), max(r[1] for r in rs), [r[0] for r in rs])
            for name, rs in results.items()}


def ratios(ours, theirs):
    """Per-round ratios of two equally long lists: min / median / max."""
    return Figures([a / b for a, b in zip(ours, theirs)])


class Pty:
    """A program on a pseudo-terminal, read without blocking."""

    def __init__(self, argv):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["TERM"] = "xterm"
            os.execvp(argv[0], argv)
        # A terminal has a size: without one linenoise (redis-cli) asks the terminal for
        # its width by cursor reports before every prompt, and one reply short for two
        # questions made it read the next command as the answer (every other GET lost).
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        os.set_blocking(self.fd, False)
        self.out = bytearray()

    def read(self, timeout):
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.fd, 1 << 20)
        except (BlockingIOError, OSError):
            return False
        for _ in range(data.count(b"\x1b[6n")):
            # A program that asks where the cursor is waits for the answer: one per question.
            try:
                os.write(self.fd, b"\x1b[1;1R")
            except BlockingIOError:
                pass
        self.out += data
        return bool(data)

    def wait_for(self, needle, timeout=10, start=0):
        deadline = time.perf_counter() + timeout
        while needle not in self.out[start:]:
            if time.perf_counter() > deadline:
                return False
            self.read(0.05)
        return True

    def write_all(self, data, until=None, timeout=60):
        """Writes data while reading output (so neither side blocks)."""
        view = memoryview(data)
        deadline = time.perf_counter() + timeout
        while view and time.perf_counter() < deadline:
            readable, writable, _ = select.select([self.fd], [self.fd], [], 1)
            if writable:
                try:
                    n = os.write(self.fd, view[:65536])
                    view = view[n:]
                except BlockingIOError:
                    pass
            if readable:
                self.read(0)
        return len(view) == 0

    def exited_within(self, seconds, poll):
        """True once the program has exited (and is reaped), reading its output meanwhile."""
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            if os.waitpid(self.pid, os.WNOHANG)[0]:
                self.pid = 0
                return True
            self.read(poll)
        return False

    def close(self):
        """Kills the program unless it has exited, and closes the terminal."""
        if not self.pid:
            os.close(self.fd)
            return
        try:
            os.kill(self.pid, 9)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        os.close(self.fd)


def repl_argv():
    return [REPL, *SENTINEL_ARGS, "--history-file", "/dev/null", MASTER_NAME]


def cli_argv():
    return ["redis-cli", "-p", str(MASTER_PORT)]


def write_inputs(tmp, count, name):
    """`SET bench:i value:i` as lines, and the same in RESP for redis-cli --pipe."""
    lines, resp = os.path.join(tmp, f"{name}.txt"), os.path.join(tmp, f"{name}.resp")
    with open(lines, "w") as f, open(resp, "w") as r:
        for i in range(count):
            key, value = f"bench:{i}", f"value:{i}"
            f.write(f"SET {key} {value}\n")
            r.write(f"*3\r\n$3\r\nSET\r\n${len(key)}\r\n{key}\r\n${len(value)}\r\n{value}\r\n")
    return lines, resp


def bench_stdin(tmp):
    """LINES lines on stdin beside redis-cli --pipe on the same commands in RESP, RUNS
    alternating rounds after FLUSHALL; then BIG_LINES once each, for memory."""
    lines, resp = write_inputs(tmp, LINES, "set")
    flush = lambda: cli("FLUSHALL")

    def timed_with_topology(argv, path):
        before = topology_cpu()
        return (*timed(argv, path), topology_cpu() - before)

    results = stdin_rounds(lines, resp, timed_with_topology)
    pinned = bench_stdin_pinned(lines, resp)
    line_mode, _ = median_time([*cli_argv()], lines, runs=1)
    big_lines, big_resp = write_inputs(tmp, BIG_LINES, "big")
    flush()
    big_repl = timed([REPL, *SENTINEL_ARGS, MASTER_NAME], big_lines)
    flush()
    big_pipe = timed([*cli_argv(), "--pipe"], big_resp)
    for path in (big_lines, big_resp):
        os.unlink(path)
    pick = lambda name, i: [r[i] for r in results[name]]
    # When every core is busy, the wall is the CPU of all processes over the cores.
    busy = lambda name: [(r[2] + r[3]) / os.cpu_count() for r in results[name]]
    return {"repl": Figures(pick("repl", 0)), "pipe": Figures(pick("pipe", 0)),
            "repl_topology": Figures(pick("repl", 3)), "pipe_topology": Figures(pick("pipe", 3)),
            "repl_busy": Figures(busy("repl")), "pipe_busy": Figures(busy("pipe")),
            "busy_ratio": ratios(busy("repl"), busy("pipe")), "pinned": pinned,
            "repl_cpu": Figures(pick("repl", 2)), "pipe_cpu": Figures(pick("pipe", 2)),
            "wall_ratio": ratios(pick("repl", 0), pick("pipe", 0)), "cpu_ratio": ratios(pick("repl", 2), pick("pipe", 2)),
            "repl_rss": max(pick("repl", 1)), "pipe_rss": max(pick("pipe", 1)), "cli_lines": line_mode,
            "big_repl": big_repl, "big_pipe": big_pipe, "lines": lines, "resp": resp}


def stdin_rounds(lines, resp, measure):
    """RUNS rounds that alternate sentinel-repl on `lines` and redis-cli --pipe on the same
    commands in RESP, FLUSHALL before each: {name: [measure(argv, input path), ...]}."""
    commands = {"repl": ([REPL, *SENTINEL_ARGS, MASTER_NAME], lines), "pipe": ([*cli_argv(), "--pipe"], resp)}
    return rounds(RUNS, commands, measure, before=lambda: cli("FLUSHALL"))


def bench_stdin_pinned(lines, resp):
    """The same rounds with the topology on core 0 and the client on core 1 (taskset): the
    client's pace beside the servers', without the two taking CPU from each other. None
    on a machine of one core."""
    if os.cpu_count() < 2 or not TOPOLOGY_PIDS:
        return None
    own = {pid: ",".join(map(str, sorted(os.sched_getaffinity(pid)))) for pid in TOPOLOGY_PIDS}
    pin_topology({pid: "0" for pid in TOPOLOGY_PIDS})
    try:
        walls = stdin_rounds(lines, resp, lambda argv, path: timed(["taskset", "-c", "1", *argv], path)[0])
    finally:
        pin_topology(own)
    return {"repl": Figures(walls["repl"]), "pipe": Figures(walls["pipe"]), "ratio": ratios(walls["repl"], walls["pipe"])}


def bench_paste(argv, prompt, timeout):
    """Pastes LINES lines into an interactive prompt; time until the last reply, lines run."""
    cli("FLUSHALL")
    term = Pty(argv)
    try:
        if not term.wait_for(prompt, 15):
            return None, 0
        data = "".join(f"SET paste:{i} v\r" for i in range(LINES)).encode()
        start = time.perf_counter()
        term.write_all(data, timeout=timeout)
        deadline = start + timeout
        # The last reply is on screen when the last line's echo is followed by its reply
        # and the prompt. Read as fast as it comes: a reader that stops to ask the server
        # (a redis-cli per look) slows the terminal's output down and is what gets measured.
        last = b"SET paste:%d v" % (LINES - 1)
        while time.perf_counter() < deadline:
            term.read(0.05)
            at = term.out.rfind(last, max(0, len(term.out) - 4096))
            if at >= 0 and term.out.rstrip().endswith(b">") and b"OK" in term.out[at:]:
                break
        elapsed = time.perf_counter() - start
        executed = int(cli("DBSIZE") or 0)
        return elapsed, executed
    finally:
        term.close()


def bench_start():
    """PING start to exit, START_RUNS alternating rounds: the binary built (static Swift
    runtime, as installed), the plain release build if given, and redis-cli; and the
    installed binary's `--version`, which parses the command line and does no I/O: the
    floor under its start-up."""
    commands = {"repl": [REPL, *SENTINEL_ARGS, MASTER_NAME, "PING"], "cli": [*cli_argv(), "PING"],
                "version": [REPL, "--version"]}
    if DYNAMIC_REPL:
        commands["dynamic"] = [DYNAMIC_REPL, *SENTINEL_ARGS, MASTER_NAME, "PING"]
    return alternating(commands, START_RUNS)


def bench_pastes(runs):
    """PASTE_RUNS pastes into sentinel-repl: Figures of the times, and the fewest lines run."""
    results = [bench_paste(repl_argv(), b"> ", 60) for _ in range(runs)]
    timed_runs = [r[0] for r in results if r[0] is not None]
    if not timed_runs:
        raise RuntimeError("no paste reached its prompt")
    return Figures(timed_runs), min(r[1] for r in results)


# MARK: instructions (callgrind): repeatable whatever else the machine does

def callgrind(argv, stdin_path=None):
    """Instructions callgrind counts for one run of argv (every thread)."""
    with tempfile.TemporaryDirectory() as tmp, open(stdin_path or os.devnull, "rb") as stdin:
        proc = subprocess.run([VALGRIND, "--tool=callgrind", f"--callgrind-out-file={tmp}/out", *argv],
                              stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        match = re.search(r"Collected : (\d+)", proc.stderr)
        return int(match.group(1)) if match else None


def callgrind_paste(lines):
    """Instructions of a session that gets `lines` pasted lines, then Ctrl-D."""
    with tempfile.TemporaryDirectory() as tmp:
        cli("FLUSHALL")
        term = Pty([VALGRIND, "--tool=callgrind", f"--callgrind-out-file={tmp}/out", *repl_argv()])
        try:
            if not term.wait_for(b"> ", 120):
                return None
            term.write_all("".join(f"SET paste:{i} v\r" for i in range(lines)).encode(), timeout=300)
            deadline = time.perf_counter() + 300
            while int(cli("DBSIZE") or 0) < lines and time.perf_counter() < deadline:
                term.read(0.1)
            term.wait_for(b"> ", 10, start=max(0, len(term.out) - 200))
            os.write(term.fd, b"\x04")
            if not term.exited_within(120, 0.05):
                return None
        finally:
            term.close()
        with open(f"{tmp}/out") as f:
            total = re.search(r"^(?:summary|totals): (\d+)", f.read(), re.M)
        return int(total.group(1)) if total else None


def bench_instructions(stdin):
    """Per start-up (PING); per piped line, a run with CALLGRIND_LINES lines less one with
    none, over CALLGRIND_LINES; per pasted line, a paste of 2N lines less one of N."""
    n = CALLGRIND_LINES
    with tempfile.TemporaryDirectory() as tmp:
        lines, resp = write_inputs(tmp, n, "cg")
        cli("FLUSHALL")
        counts = {
            "repl_start": callgrind([REPL, *SENTINEL_ARGS, MASTER_NAME, "PING"]),
            "repl_version": callgrind([REPL, "--version"]),
            "cli_start": callgrind([*cli_argv(), "PING"]),
            "repl_empty": callgrind([REPL, *SENTINEL_ARGS, MASTER_NAME]),
            "repl_lines": callgrind([REPL, *SENTINEL_ARGS, MASTER_NAME], lines),
            "pipe_empty": callgrind([*cli_argv(), "--pipe"]),
            "pipe_lines": callgrind([*cli_argv(), "--pipe"], resp),
            # Two pastes, not a paste and none: a session loads the command table in the
            # background after its prompt, and one that ends at once would skip that work.
            "paste_none": callgrind_paste(PASTE_CALLGRIND_LINES),
            "paste_lines": callgrind_paste(2 * PASTE_CALLGRIND_LINES),
        }
    per = lambda full, empty, count: (counts[full] - counts[empty]) / count if counts[full] and counts[empty] else None
    counts["repl_per_line"] = per("repl_lines", "repl_empty", n)
    counts["pipe_per_line"] = per("pipe_lines", "pipe_empty", n)
    counts["paste_per_line"] = per("paste_lines", "paste_none", PASTE_CALLGRIND_LINES)
    return counts


def bench_roundtrip(argv, prompt, runs=1000):
    cli("SET", "rt:key", "value")
    term = Pty(argv)
    samples = []
    try:
        if not term.wait_for(prompt, 15):
            return None
        for _ in range(runs):
            mark = len(term.out)
            start = time.perf_counter()
            os.write(term.fd, b"GET rt:key\r")
            if not term.wait_for(b'"value"', 5, start=mark):
                break
            samples.append(time.perf_counter() - start)
            term.wait_for(prompt, 5, start=mark + 10)
            time.sleep(0.002)
    finally:
        term.close()
    samples.sort()
    return {"p50": samples[len(samples) // 2], "p99": samples[int(len(samples) * 0.99) - 1], "n": len(samples)}


def bench_exit(runs=10):
    times = []
    for _ in range(runs):
        term = Pty(repl_argv())
        try:
            if not term.wait_for(b"> ", 15):
                continue
            time.sleep(0.2)
            start = time.perf_counter()
            os.write(term.fd, b"\x04")
            # 10 s: far past the goal; a session that does not end is killed, not waited for.
            if term.exited_within(10, 0.001):
                times.append(time.perf_counter() - start)
        finally:
            term.close()
    return statistics.median(times) if times else None


def wait_for_replicas(seconds=20):
    """Until every replica has acknowledged what the master had written (INFO replication:
    each slaveN's offset against master_repl_offset; acknowledgements come each second)."""
    def fields():
        return dict(line.split(":", 1) for line in cli("INFO", "replication").splitlines() if ":" in line)
    target = int(fields()["master_repl_offset"])
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        info = fields()
        offsets = [int(v.split("offset=")[1].split(",")[0]) for k, v in info.items() if k.startswith("slave") and "offset=" in v]
        if offsets and min(offsets) >= target:
            return
        time.sleep(0.1)


def bench_completion(runs=50):
    """TAB in a key position with 10,000 user:* keys held on the replicas: the time from
    TAB to the last of the 11 candidates of user:NNN listed (a bounded SCAN MATCH on a
    replica). redis-cli has no key completion: there is no anchor."""
    cli("FLUSHALL")
    subprocess.run(f"seq 0 9999 | awk '{{print \"SET user:\" $1 \" v\"}}' | redis-cli -p {MASTER_PORT} --pipe",
                   shell=True, capture_output=True, check=True)
    wait_for_replicas()
    term = Pty(repl_argv())
    samples = []
    try:
        if not term.wait_for(b"> ", 15):
            return None
        os.write(term.fd, b"GET nosuchprefix\t")
        time.sleep(0.5)
        os.write(term.fd, b"\x15")
        for i in range(runs):
            prefix = f"user:{100 + i}".encode()
            mark = len(term.out)
            os.write(term.fd, b"GET " + prefix)
            term.wait_for(prefix, 5, start=mark)
            mark = len(term.out)
            start = time.perf_counter()
            os.write(term.fd, b"\t")
            if not term.wait_for(prefix + b"9", 5, start=mark):
                break
            samples.append(time.perf_counter() - start)
            os.write(term.fd, b"\x15")
            time.sleep(0.02)
    finally:
        term.close()
    samples.sort()
    if not samples:
        return None
    return {"p50": samples[len(samples) // 2], "p99": samples[max(0, int(len(samples) * 0.99) - 1)], "n": len(samples)}


def completion_row(f):
    return (f"| (f) TAB key completion, 10,000 keys on the replicas, p50 / p99 ({f['n'] if f else 0} samples) | "
            f"{ms(f and f['p50'])} / {ms(f and f['p99'])} | no key completion | | scan bounded at 50 ms |")


def ms(seconds):
    return "n/a" if seconds is None else f"{seconds * 1000:.1f} ms"


def us(seconds):
    """Round trips are a fraction of a millisecond: tenths of one would round them away."""
    return "n/a" if seconds is None else f"{seconds * 1e6:.0f} µs"


def samples(roundtrip):
    return roundtrip["n"] if roundtrip else 0


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


def count(n):
    return "n/a" if n is None else f"{n:,.0f}"


def ratio_figures(r):
    return f"{r.min:.2f} / **{r.median:.2f}** / {r.max:.2f}x"


def table(a, b, b_cli, c, d_repl, d_cli, e, f, ir):
    cr = c["repl"]
    start_ratio = ratios(cr[3], c["cli"][3])
    rows = [
        "| | sentinel-repl | redis-cli | ratio (min / **median** / max) | goal (issue 23) |",
        "|---|---|---|---|---|",
        f"| (a) {LINES:,} SET lines on stdin, wall | {a['repl'].ms()} | `--pipe` {a['pipe'].ms()}; line mode {ms(a['cli_lines'])} | "
        f"{ratio_figures(a['wall_ratio'])} `--pipe` | <= 1.0x `--pipe` |",
        f"| (a) same, CPU (user+sys) | {a['repl_cpu'].ms()} | `--pipe` {a['pipe_cpu'].ms()} | {ratio_figures(a['cpu_ratio'])} | <= 2.5x |",
        f"| (a) same, the topology's CPU meanwhile (master, replicas, sentinels) | {a['repl_topology'].ms()} | `--pipe` {a['pipe_topology'].ms()} | | |",
        f"| (a) same, (client + topology CPU) / {os.cpu_count()} cores: the wall when every core is busy | {a['repl_busy'].ms()} | "
        f"`--pipe` {a['pipe_busy'].ms()} | {ratio_figures(a['busy_ratio'])} | |",
        *([f"| (a) same, topology on core 0 and client on core 1 (`taskset`), wall | {a['pinned']['repl'].ms()} | "
            f"`--pipe` {a['pinned']['pipe'].ms()} | {ratio_figures(a['pinned']['ratio'])} `--pipe` | (the client's own pace) |"]
          if a['pinned'] else []),
        f"| (a) peak RSS, {LINES:,} / {BIG_LINES:,} lines | {mib(a['repl_rss'])} / {mib(a['big_repl'][1])} | "
        f"`--pipe` {mib(a['pipe_rss'])} / {mib(a['big_pipe'][1])} | | flat |",
        f"| (a) {BIG_LINES:,} lines, wall (one run) | {ms(a['big_repl'][0])} | `--pipe` {ms(a['big_pipe'][0])} | {a['big_repl'][0] / a['big_pipe'][0]:.2f}x | |",
        f"| (b) {LINES:,} lines pasted through a pty, to the last reply | {b[0].ms()}, at least {b[1]:,} lines run | "
        f"{ms(b_cli[0])}, {b_cli[1]} lines run (30 s limit) | | <= 500 ms, every line |",
        f"| (c) `PING` start to exit, {START_RUNS} rounds | {cr[0].ms()}, peak RSS {mib(cr[2])} | {c['cli'][0].ms()}, peak RSS {mib(c['cli'][2])} | "
        f"{ratio_figures(start_ratio)} | <= 1.5x, <= 12 MiB |",
    ]
    rows.append(f"| (c) `sentinel-repl --version` (parses the command line, no I/O) | {c['version'][0].ms()}, peak RSS {mib(c['version'][2])} | "
                f"`PING` above | {ratio_figures(ratios(c['version'][3], c['cli'][3]))} | (the floor of (c)) |")
    if "dynamic" in c:
        rows.append(f"| (c) same, plain release build (Swift runtime shared) | {c['dynamic'][0].ms()}, peak RSS {mib(c['dynamic'][2])} | | "
                    f"{ratio_figures(ratios(c['dynamic'][3], c['cli'][3]))} | <= 2x |")
    rows += [
        f"| (d) interactive GET round trip, p50 / p99 ({samples(d_repl)} samples; redis-cli {samples(d_cli)}) | {us(d_repl and d_repl['p50'])} / {us(d_repl and d_repl['p99'])} | "
        f"{us(d_cli and d_cli['p50'])} / {us(d_cli and d_cli['p99'])} | "
        + (f"{d_repl['p50'] / d_cli['p50']:.2f}x p50, {d_repl['p99'] / d_cli['p99']:.2f}x p99" if d_repl and d_cli else "")
        + " | <= 0.29x p50, 0.61x p99 |",
        f"| (e) Ctrl-D to process exit (median of 10) | {ms(e)} | | | <= 100 ms |",
        completion_row(f),
    ]
    if ir:
        rows += [
            f"| instructions per start-up (`PING`, callgrind) | {count(ir['repl_start'])} | {count(ir['cli_start'])} | "
            + (f"{ir['repl_start'] / ir['cli_start']:.2f}x" if ir['repl_start'] and ir['cli_start'] else "") + " | |",
            f"| instructions for `--version` (the command line parsed, no I/O) | {count(ir['repl_version'])} | `PING` above | "
            + (f"{ir['repl_version'] / ir['cli_start']:.2f}x" if ir['repl_version'] and ir['cli_start'] else "") + " | |",
            f"| instructions per piped line ({CALLGRIND_LINES:,} lines less none) | {count(ir['repl_per_line'])} | `--pipe` {count(ir['pipe_per_line'])} | "
            + (f"{ir['repl_per_line'] / ir['pipe_per_line']:.2f}x" if ir['repl_per_line'] and ir['pipe_per_line'] else "") + " | |",
            f"| instructions per pasted line ({2 * PASTE_CALLGRIND_LINES:,} lines less {PASTE_CALLGRIND_LINES:,}) | {count(ir['paste_per_line'])} | | | |",
        ]
    return rows


def main():
    out = sys.argv[1]
    if os.environ.get("BENCH_ONLY") == "completion":
        print(completion_row(bench_completion()))
        return
    with tempfile.TemporaryDirectory() as tmp:
        print("(a) stdin batch ...", file=sys.stderr)
        a = bench_stdin(tmp)
    print("(b) paste ...", file=sys.stderr)
    b = bench_pastes(RUNS)
    b_cli = bench_paste(cli_argv(), b"> ", 30)
    print("(c) start-up ...", file=sys.stderr)
    c = bench_start()
    print("(d) round trip ...", file=sys.stderr)
    d_repl = bench_roundtrip(repl_argv(), b"> ")
    d_cli = bench_roundtrip(cli_argv(), b"> ")
    print("(e) exit ...", file=sys.stderr)
    e = bench_exit()
    print("(f) key completion ...", file=sys.stderr)
    f = bench_completion()
    print("instructions (callgrind) ...", file=sys.stderr)
    ir = bench_instructions(None) if os.environ.get("VALGRIND") else None
    redis_version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()[2]
    size = os.environ.get("SENTINEL_REPL_SIZES", "")
    lines = [
        "# sentinel-repl benchmarks",
        "",
        f"Written by `bench/run.sh` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"{platform.machine()}, {os.cpu_count()} cores, Linux {platform.release()}, redis-cli/redis-server {redis_version}. "
        f"Loopback topology of 1 master, 2 replicas, 3 sentinels. Times as min / **median** / max of {RUNS} rounds "
        f"that alternate the two clients (FLUSHALL before each stdin run), unless said. The binary: release build, "
        f"Swift runtime linked statically (`--static-swift-stdlib`, as `scripts/install.sh` installs it). {size}",
        "",
        *table(a, b, b_cli, c, d_repl, d_cli, e, f, ir),
        "",
        "Reproduce: `bench/run.sh` (builds both release binaries, starts and stops its own topology; "
        "`bench/valgrind.sh` finds or fetches a valgrind whose callgrind runs the Swift binary).",
        "",
    ]
    with open(out, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))
    regenerate_readme_table(lines)


def regenerate_readme_table(lines):
    """The README's benchmark table is this run's, between its two markers."""
    readme = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")
    begin, end = "<!-- bench/run.sh writes this table -->", "<!-- end of bench/run.sh's table -->"
    with open(readme) as f:
        text = f.read()
    if begin not in text or end not in text:
        print("README.md has no benchmark table markers: not changed", file=sys.stderr)
        return
    rows = [line for line in lines if line.startswith("|")]
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(readme, "w") as f:
        f.write(head + begin + "\n" + lines[2] + "\n\n" + "\n".join(rows) + "\n" + end + tail)


if __name__ == "__main__":
    main()

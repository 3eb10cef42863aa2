#!/usr/bin/env python3
"""Side-by-side benchmarks of sentinel-repl and redis-cli on one loopback topology.

Called by bench/run.sh, which starts the topology and passes its ports. Writes
bench/RESULTS.md. Not a test: it reports numbers and ratios, it asserts nothing.
"""
import os
import platform
import pty
import resource
import select
import statistics
import subprocess
import sys
import tempfile
import time

REPL = os.environ["SENTINEL_REPL_BIN"]
MASTER_NAME = os.environ["MASTER_NAME"]
MASTER_PORT = int(os.environ["MASTER_PORT"])
SENTINELS = [int(p) for p in os.environ["SENTINEL_PORTS"].split(",")]
LINES = int(os.environ.get("BENCH_LINES", "100000"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SENTINEL_ARGS = sum((["-s", f"127.0.0.1:{p}"] for p in SENTINELS), [])


def cli(*args):
    return subprocess.run(["redis-cli", "-p", str(MASTER_PORT), *args], capture_output=True, text=True).stdout.strip()


def timed(cmd, stdin_path=None):
    """Wall time and peak RSS (KiB) of one run. The RSS comes from GNU time, whose
    child is forked from a small process: a child of this Python would report
    Python's own memory as its peak (Linux keeps the pre-exec high-water mark)."""
    rss_file = tempfile.NamedTemporaryFile(delete=False)
    rss_file.close()
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    start = time.perf_counter()
    status = subprocess.call(["/usr/bin/time", "-f", "%M", "-o", rss_file.name, *cmd],
                             stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if stdin_path:
        stdin.close()
    with open(rss_file.name) as f:
        rss = int(f.read().split()[-1])
    os.unlink(rss_file.name)
    if status != 0:
        raise RuntimeError(f"{cmd[0]} exited {status}")
    return elapsed, rss


def median_time(cmd, stdin_path=None, runs=RUNS):
    results = [timed(cmd, stdin_path) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


class Pty:
    """A program on a pseudo-terminal, read without blocking."""

    def __init__(self, argv):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["TERM"] = "xterm"
            os.execvp(argv[0], argv)
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
        if b"\x1b[6n" in data:
            # linenoise (redis-cli) asks where the cursor is and waits for the answer.
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

    def close(self):
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


def bench_stdin(tmp):
    lines = os.path.join(tmp, "set.txt")
    resp = os.path.join(tmp, "set.resp")
    with open(lines, "w") as f, open(resp, "w") as r:
        for i in range(LINES):
            key = f"bench:{i}"
            f.write(f"SET {key} v\n")
            r.write(f"*3\r\n$3\r\nSET\r\n${len(key)}\r\n{key}\r\n$1\r\nv\r\n")
    repl, repl_rss = median_time([REPL, *SENTINEL_ARGS, MASTER_NAME], lines)
    line_mode, _ = median_time([*cli_argv()], lines, runs=max(1, RUNS // 2))
    pipe_mode, _ = median_time([*cli_argv(), "--pipe"], resp)
    return {"repl": repl, "cli_lines": line_mode, "cli_pipe": pipe_mode, "repl_rss": repl_rss}


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
        # The last reply is on screen when every line has run and the prompt is back.
        while time.perf_counter() < deadline:
            term.read(0.05)
            if int(cli("DBSIZE") or 0) >= LINES and term.out.rstrip().endswith(b">"):
                break
        elapsed = time.perf_counter() - start
        executed = int(cli("DBSIZE") or 0)
        return elapsed, executed
    finally:
        term.close()


def bench_start(tmp):
    repl, repl_rss = median_time([REPL, *SENTINEL_ARGS, MASTER_NAME, "PING"], runs=30)
    redis, redis_rss = median_time([*cli_argv(), "PING"], runs=30)
    return {"repl": repl, "cli": redis, "repl_rss": repl_rss, "cli_rss": redis_rss}


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
            while True:
                pid, _ = os.waitpid(term.pid, os.WNOHANG)
                if pid:
                    break
                term.read(0.001)
            times.append(time.perf_counter() - start)
        finally:
            try:
                os.close(term.fd)
            except OSError:
                pass
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


def main():
    out = sys.argv[1]
    if os.environ.get("BENCH_ONLY") == "completion":
        print(completion_row(bench_completion()))
        return
    with tempfile.TemporaryDirectory() as tmp:
        print("(a) stdin batch ...", file=sys.stderr)
        a = bench_stdin(tmp)
        print("(b) paste ...", file=sys.stderr)
        b_repl = bench_paste(repl_argv(), b"> ", 60)
        b_cli = bench_paste(cli_argv(), b"> ", 30)
        print("(c) start-up ...", file=sys.stderr)
        c = bench_start(tmp)
        print("(d) round trip ...", file=sys.stderr)
        d_repl = bench_roundtrip(repl_argv(), b"> ")
        d_cli = bench_roundtrip(cli_argv(), b"> ")
        print("(e) exit ...", file=sys.stderr)
        e = bench_exit()
        print("(f) key completion ...", file=sys.stderr)
        f = bench_completion()
    redis_version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()[2]
    lines = [
        "# sentinel-repl benchmarks",
        "",
        f"Written by `bench/run.sh` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"{platform.machine()}, {os.cpu_count()} cores, Linux {platform.release()}, redis-cli/redis-server {redis_version}. "
        f"Loopback topology of 1 master, 2 replicas, 3 sentinels. {LINES} lines; medians of {RUNS} runs unless said. "
        f"Release build, Swift runtime linked statically (`--static-swift-stdlib`).",
        "",
        "| | sentinel-repl | redis-cli | ratio | target |",
        "|---|---|---|---|---|",
        f"| (a) {LINES} SET lines on stdin | {ms(a['repl'])} | line mode {ms(a['cli_lines'])}; `--pipe` {ms(a['cli_pipe'])} | "
        f"{a['repl'] / a['cli_pipe']:.2f}x `--pipe`; {a['cli_lines'] / a['repl']:.1f}x faster than line mode | <= 1.5x `--pipe`, >= 15x faster than line mode |",
        f"| (b) {LINES} lines pasted through a pty | {ms(b_repl[0])}, {b_repl[1]} lines run | {ms(b_cli[0])}, {b_cli[1]} lines run (30 s limit) | | all lines, <= 2 s |",
        f"| (c) `PING` start to exit (median of 30) | {ms(c['repl'])}, peak RSS {c['repl_rss'] / 1024:.1f} MiB | {ms(c['cli'])}, peak RSS {c['cli_rss'] / 1024:.1f} MiB | {c['repl'] / c['cli']:.2f}x | <= 3x, <= 25 MiB |",
        f"| (d) interactive GET round trip, p50 / p99 ({d_repl['n'] if d_repl else 0} samples) | {ms(d_repl and d_repl['p50'])} / {ms(d_repl and d_repl['p99'])} | {ms(d_cli and d_cli['p50'])} / {ms(d_cli and d_cli['p99'])} | "
        + (f"{d_repl['p50'] / d_cli['p50']:.2f}x p50, {d_repl['p99'] / d_cli['p99']:.2f}x p99" if d_repl and d_cli else "")
        + " | <= 1.3x |",
        f"| (e) Ctrl-D to process exit (median of 10) | {ms(e)} | | | <= 100 ms |",
        completion_row(f),
        f"| peak RSS, (a) 100k lines on stdin | {a['repl_rss'] / 1024:.1f} MiB | | | |",
        "",
        "Reproduce: `bench/run.sh` (builds the release binary, starts and stops its own topology).",
        "",
    ]
    with open(out, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

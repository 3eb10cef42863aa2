import Foundation
import TestTopology
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `--stat` and `--latency-history` follow the master across a failover: a mark line,
/// then figures measured on the new master. redis-cli, aimed at the old address, goes
/// on measuring the demoted node, or loops "Reconnecting..." on a dead one.
@Suite(.serialized, .timeLimit(.minutes(4 * testSlowdown)))
struct WatchModeTests {
    enum Switch { case sentinelFailover, masterKilled }

    /// A program run for `seconds`, then ended as Ctrl-C ends it (SIGINT). On a thread of
    /// its own: three waiting on the 2-core machine's cooperative pool starved the test.
    private func runFor(_ seconds: Int, _ command: [String]) -> Task<Topology.RunResult, Error> {
        let line = command.map(shellQuoted).joined(separator: " ")
        return Task {
            try await withCheckedThrowingContinuation { continuation in
                Thread {
                    continuation.resume(with: Result { try Topology.run("/bin/bash", ["-c", "timeout --preserve-status -s INT \(seconds) \(line)"]) })
                }.start()
            }
        }
    }

    /// Seconds since midnight of an `HH:MM:SS` clock, local time.
    private func secondsOfDay(_ clock: Substring) -> Int? {
        let parts = clock.split(separator: ":").compactMap { Int($0) }
        return parts.count == 3 ? parts[0] * 3600 + parts[1] * 60 + parts[2] : nil
    }

    private func nowSecondsOfDay() -> Int {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        return Int(parts.tm_hour) * 3600 + Int(parts.tm_min) * 60 + Int(parts.tm_sec)
    }

    @Test(arguments: [Switch.sentinelFailover, .masterKilled])
    func statAndLatencyHistoryMarkTheSwitchAndGoOnOnTheNewMaster(_ kind: Switch) async throws {
        try await withTopology { topology in
            let old = topology.masterPort
            let stat = runFor(25, topology.replCommand(["--stat", "-i", "1", topology.masterName]))
            let latency = runFor(25, topology.replCommand(["--latency-history", "-i", "1", topology.masterName]))
            let spectrum = runFor(25, topology.replCommand(["--latency-dist", topology.masterName]))
            let redisCli = runFor(25, ["redis-cli", "-p", String(old), "--latency-history", "-i", "1"])
            try await Task.sleep(nanoseconds: 3_000_000_000)
            switch kind {
            case .sentinelFailover: _ = try topology.cli(topology.sentinelPorts[0], "SENTINEL", "FAILOVER", topology.masterName)
            case .masterKilled: kill(try #require(topology.pid(ofPort: old)), SIGKILL)
            }
            var switchedAt: Int?
            let moved = await eventually(within: 20) {
                guard let port = topology.sentinelMasterPort(), port != old else { return false }
                switchedAt = nowSecondsOfDay()
                return true
            }
            #expect(moved, "Sentinel names a new master")
            let newMaster = topology.address(of: try #require(topology.sentinelMasterPort()))
            for (name, run) in [("--stat", stat), ("--latency-history", latency), ("--latency-dist", spectrum)] {
                let result = try await run.value
                #expect(result.status == 0 && result.stderr.isEmpty, "\(name): \(result)")
                #expect(!result.stdout.contains("cancelled"), "Ctrl-C is not a lost master: \(result.stdout.suffix(300))")
                let lines = result.stdout.split(separator: "\n")
                let mark = try #require(lines.firstIndex { $0.hasPrefix("-- master \(topology.address(of: old)) -> \(newMaster) at ") }, "\(name): \(result.stdout.suffix(3000))")
                let clock = lines[mark].split(separator: " ")[6]
                let markedAt = try #require(secondsOfDay(clock))
                let named = try #require(switchedAt)
                #expect(markedAt <= named + 2, "\(name): marked at \(clock), \(markedAt - named) s after Sentinel named \(newMaster)")
                let after = lines[(mark + 1)...].filter {
                    name == "--latency-dist" ? $0.hasPrefix("\u{1b}[38;5;0m") : !$0.hasPrefix("--") && !$0.hasPrefix(" --") && !$0.hasPrefix("keys")
                }
                #expect(after.count >= 3, "\(name): figures measured on the new master after the mark: \(after.prefix(5))")
            }
            let theirs = try await redisCli.value.stdout
            switch kind {
            case .sentinelFailover:
                // redis-cli goes on pinging the old address: the demoted replica, never the new master.
                #expect(theirs.split(separator: "\n").count > 100, "\(theirs.suffix(500))")
                #expect(try topology.cli(old, "ROLE").hasPrefix("slave"), "what redis-cli measured after the failover is a replica")
            case .masterKilled:
                #expect(theirs.contains("Reconnecting..."), "redis-cli loops on the dead address: \(theirs.suffix(500))")
            }
        }
    }

    /// `--intrinsic-latency` measures this machine: no sentinel, no master name, redis-cli's lines.
    @Test func intrinsicLatencyAsksNoServer() throws {
        let run = try Topology.run(sentinelREPLExecutable, ["--intrinsic-latency", "1"])
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first?.hasPrefix("Max latency so far: ") == true && lines.first?.hasSuffix(" microseconds.") == true, "\(run.stdout)")
        let summary = lines.suffix(3)
        #expect(summary.first?.contains(" total runs (avg latency: ") == true && summary.first?.hasSuffix(" nanoseconds per run).") == true, "\(run.stdout)")
        #expect(lines.dropLast().last?.hasPrefix("Worst run took ") == true && lines.last == "", "\(run.stdout)")
    }
}

import Foundation
#if canImport(Glibc)
    import Glibc
#endif
import TestTopology
import Testing

/// `--failover` and `:failover`: a planned failover after which no acknowledged write
/// is missing from the new master; every way it can stop leaves the master writable.
@Suite(.serialized, .timeLimit(.minutes(4 * testSlowdown)))
struct CoordinatedFailoverTests {
    /// A write that must not wait: it fails (exit status) rather than hang on a pause.
    private func writesNow(_ topology: Topology, _ port: Int, within seconds: String = "3") throws -> Bool {
        let result = try Topology.run("/usr/bin/timeout", [seconds, "redis-cli", "-p", String(port), "SET", "probe", "1"])
        return result.status == 0 && result.stdout == "OK\n"
    }

    /// A replica that stops applying the master's stream (a write pause of its own) and
    /// falls behind, while it still answers INFO: the failover waits for it with writes
    /// paused on the master, up to its 2-second catch-up limit. Returns its port.
    private func replicaFallenBehind(_ topology: Topology) throws -> Int {
        let lagging = topology.replicaPorts[0]
        try topology.cli(lagging, "CLIENT", "PAUSE", "60000", "WRITE")
        try topology.cli(topology.masterPort, "SET", "ahead", "1")
        return lagging
    }

    @Test func aPipedSessionLosesNoAcknowledgedIncrement() async throws {
        try await withTopology { topology in
            // 2,000 INCR lines, 200 a second, through a sentinel-repl session.
            let writer = topology.runREPL(fedBy: "for i in $(seq 2000); do echo INCR counter; sleep 0.005; done")
            let writing = await eventually(within: 10) {
                (try? topology.cli(topology.masterPort, "GET", "counter")).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0 > 100
            }
            #expect(writing, "the session writes")
            let failover = try topology.runREPL(["--failover", "--yes", topology.masterName])
            #expect(failover.status == 0, "\(failover)")
            #expect(failover.stdout.contains("failover of mymaster") && failover.stdout.contains("-- failover done: "), "\(failover.stdout)")
            let held = Topology.server == "redis" ? "offsets matched" : "writes held by the server (COORDINATED)"
            #expect(failover.stdout.contains(held), "\(failover.stdout)")
            let session = try await writer.value
            let replies = session.stdout.split(separator: "\n")
            #expect(replies.count == 2000, "one line each: \(replies.count); stderr: \(session.stderr)")
            let acknowledged = replies.compactMap { Int($0) }.max() ?? 0
            let newMaster = try #require(topology.sentinelMasterPort())
            #expect(newMaster != topology.masterPort, "the master moved")
            let counter = Int(try topology.cli(newMaster, "GET", "counter").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            #expect(counter >= acknowledged, "acknowledged up to \(acknowledged), the new master has \(counter)")
            #expect(try writesNow(topology, newMaster))
            #expect(try topology.cli(topology.masterPort, "ROLE").hasPrefix("slave"), "the old master replicates the new one")
        }
    }

    /// At the prompt: the plan and the question; "no" runs nothing, "yes" runs it, the
    /// summary follows and the prompt shows the new master.
    @Test func atThePromptItAsksFirst() async throws {
        try await withREPL { (topology, terminal) async throws in
            terminal.type(":failover\r")
            #expect(terminal.waitFor("(yes/no) ", seconds: 15), "screen: \(terminal.screen)")
            #expect(terminal.screen.contains("failover of mymaster") && terminal.screen.contains("quorum      OK"), "screen: \(terminal.screen)")
            #expect(terminal.enter("no", thenPromptAfter: "-- no failover: it was not confirmed"), "screen: \(terminal.screen)")
            #expect(topology.sentinelMasterPort() == topology.masterPort)
            // Only a question after this line counts: a prompt refresh redraws the first one.
            let second = terminal.mark()
            terminal.type(":failover\r")
            #expect(terminal.waitFor("(yes/no) ", since: second, seconds: 15), "screen: \(terminal.screen)")
            #expect(terminal.enter("yes", thenPromptAfter: "-- failover done: ", seconds: 30), "screen: \(terminal.screen)")
            #expect(terminal.waitForFirst(seconds: 20) { screen in
                let port = topology.sentinelMasterPort()
                return port != nil && port != topology.masterPort && screen.hasSuffix("mymaster@127.0.0.1:\(port!)> ") ? true : nil
            } == true, "the prompt shows the new master: \(terminal.screen)")
            #expect(terminal.enter("INCR after", thenPromptAfter: "(integer) 1"), "commands run on the new master")
        }
    }

    @Test func pipedInputNeverAnswersTheQuestion() async throws {
        try await withTopology { topology in
            let refused = try topology.runREPL(["--failover", topology.masterName], stdin: "yes\n")
            #expect(refused.status == 1 && refused.stderr.contains("piped input never answers"), "\(refused)")
            #expect(refused.stdout.contains("failover of mymaster"), "the plan is shown: \(refused.stdout)")
            #expect(topology.sentinelMasterPort() == topology.masterPort)
            // --yes also answers the prompt's questions (DangerousCommandTests): alone it is no error.
            let alone = try topology.runREPL(["--yes", topology.masterName, "PING"])
            #expect(alone.status == 0 && alone.stdout == "PONG\n", "\(alone)")
        }
    }

    @Test func aRefusedFailoverResumesWritesAndChangesNothing() async throws {
        try await withTopology { topology in
            // Sentinel promotes no replica of priority 0: it answers NOGOODSLAVE.
            for port in topology.replicaPorts { try topology.cli(port, "CONFIG", "SET", "replica-priority", "0") }
            #expect(
                await eventually(within: 20) {
                    let listed = (try? topology.cli(topology.sentinelPorts[0], "SENTINEL", "REPLICAS", topology.masterName)) ?? ""
                    return listed.components(separatedBy: "slave-priority\n0\n").count == 3
                }, "the sentinels saw the priorities")
            // The slow log with no threshold records every command with its arguments (MONITOR leaves out admin ones).
            try topology.cli(topology.masterPort, "CONFIG", "SET", "slowlog-log-slower-than", "0")
            try topology.cli(topology.masterPort, "CONFIG", "SET", "slowlog-max-len", "10000")
            try topology.cli(topology.masterPort, "SLOWLOG", "RESET")
            let refused = try topology.runREPL(["--failover", "--yes", topology.masterName])
            let seen = try topology.cli(topology.masterPort, "SLOWLOG", "GET", "10000")
            #expect(refused.status == 1 && refused.stderr.contains("NOGOODSLAVE"), "\(refused)")
            #expect(try writesNow(topology, topology.masterPort), "the master takes writes at once")
            #expect(topology.sentinelMasterPort() == topology.masterPort)
            // Valkey pauses writes itself (COORDINATED); the pause below is the Redis method's.
            guard Topology.server == "redis" else { return }
            // Every pause carries a server-side timeout: a killed tool leaves the master paused 2 s at most.
            let pauses = seen.components(separatedBy: "CLIENT\nPAUSE\n").dropFirst()
            #expect(!pauses.isEmpty && pauses.allSatisfy { $0.hasPrefix("2000\nWRITE\n") }, "\(seen.prefix(2000))")
            #expect(seen.contains("CLIENT\nUNPAUSE\n"), "\(seen.prefix(2000))")
            #expect(refused.stderr.contains("writes resumed"), "\(refused.stderr)")
        }
    }

    /// The write-pause method's own steps (Redis); Valkey's COORDINATED failover is the server's.
    @Test(.enabled(if: Topology.server == "redis", "the write-pause method runs on Redis"))
    func aHungReplicaStopsTheFailoverAndResumesWrites() async throws {
        try await withTopology { topology in
            let replica = try #require(topology.pid(ofPort: topology.replicaPorts[0]))
            kill(replica, SIGSTOP)
            defer { kill(replica, SIGCONT) }
            let stopped = try topology.runREPL(["--failover", "--yes", topology.masterName])
            let named = stopped.stderr.contains("could not be read") || stopped.stderr.contains("could not be reached")
            #expect(stopped.status == 1 && named, "the step and the replica are named: \(stopped)")
            #expect(try writesNow(topology, topology.masterPort), "the master takes writes at once")
            #expect(topology.sentinelMasterPort() == topology.masterPort)
        }
    }

    /// A timeout: the replica does not reach the master's offset in time; the failover
    /// names it and how far behind it is, writes resume at once, nothing else changes.
    @Test(.enabled(if: Topology.server == "redis", "the write-pause method runs on Redis"))
    func aReplicaThatDoesNotCatchUpInTimeStopsTheFailover() async throws {
        try await withTopology { topology in
            let lagging = try replicaFallenBehind(topology)
            defer { _ = try? topology.cli(lagging, "CLIENT", "UNPAUSE") }
            let stopped = try topology.runREPL(["--failover", "--yes", topology.masterName])
            #expect(stopped.status == 1 && stopped.stderr.contains("replica \(topology.address(of: lagging)) is "), "\(stopped)")
            #expect(stopped.stderr.contains("bytes behind after 2 s") && stopped.stderr.contains("writes resumed"), "\(stopped.stderr)")
            #expect(try writesNow(topology, topology.masterPort, within: "1"), "the master takes writes at once")
            #expect(topology.sentinelMasterPort() == topology.masterPort)
        }
    }

    /// `kill -9` while writes are paused: the pause's own server-side timeout (2 s from
    /// its last renewal) ends it; the master is as it was.
    @Test(.enabled(if: Topology.server == "redis", "the write-pause method runs on Redis"))
    func killedMidPauseTheMasterTakesWritesWithinThePausesOwnTimeout() async throws {
        try await withTopology { topology in
            let lagging = try replicaFallenBehind(topology)
            defer { _ = try? topology.cli(lagging, "CLIENT", "UNPAUSE") }
            let tool = try StartedFailover(topology)
            let paused = await eventually(within: 10) { (try? writesNow(topology, topology.masterPort, within: "0.3")) == false }
            #expect(paused, "a write waits: the master is paused")
            let killedAt = ContinuousClock.now
            #expect(try await tool.kill().status == 128 + SIGKILL, "killed mid-way, not already finished")
            #expect(try writesNow(topology, topology.masterPort), "the pause ends by itself")
            let waited = ContinuousClock.now - killedAt
            #expect(waited < .milliseconds(2800), "the master took writes \(waited) after the kill: the pause's own 2 s timeout")
            #expect(topology.sentinelMasterPort() == topology.masterPort)
        }
    }

    /// Valkey: `kill -9` once Sentinel runs the failover it was asked for. The server
    /// holds writes itself, under its own timeout: the failover ends as it would have.
    @Test(.enabled(if: Topology.server == "valkey", "Valkey coordinates the failover itself"))
    func killedOnceAskedTheServerFinishesTheFailover() async throws {
        try await withTopology { topology in
            let tool = try StartedFailover(topology)
            let asked = await eventually(within: 15) {
                ((try? topology.cli(topology.sentinelPorts[0], "SENTINEL", "MASTER", topology.masterName)) ?? "").contains("failover_in_progress")
            }
            #expect(asked, "the sentinel runs the failover")
            #expect(try await tool.kill().status == 128 + SIGKILL, "killed mid-way, not already finished")
            let moved = await eventually(within: 20) {
                guard let port = topology.sentinelMasterPort(), port != topology.masterPort else { return false }
                return (try? writesNow(topology, port)) == true
            }
            #expect(moved, "the new master takes writes")
            #expect(try topology.cli(topology.masterPort, "ROLE").hasPrefix("slave"), "the old master replicates the new one")
        }
    }
}

/// `sentinel-repl --failover --yes` running in the background, to be killed mid-way.
private struct StartedFailover {
    private let pidFile = NSTemporaryDirectory() + "failover-pid-\(UInt32.random(in: 0...UInt32.max))"
    private let run: Task<Topology.RunResult, Error>

    init(_ topology: Topology) throws {
        let failover = topology.replCommand(["--failover", "--yes", topology.masterName]).map(shellQuoted).joined(separator: " ")
        let script = "echo $$ > \(shellQuoted(pidFile)); exec \(failover)"
        run = Task.detached { try Topology.run("/bin/bash", ["-c", script]) }
    }

    /// SIGKILL, then its result (exit status 137 when it was still running).
    func kill() async throws -> Topology.RunResult {
        defer { unlink(pidFile) }
        let written = await eventually(within: 5) { FileManager.default.fileExists(atPath: pidFile) }
        let pid = try #require(written ? pid_t((try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") : nil)
        Glibc.kill(pid, SIGKILL)
        return try await run.value
    }
}

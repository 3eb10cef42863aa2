import Foundation
import TestTopology
import Testing

/// A slow command is not a failure: its reply comes when the server sends it, in
/// every mode, and the lines after it run (redis-cli waits the same way).
@Suite(.serialized, .timeLimit(.minutes(3 * testSlowdown)))
struct SlowCommandTests {
    /// A Lua script that keeps the server busy: on Redis for 1.5 s (TIME in microseconds).
    /// Valkey 9 gives a script the TIME of its start all along (measured: 2,000,000 calls
    /// in a loop see one value), so there it is a million TIME calls (about 0.9 s here).
    static let script =
        Topology.server == "valkey"
        ? "for i = 1, 1000000 do redis.call('TIME') end return 'slept'"
        : "local t = redis.call('TIME') local s = t[1] * 1000000 + t[2] "
            + "repeat local n = redis.call('TIME') until n[1] * 1000000 + n[2] - s > 1500000 return 'slept'"

    /// A master busy for 2 s is not down to Sentinel (the default test topology's 2 s
    /// down-after would fail it over now and then, which the client then follows).
    static var patientSentinels: Topology.Options {
        var options = Topology.Options()
        options.downAfterMilliseconds = 5000
        return options
    }

    @Test func oneShotWaitsForTheReply() async throws {
        try await withTopology(Self.patientSentinels) { topology in
            let eval = try topology.runREPL([topology.masterName, "EVAL", Self.script, "0"])
            #expect(eval.status == 0, "stderr: \(eval.stderr)")
            #expect(eval.stdout == "slept\n")
            let sleep = try topology.runREPL([topology.masterName, "DEBUG", "SLEEP", "2"])
            #expect(sleep.status == 0, "stderr: \(sleep.stderr)")
            #expect(sleep.stdout == "OK\n")
        }
    }

    @Test func inABatchTheLinesAfterASlowCommandRunInOrder() async throws {
        try await withTopology(Self.patientSentinels) { topology in
            let lines = ["INCR n", "DEBUG SLEEP 2", "INCR n", "EVAL \"\(Self.script)\" 0", "INCR n"]
            let batch = try topology.runREPL([topology.masterName], stdin: lines.joined(separator: "\n") + "\n")
            #expect(batch.status == 0, "stderr: \(batch.stderr)")
            #expect(Array(batch.outputLines) == ["1", "OK", "2", "slept", "3"])
            #expect(topology.sentinelMasterPort() == topology.masterPort, "no failover")
        }
    }

    @Test func atThePromptTheReplyComesWithItsTime() async throws {
        // --yes: DEBUG asks first at the prompt (DangerousCommandTests).
        try await withREPL(Self.patientSentinels, arguments: ["--yes"]) { (topology, terminal) async throws in
            #expect(terminal.enter("DEBUG SLEEP 2", thenPromptAfter: "OK", seconds: 15), "screen: \(terminal.screen)")
            // redis-cli's timing line, "(2.00s)": at least the sleep, however loaded the machine.
            let timing = terminal.screen.firstMatch(of: /\nOK\n\((\d+\.\d\d)s\)\n/).flatMap { Double($0.1) }
            #expect(timing.map { $0 >= 2 } == true, "redis-cli's timing line for a slow command: \(terminal.screen)")
            #expect(terminal.enter("EVAL \"\(Self.script)\" 0", thenPromptAfter: "\"slept\"", seconds: 15))
            #expect(terminal.enter("INCR after", thenPromptAfter: "(integer) 1"))
        }
    }

    /// With -t the wait is bounded: past it the command is reported in doubt.
    @Test func aTimeoutBoundsTheWait() async throws {
        try await withTopology(Self.patientSentinels) { topology in
            let bounded = try topology.runREPL(["-t", "0.5", topology.masterName, "DEBUG", "SLEEP", "2"])
            #expect(bounded.stdout.contains("may or may not have run"), "stdout: \(bounded.stdout)")
            #expect(bounded.status == 1, "no reply: exit 1, as redis-cli")
        }
    }

    /// Non-interactive exit status as redis-cli's: an error reply is a reply (0, or 1
    /// with -e); a command without a reply exits 1, one-shot and from stdin.
    @Test func aMissingReplyExitsOneAndAnErrorReplyDoesNot() async throws {
        try await withTopology(Self.patientSentinels) { topology in
            let errorReply = try topology.runREPL([topology.masterName, "NOSUCHCOMMAND"])
            #expect(errorReply.status == 0 && errorReply.stdout.hasPrefix("ERR unknown command"), "\(errorReply)")
            #expect(try topology.runREPL(["-e", topology.masterName, "NOSUCHCOMMAND"]).status == 1)
            // (Pipelined replies before the sleep leave with it: Redis writes them after the command.)
            let piped = try topology.runREPL(["-t", "0.5", topology.masterName], stdin: "DEBUG SLEEP 2\n")
            #expect(piped.status == 1 && piped.outputLines.count == 1, "\(piped)")
            let fine = try topology.runREPL([topology.masterName], stdin: "SET k v\nNOSUCHCOMMAND\n")
            #expect(fine.status == 0, "\(fine)")
        }
    }
}

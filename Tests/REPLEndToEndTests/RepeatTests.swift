import Foundation
import TestTopology
import Testing

/// redis-cli's repeats: `N command` at the prompt, `-r N -i SECONDS` on the command
/// line; one reply per repetition, through a failover too.
@Suite(.serialized, .timeLimit(.minutes(3 * testSlowdown)))
struct RepeatTests {
    @Test func aRepeatPrefixRunsTheCommandThatManyTimes() async throws {
        try await withREPL { (topology, terminal) async throws in
            #expect(terminal.enter("5 INCR n", thenPromptAfter: "(integer) 5"), "screen: \(terminal.screen)")
            for count in 1...5 { #expect(terminal.screen.contains("(integer) \(count)\n")) }
            #expect(try topology.cli(topology.masterPort, "GET", "n") == "5\n")
            #expect(terminal.enter("0 PING", thenPromptAfter: "Invalid redis-cli repeat command option value."))
            #expect(terminal.enter("-2 PING", thenPromptAfter: "Invalid redis-cli repeat command option value."))
        }
    }

    @Test func aRepeatInAPipedBatchKeepsItsPlace() async throws {
        try await withTopology { topology in
            let run = try topology.runREPL([topology.masterName], stdin: "SET m 10\n3 INCR m\nGET m\n")
            #expect(Array(run.outputLines) == ["OK", "11", "12", "13", "13"])
        }
    }

    @Test func repeatAndIntervalOnTheCommandLine() async throws {
        try await withTopology { topology in
            let started = Date()
            let run = try topology.runREPL(["-r", "5", "-i", "0.2", topology.masterName, "INCR", "n"])
            #expect(run.status == 0, "stderr: \(run.stderr)")
            #expect(run.stdout == "1\n2\n3\n4\n5\n")
            #expect(Date().timeIntervalSince(started) >= 0.8, "four waits of 0.2 s between five runs")
        }
    }

    /// `-r -1`: until Ctrl-C (here, until the process is stopped after a few replies).
    @Test func repeatMinusOneGoesOnUntilStopped() async throws {
        try await withTopology { topology in
            let command = topology.replCommand(["-r", "-1", "-i", "0.1", topology.masterName, "INCR", "forever"])
            let run = Task.detached { try Topology.run(command[0], Array(command.dropFirst())) }
            #expect(try await eventually(within: 20) { (Int(try topology.cli(topology.masterPort, "GET", "forever").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 5 })
            let pids = try Topology.run("/usr/bin/pgrep", ["-f", "INCR forever"]).stdout.split(separator: "\n").compactMap { Int32($0) }
            #expect(!pids.isEmpty)
            for pid in pids { kill(pid, SIGINT) }
            let result = try await run.value
            #expect(result.outputLines.count >= 5, "stdout: \(result.stdout)")
            #expect(result.outputLines.enumerated().allSatisfy { Int($0.element) == $0.offset + 1 }, "one reply per repetition, in order")
        }
    }

    /// Watching a value across a failover, as operators do: every repetition gets its reply.
    @Test func aRepeatGoesOnThroughAFailover() async throws {
        try await withTopology { topology in
            #expect(try topology.cli(topology.masterPort, "SET", "k", "v") == "OK\n")
            let command = topology.replCommand(["-r", "20", "-i", "0.5", topology.masterName, "GET", "k"])
            let run = Task.detached { try Topology.run(command[0], Array(command.dropFirst())) }
            _ = try await topology.replClientID(showing: " cmd=get ")  // the repetitions are under way
            try topology.cli(topology.sentinelPorts[0], "SENTINEL", "FAILOVER", topology.masterName)
            let result = try await run.value
            #expect(result.status == 0, "stderr: \(result.stderr)")
            #expect(Array(result.outputLines) == Array(repeating: "v", count: 20), "stdout: \(result.stdout)")
            #expect(topology.sentinelMasterPort() != topology.masterPort, "the failover happened meanwhile")
        }
    }
}

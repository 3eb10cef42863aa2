import Foundation
import TestTopology
import Testing

/// At the prompt, a command that destroys data names its target and asks for `yes`;
/// anything else sends nothing. A paste asks once, before any of its lines runs.
/// One-shot and piped input never ask, as redis-cli never does.
@Suite(.serialized, .timeLimit(.minutes(3 * testSlowdown)))
struct DangerousCommandTests {
    private func keyCount(_ topology: Topology) throws -> String {
        try topology.cli(topology.masterPort, "DBSIZE")
    }

    @Test func flushAllAnsweredNoKeepsEveryKeyAndYesFlushes() async throws {
        try await withREPL { topology, terminal in
            for index in 0..<5 { try topology.cli(topology.masterPort, "SET", "k\(index)", "v") }
            #expect(try topology.cli(topology.masterPort, "MOVE", "k4", "3") == "1\n", "one key in db 3")
            let master = "mymaster@\(topology.address(of: topology.masterPort))"
            terminal.type("FLUSHALL\r")
            #expect(
                terminal.waitFor("FLUSHALL on \(master) (every database, 5 keys): type yes to run: "), "screen: \(terminal.screen)")
            #expect(terminal.enter("no", thenPromptAfter: "-- not run: FLUSHALL"), "screen: \(terminal.screen)")
            #expect(try keyCount(topology) == "4\n", "nothing was sent")

            let mark = terminal.mark()
            terminal.type("FLUSHALL\r")
            #expect(terminal.waitForFirst { $0.dropFirst(mark).contains("type yes to run: ") ? true : nil } == true)
            #expect(terminal.enter("yes", thenPromptAfter: "OK"), "screen: \(terminal.screen)")
            #expect(try keyCount(topology) == "0\n")
            let commands = try topology.cli(topology.masterPort, "INFO", "commandstats")
            #expect(commands.contains("cmdstat_flushall:calls=1,"), "sent once: \(commands)")
        }
    }

    @Test func aPasteWithFlushDBAnsweredNoRunsNoneOfItsLines() async throws {
        try await withREPL { topology, terminal in
            try topology.cli(topology.masterPort, "SET", "kept", "v")
            terminal.type("SET a 1\rFLUSHDB\rSET b 2\r")
            #expect(
                terminal.waitFor("-- these 3 lines hold FLUSHDB (line 2): none of them runs unless you answer yes"),
                "screen: \(terminal.screen)")
            #expect(terminal.waitFor("(db 0, 1 keys): type yes to run all 3 lines: "), "screen: \(terminal.screen)")
            #expect(terminal.enter("no", thenPromptAfter: "-- not run: all 3 lines"), "screen: \(terminal.screen)")
            #expect(try topology.cli(topology.masterPort, "EXISTS", "a", "b", "kept") == "1\n", "only the key set before")
            let commands = try topology.cli(topology.masterPort, "INFO", "commandstats")
            #expect(!commands.contains("cmdstat_flushdb") && commands.contains("cmdstat_set:calls=1,"), "\(commands)")
        }
    }

    @Test func safeOffAndYesRunWithoutAQuestionAndReadsAskOnlyPastTheLimit() async throws {
        try await withREPL(arguments: ["--confirm-above", "3"]) { topology, terminal in
            for index in 0..<3 { try topology.cli(topology.masterPort, "SADD", "s", "m\(index)") }
            #expect(terminal.enter("SMEMBERS s", thenPromptAfter: "3) "), "3 members: no question: \(terminal.screen)")
            try topology.cli(topology.masterPort, "SADD", "s", "m3")
            terminal.type("SMEMBERS s\r")
            #expect(terminal.waitFor("SMEMBERS on mymaster@"), "screen: \(terminal.screen)")
            #expect(terminal.waitFor("(key \"s\", 4 elements; the limit is 3): type yes to run: "), "screen: \(terminal.screen)")
            #expect(terminal.enter("yes", thenPromptAfter: "4) "))
            #expect(terminal.enter(":safe off", thenPromptAfter: "safe off"))
            #expect(terminal.enter("FLUSHDB", thenPromptAfter: "OK"))
            #expect(try keyCount(topology) == "0\n")
            #expect(!terminal.screen.contains("FLUSHDB on "), "no question with :safe off")
        }
        try await withREPL(arguments: ["--yes"]) { topology, terminal in
            try topology.cli(topology.masterPort, "SET", "k", "v")
            #expect(terminal.enter("FLUSHDB", thenPromptAfter: "OK"))
            #expect(try keyCount(topology) == "0\n" && !terminal.screen.contains("type yes"))
        }
    }

    @Test func pipedAndOneShotFlushDBRunWithoutAQuestion() async throws {
        try await withTopology { topology in
            try topology.cli(topology.masterPort, "SET", "k", "v")
            let piped = try topology.runREPL([topology.masterName], stdin: "FLUSHDB\nDBSIZE\n")
            #expect(piped.status == 0 && piped.stdout == "OK\n0\n" && piped.stderr.isEmpty, "\(piped)")
            try topology.cli(topology.masterPort, "SET", "k", "v")
            let oneShot = try topology.runREPL([topology.masterName, "FLUSHALL"])
            #expect(oneShot.status == 0 && oneShot.stdout == "OK\n", "\(oneShot)")
            #expect(try keyCount(topology) == "0\n")
        }
    }
}

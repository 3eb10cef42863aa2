import Foundation
import TestTopology
import Testing

#if canImport(Glibc)
    import Glibc
#endif

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

    /// The key count the question shows waits for the master like any command: Ctrl-C
    /// ends the wait, and then nothing runs.
    @Test func ctrlCWhileTheKeyCountWaitsOnAStoppedMasterRunsNothing() async throws {
        try await withREPL { topology, terminal in
            try topology.cli(topology.masterPort, "SET", "kept", "v")
            let master = try #require(topology.pid(ofPort: topology.masterPort))
            kill(master, SIGSTOP)
            var resumed = false
            defer { if !resumed { kill(master, SIGCONT) } }
            let mark = terminal.mark()
            terminal.type("FLUSHDB\r")
            usleep(500_000)
            #expect(!terminal.screen.dropFirst(mark).contains("type yes to run"), "still counting: \(terminal.screen)")
            terminal.type("\u{3}")
            #expect(terminal.waitForPrompt(after: "-- not run: FLUSHDB", since: mark), "screen: \(terminal.screen)")
            #expect(terminal.screen.dropFirst(mark).contains("(interrupted)"))
            kill(master, SIGCONT)
            resumed = true
            #expect(try keyCount(topology) == "1\n", "nothing was sent")
            #expect(terminal.enter("GET kept", thenPromptAfter: "\"v\""), "the session goes on: \(terminal.screen)")
        }
    }

    /// A repeat count does not hide the command; inside MULTI the question says it would be queued.
    @Test func aRepeatedOrQueuedFlushDBAsksToo() async throws {
        try await withREPL { topology, terminal in
            try topology.cli(topology.masterPort, "SET", "kept", "v")
            var mark = terminal.mark()
            terminal.type("3 FLUSHDB\r")
            #expect(terminal.waitForFirst { $0.dropFirst(mark).contains("FLUSHDB on mymaster@") ? true : nil } == true, "screen: \(terminal.screen)")
            #expect(terminal.enter("no", thenPromptAfter: "-- not run: FLUSHDB"), "screen: \(terminal.screen)")
            #expect(terminal.enter("MULTI", thenPromptAfter: "OK"))
            mark = terminal.mark()
            terminal.type("FLUSHDB\r")
            #expect(
                terminal.waitForFirst { $0.dropFirst(mark).contains("(db 0, queued in a transaction: it runs at EXEC): type yes to run: ") ? true : nil } == true,
                "screen: \(terminal.screen)")
            #expect(terminal.enter("n", thenPromptAfter: "-- not run: FLUSHDB"), "screen: \(terminal.screen)")
            #expect(terminal.enter("EXEC", thenPromptAfter: "(empty array)"), "nothing was queued: \(terminal.screen)")
            #expect(try keyCount(topology) == "1\n")
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
            // The question follows a SELECT earlier in the paste.
            #expect(try topology.cli(topology.masterPort, "MOVE", "kept", "3") == "1\n")
            let mark = terminal.mark()
            terminal.type("SELECT 3\rFLUSHDB\r")
            #expect(
                terminal.waitForFirst { $0.dropFirst(mark).contains("(db 3, 1 keys): type yes to run all 2 lines: ") ? true : nil } == true,
                "screen: \(terminal.screen)")
            #expect(terminal.enter("no", thenPromptAfter: "-- not run: all 2 lines"), "screen: \(terminal.screen)")
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

import Foundation
import TestTopology
import Testing

/// The REPL driven through a pseudo-terminal against a real topology, as a person would.
@Suite(.serialized, .timeLimit(.minutes(3 * testSlowdown)))
struct InteractiveTests {
    private func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "\(name)-\(UInt32.random(in: 0...UInt32.max))"
    }

    @Test func historySurvivesARestartWithoutSecrets() async throws {
        try await withTopology { topology in
            let history = temporaryPath("history")
            defer { unlink(history) }
            let first = try topology.openREPL(["--history-file", history])
            defer { first.close() }
            #expect(first.waitFor("> "))
            first.type("SET remembered yes\r")
            #expect(first.waitFor("OK"))
            first.type("AUTH someone secret\r")
            #expect(first.waitForPrompt(after: "(error)"))
            // A paste: its lines go into history, but not a blank one nor a secret.
            first.type("SET pasted 1\r\rAUTH other secret\rGET pasted\r")
            #expect(first.waitForPrompt(after: "\"1\""))
            first.type("\u{4}")
            #expect(first.waitForExit() == 0)

            let saved = try String(contentsOfFile: history, encoding: .utf8)
            #expect(saved.contains("remembered") && saved.contains("pasted"))
            #expect(!saved.contains("AUTH") && !saved.contains("secret"))
            #expect(!saved.contains("\n\n"), "no blank line: \(saved)")
            let mode = try FileManager.default.attributesOfItem(atPath: history)[.posixPermissions] as? Int
            #expect(mode == 0o600)

            let second = try topology.openREPL(["--history-file", history])
            defer { second.close() }
            #expect(second.waitFor("> "))
            second.type("\u{1B}[A")  // Up
            #expect(second.waitFor("GET pasted"))
            // Two more: past SET pasted 1, with no blank line and no AUTH between. (libedit
            // redraws only what changed, so the screen is checked by running the line.)
            second.type("\u{1B}[A\u{1B}[A")
            _ = try topology.cli(topology.masterPort, "DEL", "remembered")
            second.type("\r")
            #expect(second.waitForPrompt(after: "OK"))
            #expect(try topology.cli(topology.masterPort, "GET", "remembered") == "yes\n")
            second.type("\u{4}")
            #expect(second.waitForExit() == 0)
        }
    }

    /// A byte that is not UTF-8 (Latin-1 é) just before Enter: the byte is dropped,
    /// the Enter is not lost with it.
    @Test func aStrayByteBeforeEnterDoesNotEatIt() async throws {
        try await withREPL { (topology, terminal) async throws in
            terminal.type(bytes: Array("ECHO caf".utf8) + [0xE9, 13])
            #expect(terminal.waitForPrompt(after: "\"caf\""), "screen: \(terminal.screen)")
        }
    }

    @Test func tabCompletesContainerSubcommands() async throws {
        try await withREPL { (topology, terminal) async throws in
            terminal.type("config se\t")
            #expect(terminal.waitFor("CONFIG SET"))
            terminal.type("\u{15}")  // Ctrl-U clears the line
            terminal.type("lran\t")
            #expect(terminal.waitFor("LRANGE"))
            terminal.type("\u{15}")
        }
    }

    /// Sentinel fails over while a transaction is open at the prompt: the REPL says
    /// the master moved and MULTI is gone, and redraws the new prompt, without (TX),
    /// with the half-typed line kept.
    @Test func aFailoverShowsAtAnIdlePromptAndTheNextCommandFollows() async throws {
        try await withREPL { (topology, terminal) async throws in
            let oldPrompt = "\(topology.masterName)@127.0.0.1:\(topology.masterPort)> "
            #expect(terminal.waitFor(oldPrompt))
            terminal.type("MULTI\r")
            #expect(terminal.waitFor("\(topology.masterName)@127.0.0.1:\(topology.masterPort)(TX)> "))
            terminal.type("half typed")
            _ = try topology.cli(topology.sentinelPorts[0], "SENTINEL", "FAILOVER", topology.masterName)
            #expect(terminal.waitFor("-- failover: master of \(topology.masterName) moved from 127.0.0.1:\(topology.masterPort) to", seconds: 30))
            #expect(terminal.waitFor("-- MULTI state was lost (the master changed): start the transaction again"))
            let newPort = try #require(
                terminal.waitForFirst { screen in
                    topology.replicaPorts.first { screen.contains("\(topology.masterName)@127.0.0.1:\($0)> half typed") }
                }, "screen: \(terminal.screen)")
            #expect(terminal.enter("\u{15}SET after-failover 1", thenPromptAfter: "OK"))
            #expect(try topology.cli(newPort, "GET", "after-failover") == "1\n")
        }
    }

    /// The session connection dies inside MULTI: the next command is not sent on a
    /// new connection (it would run at once instead of being queued); the REPL says
    /// the transaction is gone and leaves (TX).
    @Test func aCommandTypedInALostTransactionIsNotRunElsewhere() async throws {
        try await withREPL { (topology, terminal) async throws in
            terminal.type("MULTI\r")
            #expect(terminal.waitForPrompt(after: "OK"))
            #expect(terminal.screen.hasSuffix("(TX)> "))
            let id = try await topology.replClientID(showing: " multi=0 ")
            #expect(try topology.cli(topology.masterPort, "CLIENT", "KILL", "ID", id) == "1\n")
            let mark = terminal.mark()
            terminal.type("INCR typed\r")
            #expect(terminal.waitFor("MULTI state was lost"), "screen: \(terminal.screen)")
            #expect(terminal.waitFor("INCR was not sent"), "screen: \(terminal.screen)")
            #expect(try topology.cli(topology.masterPort, "EXISTS", "typed") == "0\n")
            terminal.type("INCR typed\r")
            #expect(terminal.waitForPrompt(after: "(integer) 1", since: mark))
            #expect(terminal.screen.hasSuffix("@127.0.0.1:\(topology.masterPort)> "), "no (TX) any more")
        }
    }

    @Test func ctrlCAbandonsABlockingCommandAndTheREPLGoesOn() async throws {
        try await withREPL { (topology, terminal) async throws in
            terminal.type("partial line\u{3}")
            #expect(terminal.waitFor("^C"))
            terminal.type("BLPOP k 0\r")
            _ = try await topology.replClientID(showing: " cmd=blpop ")
            terminal.type("\u{3}")
            #expect(terminal.waitFor("(interrupted)"), "screen: \(terminal.screen)")
            terminal.type("PING\r")
            #expect(terminal.waitForPrompt(after: "PONG"))
            // The abandoned BLPOP's connection is gone: a push does not feed it.
            _ = try topology.cli(topology.masterPort, "RPUSH", "k", "v")
            #expect(try topology.cli(topology.masterPort, "LLEN", "k") == "1\n")
        }
    }

    enum Exit: String, CaseIterable, Sendable { case ctrlD, quitMeta, quitCommand, sigterm, sighup }

    @Test(arguments: Exit.allCases)
    func everyWayOutIsCleanAndQuick(exit: Exit) async throws {
        try await withTopology { topology in
            let terminal = try topology.openREPL(["--history-file", "/dev/null"])
            defer { terminal.close() }
            #expect(terminal.waitFor("> "))
            terminal.type("SET k v\r")
            #expect(terminal.waitForPrompt(after: "OK"))
            #expect(await eventually(within: 5) { !topology.replConnections().isEmpty })
            let started = Date()
            switch exit {
            case .ctrlD: terminal.type("\u{4}")
            case .quitMeta: terminal.type(":quit\r")
            case .quitCommand: terminal.type("quit\r")
            case .sigterm: kill(terminal.pid, SIGTERM)
            case .sighup: kill(terminal.pid, SIGHUP)
            }
            let status = terminal.waitForExit(seconds: 5)
            let elapsed = Date().timeIntervalSince(started)
            print("\(exit.rawValue): exit \(String(describing: status)) after \(Int(elapsed * 1000)) ms")
            #expect(status == 0)
            #expect(elapsed < 2, "took \(elapsed) s")
            #expect(terminal.stderr.isEmpty, "stderr: \(terminal.stderr)")
            #expect(Self.sameSettings(terminal.initialSettings, terminal.terminalSettingsNow))
            #expect(await eventually(within: 5) { topology.replConnections().isEmpty }, "left: \(topology.replConnections())")
        }
    }

    /// Ctrl-D ends the prompt's line, as redis-cli does: the shell's prompt that
    /// follows starts on a line of its own.
    @Test func ctrlDEndsThePromptLine() async throws {
        try await withTopology { topology in
            let terminal = try topology.openREPL(["--history-file", "/dev/null"])
            defer { terminal.close() }
            #expect(terminal.waitFor("> "))
            terminal.type("\u{4}")
            #expect(terminal.waitForExit() == 0)
            #expect(terminal.screen.hasSuffix("\n"), "screen ends: \(String(terminal.screen.suffix(40)).debugDescription)")
        }
    }

    /// A trap (a Swift precondition is SIGILL or SIGTRAP) or a crash at the prompt
    /// still gives the person their terminal back as it was.
    @Test(arguments: [SIGILL, SIGTRAP, SIGSEGV])
    func aCrashStillRestoresTheTerminal(signal: Int32) async throws {
        try await withTopology { topology in
            let terminal = try topology.openREPL(["--history-file", "/dev/null"])
            defer { terminal.close() }
            #expect(terminal.waitFor("> "))
            #expect(!Self.sameSettings(terminal.initialSettings, terminal.terminalSettingsNow), "the editor changed them")
            kill(terminal.pid, signal)
            #expect(terminal.waitForExit() == 128 + signal, "it died of the signal, as it would have")
            #expect(Self.sameSettings(terminal.initialSettings, terminal.terminalSettingsNow))
        }
    }

    @Test func theDemoOpensTheREPLAndRemovesItsTopology() async throws {
        let terminal = try PseudoTerminal(
            "/bin/bash", ["\(Topology.repositoryRoot)/scripts/demo.sh"],
            environment: ["SENTINEL_REPL_BIN": sentinelREPLExecutable, "SENTINEL_REPL_HISTFILE": "/dev/null"])
        defer { terminal.close() }
        #expect(terminal.waitFor("mymaster@127.0.0.1:", seconds: 60))
        let directory = terminal.stderr.split(separator: "\n").first { $0.hasPrefix("topology: dir ") }
            .map { String($0.dropFirst("topology: dir ".count)) }
        terminal.type("PING\r")
        #expect(terminal.waitForPrompt(after: "PONG"))
        terminal.type("\u{4}")
        #expect(terminal.waitForExit(seconds: 20) == 0)
        let dir = try #require(directory)
        #expect(!FileManager.default.fileExists(atPath: dir), "\(dir) was left behind")
    }

    static func sameSettings(_ a: termios, _ b: termios) -> Bool {
        var a = a
        var b = b
        return memcmp(&a, &b, MemoryLayout<termios>.size) == 0
    }
}

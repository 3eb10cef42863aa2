import Foundation
import TestTopology
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// As a person types at the prompt: the argument hint after the cursor (COMMAND DOCS),
/// and TAB completing key names from a healthy replica, never the master, the
/// candidates listed in columns once.
@Suite(.serialized, .timeLimit(.minutes(4 * testSlowdown)))
struct HintAndKeyCompletionTests {
    /// Waits for `text` in what the terminal printed after `mark`.
    private func shows(_ terminal: PseudoTerminal, _ text: String, after mark: Int, seconds: Double = 10) -> Bool {
        terminal.waitForFirst(seconds: seconds) { $0.dropFirst(mark).contains(text) ? true : nil } ?? false
    }

    /// Types TAB until `text` shows after `mark`: a scan that took longer than TAB waits
    /// serves the next TAB (a loaded machine); at most three.
    private func tab(_ terminal: PseudoTerminal, until text: String, after mark: Int) -> Bool {
        for _ in 0..<3 {
            terminal.type("\t")
            if shows(terminal, text, after: mark, seconds: 3) { return true }
        }
        return false
    }

    @Test func hintsFollowTheArgumentsAndTabCompletesKeysFromAReplica() async throws {
        try await withTopology { topology in
            let load = "seq 0 9999 | awk '{ print \"SET user:\" $1 \" v\" $1 }' | redis-cli -p \(topology.masterPort) --pipe"
            let loaded = try Topology.run("/bin/bash", ["-c", load])
            #expect(loaded.status == 0 && loaded.stdout.contains("replies: 10000"), "\(loaded)")
            try topology.cli(topology.masterPort, "SET", "session:7f3a9c", "the token")
            #expect(await topology.replicasCaughtUp())
            try topology.cli(topology.masterPort, "CONFIG", "RESETSTAT")
            let terminal = try topology.openREPL(["--history-file", "/dev/null"])
            defer { terminal.close() }
            #expect(terminal.waitFor("> ", seconds: 15))

            // Valkey 9's SET has one more condition.
            let condition = Topology.server == "valkey" ? "[NX|XX|IFEQ comparison-value]" : "[NX|XX]"
            var mark = terminal.mark()
            terminal.type("SET k ")
            #expect(shows(terminal, "SET k value \(condition) [GET] [EX seconds|", after: mark), "\(terminal.screen.dropFirst(mark))")
            mark = terminal.mark()
            terminal.type("v EX ")
            #expect(shows(terminal, "EX seconds \(condition) [GET]", after: mark), "\(terminal.screen.dropFirst(mark))")
            terminal.type("\u{15}")

            // A first TAB opens the connection to a replica (no key has this prefix).
            terminal.type("GET nosuchprefix\t")
            usleep(300_000)
            terminal.type("\u{15}")

            mark = terminal.mark()
            terminal.type("GET user:999")
            #expect(tab(terminal, until: "user:9999", after: mark), "\(terminal.screen.dropFirst(mark))")
            let listing = terminal.screen.dropFirst(mark).split(separator: "\n")
            #expect(listing.contains { $0.hasPrefix("user:999 ") && $0.contains("user:9993") }, "in columns: \(listing)")
            mark = terminal.mark()
            terminal.type("\t")
            usleep(300_000)
            #expect(!terminal.screen.dropFirst(mark).contains("user:9993"), "listed once: \(terminal.screen.dropFirst(mark))")
            terminal.type("\u{15}")
            // One candidate: inserted whole, then run.
            mark = terminal.mark()
            terminal.type("GET sess")
            #expect(tab(terminal, until: "session:7f3a9c", after: mark), "\(terminal.screen.dropFirst(mark))")
            #expect(terminal.enter("", thenPromptAfter: "\"the token\""), "\(terminal.screen.dropFirst(mark))")

            // 1,111 keys start with user:1 (user:1, user:10-19, 100-199, 1000-1999): asked first.
            mark = terminal.mark()
            terminal.type("GET user:1")
            #expect(tab(terminal, until: "Display all 1111 possibilities? (y or n)", after: mark), "\(terminal.screen.dropFirst(mark))")
            terminal.type("n\u{15}")

            // help shows a block's token as redis-cli does (it was left out before).
            mark = terminal.mark()
            #expect(terminal.enter("help SORT", thenPromptAfter: "group: generic"), "\(terminal.screen.dropFirst(mark))")
            // (Valkey 9 names SORT's patterns by-pattern and get-pattern: only the block is compared.)
            let sortLine = terminal.screen.dropFirst(mark).split(separator: "\n").first { $0.hasPrefix("  SORT key [BY ") }
            #expect(sortLine?.contains("] [LIMIT offset count] [GET ") == true, "\(terminal.screen.dropFirst(mark))")

            #expect(try commandCalls(topology, topology.masterPort, "scan") == 0, "no SCAN on the master")
            #expect(try topology.replicaPorts.map { try commandCalls(topology, $0, "scan") }.reduce(0, +) > 0, "the keys came from a replica")
            terminal.type("\u{4}")
            #expect(terminal.waitForExit() == 0)
            #expect(terminal.stderr.isEmpty, "stderr: \(terminal.stderr)")
        }
    }

    /// With no healthy replica, the keys come from the master.
    @Test func withNoHealthyReplicaTabScansTheMaster() async throws {
        try await withTopology { topology in
            try topology.cli(topology.masterPort, "SET", "session:7f3a9c", "the token")
            for port in topology.replicaPorts { kill(try #require(topology.pid(ofPort: port)), SIGKILL) }
            let flagged = await eventually(within: 20) {
                let listed = (try? topology.cli(topology.sentinelPorts[0], "SENTINEL", "REPLICAS", topology.masterName)) ?? ""
                return listed.components(separatedBy: "s_down").count == 3
            }
            #expect(flagged, "the sentinels flag both replicas down")
            let terminal = try topology.openREPL(["--history-file", "/dev/null"])
            defer { terminal.close() }
            #expect(terminal.waitFor("> ", seconds: 15))
            // The docs first (the hint shows them), so that GET's key position is known.
            var mark = terminal.mark()
            terminal.type("GET ")
            #expect(shows(terminal, "GET key", after: mark), "\(terminal.screen.dropFirst(mark))")
            mark = terminal.mark()
            terminal.type("sess")
            #expect(tab(terminal, until: "session:7f3a9c", after: mark), "\(terminal.screen.dropFirst(mark))")
            #expect(terminal.enter("", thenPromptAfter: "\"the token\""), "\(terminal.screen.dropFirst(mark))")
            #expect(try commandCalls(topology, topology.masterPort, "scan") > 0, "the master was scanned")
            terminal.type("\u{4}")
            #expect(terminal.waitForExit() == 0)
            #expect(terminal.stderr.isEmpty, "stderr: \(terminal.stderr)")
        }
    }
}

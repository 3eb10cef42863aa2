import Foundation
import TestTopology
import Testing

/// Pasted and piped batches: every line once, in order, one reply each.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct BatchTests {
    @Test func pipedLinesRunOnceInOrderWithOneReplyEach() async throws {
        try await withTopology { topology in
            var lines: [String] = []
            for i in 1...20_000 {
                lines.append(i % 1000 == 0 ? "SET \"broken" : "INCR counter")
            }
            lines.insert("MULTI", at: 500)
            lines.insert("EXEC", at: 502)  // INCR at 501 runs inside the transaction
            let result = try topology.runREPL([topology.masterName], stdin: lines.joined(separator: "\n") + "\n")
            let output = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            #expect(output.count == lines.count, "one reply per line")
            #expect(output.filter { $0 == "Invalid argument(s)" }.count == 20)
            #expect(output[500] == "OK")
            #expect(output[501] == "QUEUED")
            let increments = lines.filter { $0 == "INCR counter" }.count
            #expect(try topology.cli(topology.masterPort, "GET", "counter") == "\(increments)\n")
            // In order: the plain INCR replies count up by one.
            let values = output.compactMap { Int($0) }
            // (EXEC's one-element array prints as one line in raw form.)
            #expect(values == Array(1...increments))
        }
    }

    @Test func aPasteRunsEveryLineWithATranscriptAndLeavesThePartialLine() async throws {
        try await withTopology { topology in
            let terminal = try topology.openREPL(["--history-file", "/dev/null"])
            defer { terminal.close() }
            #expect(terminal.waitFor("> "))
            let paste = (1...300).map { "RPUSH pasted \($0)" } + [":pool", "LLEN pasted", "GET half"]
            terminal.type(paste.joined(separator: "\r"))  // no Enter after the last line
            #expect(terminal.waitFor("(integer) 300"))
            #expect(terminal.waitFor("connections"), "the meta-command ran at its place")
            #expect(terminal.waitFor("> GET half"))
            #expect(terminal.screen.hasSuffix("> GET half"), "the partial line waits in the editor")
            #expect(try topology.cli(topology.masterPort, "LLEN", "pasted") == "300\n")
            // The transcript shows each line, then its reply, in order.
            let screen = terminal.screen
            #expect(screen.contains("> RPUSH pasted 1\n(integer) 1\n"))
            #expect(screen.contains("> RPUSH pasted 300\n(integer) 300\n"))
            terminal.type("\u{15}\u{4}")
            #expect(terminal.waitForExit() == 0)
        }
    }

    @Test func aFailoverInTheMiddleOfABatchLosesNoLineAndRunsNoneTwice() async throws {
        try await withTopology { topology in
            let outcome = try await Self.incrementBatch(on: topology, chunks: 80) {
                let failover = try topology.cli(topology.sentinelPorts[0], "SENTINEL", "FAILOVER", topology.masterName)
                #expect(failover == "OK\n")
            }
            print("batch failover: \(outcome)")
            #expect(outcome.counter <= outcome.acknowledged + outcome.inDoubt, "no line ran twice")
        }
    }

    @Test func aMasterKilledInTheMiddleOfABatchLosesNoLineAndRunsNoneTwice() async throws {
        var options = Topology.Options()
        options.downAfterMilliseconds = 1000
        try await withTopology(options) { topology in
            let outcome = try await Self.incrementBatch(on: topology, chunks: 60) {
                kill(try #require(topology.pid(ofPort: topology.masterPort)), SIGKILL)
            }
            print("batch kill -9: \(outcome)")
            #expect(outcome.counter <= outcome.acknowledged + outcome.inDoubt, "no line ran twice")
            #expect(outcome.counter >= outcome.acknowledged - 10 * Self.perChunk, "the lines after the promotion ran on the new master")
        }
    }

    static let perChunk = 1000

    struct BatchOutcome: CustomStringConvertible {
        var acknowledged: Int
        var inDoubt: Int
        var counter: Int
        var description: String {
            "\(acknowledged) acknowledged, \(inDoubt) in doubt, counter \(counter) on the new master"
        }
    }

    /// Pipes `chunks` x 1000 `INCR counter` lines, 100 ms apart, into the REPL; one
    /// second in, `disrupt` moves the master. Checks one reply per line, nothing but
    /// integers and in-doubt lines, and that Sentinel names a new master.
    static func incrementBatch(
        on topology: Topology, chunks: Int, disrupt: () throws -> Void
    ) async throws -> BatchOutcome {
        let feed = "for i in $(seq \(chunks)); do yes 'INCR counter' | head -\(perChunk); sleep 0.1; done"
        let command = ([sentinelREPLExecutable] + topology.sentinelArguments + [topology.masterName])
            .map(shellQuoted).joined(separator: " ")
        let run = Task.detached { try Topology.run("/bin/bash", ["-c", "\(feed) | \(command)"]) }
        try await Task.sleep(nanoseconds: 1_000_000_000)
        try disrupt()
        let result = try await run.value
        let output = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        let inDoubt = output.filter { $0.contains("may or may not have run") }.count
        let other = output.filter { Int($0) == nil && !$0.contains("may or may not have run") }
        #expect(output.count == chunks * perChunk, "every line yields exactly one reply")
        #expect(other.isEmpty, "unexpected lines: \(other.prefix(5))")
        let newMaster = try #require(topology.sentinelMasterPort())
        #expect(newMaster != topology.masterPort, "the master moved during the batch")
        let counter = Int(try topology.cli(newMaster, "GET", "counter").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        return BatchOutcome(acknowledged: output.filter { Int($0) != nil }.count, inDoubt: inDoubt, counter: counter)
    }
}

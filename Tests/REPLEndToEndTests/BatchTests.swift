import Foundation
import TestTopology
import Testing

/// Pasted and piped batches: every line once, in order, one reply each.
@Suite(.serialized, .timeLimit(.minutes(3 * testSlowdown)))
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
            let output = result.outputLines
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
        try await withREPL { (topology, terminal) async throws in
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
            terminal.type("\u{15}")
        }
    }

    @Test func aFailoverInTheMiddleOfABatchLosesNoLineAndRunsNoneTwice() async throws {
        try await withTopology { topology in
            let outcome = try await Self.incrementBatch(on: topology, chunks: 80) {
                let failover = try topology.cli(topology.sentinelPorts[0], "SENTINEL", "FAILOVER", topology.masterName)
                #expect(failover == "OK\n")
            }
            print("batch failover: \(outcome)")
            outcome.expectNoneLostOrRunTwice()
        }
    }

    /// The issue's stream: 2,000 INCR lines a second, paced, across SENTINEL FAILOVER.
    /// Commands are held from `+selected-slave` until ROLE on the replica says master,
    /// so the old master acknowledges nothing that its demotion discards.
    @Test func aPacedWriteStreamAcrossSentinelFailoverLosesNoAcknowledgedWrite() async throws {
        try await withTopology { topology in
            // 10 lines every 5 ms (2,000 a second) for 10 s; bash sleeps add a little.
            let feed = "for i in $(seq 2000); do printf 'INCR counter\\n%.0s' 1 2 3 4 5 6 7 8 9 10; sleep 0.005; done"
            let run = topology.runREPL(fedBy: feed)
            // About 2 s of writes before the failover.
            #expect(try await eventually(within: 20) { Int(try topology.cli(topology.masterPort, "GET", "counter").dropLast()) ?? 0 >= 4_000 })
            #expect(try topology.cli(topology.sentinelPorts[0], "SENTINEL", "FAILOVER", topology.masterName) == "OK\n")
            let output = try await run.value.outputLines
            #expect(output.count == 20_000, "every line yields exactly one reply")
            let acknowledged = output.filter { Int($0) != nil }.count
            let other = output.filter { Int($0) == nil }
            #expect(other.isEmpty, "nothing failed or in doubt: \(other.prefix(5))")
            let newMaster = try #require(topology.sentinelMasterPort())
            #expect(newMaster != topology.masterPort, "the master moved during the stream")
            let counter = Int(try topology.cli(newMaster, "GET", "counter").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            print("paced stream across SENTINEL FAILOVER: \(acknowledged) acknowledged, \(counter) on the new master")
            #expect(counter == acknowledged, "0 acknowledged INCRs missing from the new master, none run twice")
        }
    }

    /// `CLIENT PAUSE 5000 WRITE` holds the master's writes and Sentinel's hello, so the
    /// sentinels fail over while INCRs wait on the paused master. Those are in doubt
    /// (the switch closes their connection), never printed as successes: with A lines
    /// acknowledged, D in doubt and F the new master's counter, A <= F <= A + D.
    @Test func writesPausedOnAMasterThatIsFailedOverAreInDoubtNotAcknowledged() async throws {
        var options = Topology.Options()
        options.downAfterMilliseconds = 1000
        options.failoverTimeoutMilliseconds = 4000
        try await withTopology(options) { topology in
            let outcome = try await Self.incrementBatch(on: topology, chunks: 100) {
                let paused = try topology.cli(topology.masterPort, "CLIENT", "PAUSE", "5000", "WRITE")
                #expect(paused == "OK\n")
            }
            print("batch across CLIENT PAUSE 5000 WRITE and a failover: \(outcome)")
            outcome.expectNoneLostOrRunTwice()
        }
    }

    /// `kill -9` of the master during a 100,000-line batch.
    @Test func aMasterKilledInTheMiddleOfABatchLosesNoLineAndRunsNoneTwice() async throws {
        var options = Topology.Options()
        options.downAfterMilliseconds = 1000
        options.failoverTimeoutMilliseconds = 4000  // a failed election is retried after 8 s, within the client's 15 s wait
        try await withTopology(options) { topology in
            let outcome = try await Self.incrementBatch(on: topology, chunks: 100) {
                kill(try #require(topology.pid(ofPort: topology.masterPort)), SIGKILL)
            }
            print("batch kill -9: \(outcome)")
            #expect(outcome.counter <= outcome.acknowledged + outcome.inDoubt, "no line ran twice")
            #expect(outcome.counter >= outcome.acknowledged - 10 * Self.perChunk, "the lines after the promotion ran on the new master")
        }
    }

    /// The session connection is killed while a batch waits on `BLPOP q 0` with a
    /// transaction of ten INCRs written behind it: each of those thirteen lines says it
    /// may or may not have run, none is run again, and the lines that come later (after
    /// the EXEC that ended that transaction, in doubt) run on a new connection.
    /// A reply that is not valid RESP (a Lua big number with CRLF in it, under RESP3) is
    /// that line's error alone: the lines written behind it are in doubt (they ran), and
    /// the lines after them run on a new connection with their real replies.
    @Test func aMalformedReplyFailsItsLineAloneAndLaterLinesRun() async throws {
        try await withTopology { topology in
            // Single quotes keep the backslashes for Lua, whose string then holds CR LF.
            let malformed = #"EVAL 'return {big_number="123\r\n123"}' 0"#
            let feed = TwoPartFeed(first: [malformed] + Array(repeating: "INCR c", count: 10), then: Array(repeating: "INCR c", count: 5))
            let run = feed.run(into: topology, flags: ["-3"])
            try await Task.sleep(nanoseconds: 1_000_000_000)  // the first part is answered
            feed.release()
            let result = try await run.value
            let output = result.outputLines.map(String.init)
            #expect(output.count == 16, "one line per line: \(output)")
            #expect(output.first?.contains("sent a reply that is not valid RESP") == true, "\(output)")
            #expect(output.dropFirst().prefix(10).allSatisfy { $0.contains("may or may not have run") }, "\(output)")
            #expect(Array(output.suffix(5)) == ["11", "12", "13", "14", "15"], "the in-doubt INCRs ran; the later ones once each")
            #expect(try topology.cli(topology.masterPort, "GET", "c") == "15\n")

            // 5,000 lines behind it in one stream: each line one honest outcome.
            #expect(try topology.cli(topology.masterPort, "DEL", "c") == "1\n")
            let lines = ([malformed] + Array(repeating: "INCR c", count: 5000)).joined(separator: "\n") + "\n"
            let big = try topology.runREPL(["-3", topology.masterName], stdin: lines)
            let outcomes = big.outputLines.map(String.init)
            #expect(outcomes.count == 5001)
            #expect(outcomes.filter { $0.contains("sent a reply that is not valid RESP") }.count == 1)
            let acknowledged = outcomes.compactMap { Int($0) }
            let inDoubt = outcomes.filter { $0.contains("may or may not have run") }.count
            #expect(acknowledged.count + inDoubt == 5000, "every INCR a reply or in doubt: \(Set(outcomes.filter { Int($0) == nil }))")
            let counter = Int(try topology.cli(topology.masterPort, "GET", "c").dropLast()) ?? 0
            #expect(acknowledged.count <= counter && counter <= acknowledged.count + inDoubt, "A <= F <= A + D")
            print("malformed reply then 5000 INCR: \(acknowledged.count) acknowledged, \(inDoubt) in doubt, counter \(counter)")
        }
    }

    @Test func linesInFlightWhenTheConnectionDiesGetOneInDoubtLineEach() async throws {
        try await withTopology { topology in
            let feed = TwoPartFeed(
                first: ["SET k v", "BLPOP q 0", "MULTI"] + Array(repeating: "INCR c", count: 10) + ["EXEC"],
                then: Array(repeating: "INCR c", count: 5))
            let run = feed.run(into: topology)
            let blocked = try await topology.replClientID(showing: " cmd=blpop ")
            // The lines behind BLPOP wait in the server's query buffer for the client.
            let written = feed.first.map(Self.respBytes).reduce(0, +)
            #expect(try await eventually(within: 5) { try Self.bytesWaiting(of: blocked, on: topology, written: written) })
            #expect(try topology.cli(topology.masterPort, "CLIENT", "KILL", "ID", blocked) == "1\n")
            feed.release()
            let result = try await run.value
            let output = result.outputLines.map(String.init)
            #expect(output.count == 19, "one reply per line: \(output)")
            #expect(output.first == "OK")
            let inDoubt = output.dropFirst().prefix(13)
            #expect(inDoubt.allSatisfy { $0.contains("may or may not have run") }, "\(inDoubt)")
            #expect(inDoubt.first?.hasPrefix("BLPOP was sent") == true)
            #expect(Array(output.suffix(5)) == ["1", "2", "3", "4", "5"], "later lines ran once each, in order")
            // The server dropped the queued INCRs with the killed client; nobody re-ran them.
            #expect(try topology.cli(topology.masterPort, "GET", "c") == "5\n")
            #expect(result.stderr.isEmpty, "\(result.stderr)")
        }
    }

    /// The bytes of `client`'s query buffer on the master (`qbuf=` of CLIENT LIST): lines
    /// written behind a blocked command wait there.
    /// Whether the lines behind a blocked command have reached the server: Redis 7.0 keeps
    /// them in the client's query buffer (`qbuf`); Valkey 9 parses them ahead into a queue
    /// (`qbuf=0`), and its `tot-net-in` counts them: all `written` bytes read (they left in
    /// one write; the handshake before them is smaller).
    static func bytesWaiting(of client: String, on topology: Topology, written: Int) throws -> Bool {
        let fields = try topology.cli(topology.masterPort, "CLIENT", "LIST", "ID", client).split(separator: " ")
        func value(_ name: String) -> Int? { fields.first { $0.hasPrefix(name + "=") }.flatMap { Int($0.dropFirst(name.count + 1)) } }
        return (value("qbuf") ?? 0) > 0 || (value("tot-net-in") ?? 0) >= written
    }

    /// The size of `line` as RESP (words split on spaces).
    static func respBytes(_ line: String) -> Int {
        let words = line.split(separator: " ")
        return "*\(words.count)\r\n".utf8.count + words.map { "$\($0.utf8.count)\r\n\($0)\r\n".utf8.count }.reduce(0, +)
    }

    /// The master is demoted by hand while a piped batch pauses, so the old connection
    /// answers READONLY; only then is Sentinel told of the new master, without a
    /// failover (no +switch-master event). Each refused line (it did not run) runs once
    /// on the new master, in order, and the batch goes on there.
    @Test func linesRefusedByADemotedMasterRunOnceOnTheNewOne() async throws {
        try await withTopology { topology in
            let feed = TwoPartFeed(
                first: Array(repeating: "INCR counter", count: 500), then: Array(repeating: "INCR counter", count: 500))
            let run = feed.run(into: topology)
            let promoted = topology.replicaPorts[0]
            #expect(try await eventually(within: 20) { try topology.cli(promoted, "GET", "counter") == "500\n" })
            try await topology.promoteByHand(promoted)
            feed.release()
            #expect(
                try await eventually(within: 10) {
                    try topology.cli(topology.masterPort, "INFO", "errorstats").contains("errorstat_READONLY:")
                }, "the old master refused the batch's writes")
            try topology.monitorAfresh(promoted)
            let result = try await run.value
            let output = result.outputLines
            #expect(output.count == 1000, "one reply per line")
            #expect(output.compactMap { Int($0) } == Array(1...1000), "in order, each once: \(output.filter { Int($0) == nil }.prefix(3))")
            #expect(try topology.cli(promoted, "GET", "counter") == "1000\n")
            #expect(try topology.cli(topology.masterPort, "ROLE").hasPrefix("slave\n"), "the old master was demoted")
            #expect(topology.sentinelMasterPort() == promoted, "the sentinels name the promoted replica")
        }
    }

    /// A terminal that sends CR LF: each pair ends one line, typed or pasted, and no
    /// empty line appears between them (the terminal's CR-to-LF mapping is off).
    @Test func crLfEndsOneLine() async throws {
        try await withREPL { (topology, terminal) async throws in
            let prompt = "\(topology.masterName)@127.0.0.1:\(topology.masterPort)> "
            terminal.type("SET crlf 1\r\nGET crlf\r\nINCR n\r\n")
            #expect(terminal.waitForPrompt(after: "(integer) 1"), "screen: \(terminal.screen)")
            terminal.type("INCR n\r")
            #expect(terminal.waitForPrompt(after: "(integer) 2"), "screen: \(terminal.screen)")
            terminal.type("INCR n\r\n")
            #expect(terminal.waitForPrompt(after: "(integer) 3"), "screen: \(terminal.screen)")
            terminal.type("INCR n\r")
            #expect(terminal.waitForPrompt(after: "(integer) 4"), "screen: \(terminal.screen)")
            // A prompt refresh while idle redraws the prompt in place: count it once.
            var screen = terminal.screen
            while screen.contains(prompt + prompt) { screen = screen.replacingOccurrences(of: prompt + prompt, with: prompt) }
            #expect(screen.contains("\(prompt)SET crlf 1\nOK\n\(prompt)GET crlf\n\"1\"\n\(prompt)INCR n\n(integer) 1\n"), "\(screen)")
            #expect(screen.hasSuffix("(integer) 3\n\(prompt)INCR n\n(integer) 4\n\(prompt)"), "\(screen)")
            #expect(!screen.contains("\(prompt)\n"), "no empty line: \(screen)")
        }
    }

    /// The transcript of a paste shows the prompt a person would have seen at each line.
    @Test func aPastesTranscriptFollowsThePrompt() async throws {
        try await withREPL(arguments: ["-n", "2"]) { (topology, terminal) async throws in
            terminal.type("MULTI\rINCR tx\rEXEC\rSELECT 0\rGET tx\r")
            #expect(terminal.waitForPrompt(after: "(nil)"), "screen: \(terminal.screen)")
            let screen = terminal.screen
            #expect(screen.contains("[2]> MULTI\nOK\n"))
            #expect(screen.contains("[2](TX)> INCR tx\nQUEUED\n"))
            #expect(screen.contains("[2](TX)> EXEC\n1) (integer) 1\n"))
            #expect(screen.contains("[2]> SELECT 0\nOK\n"))
            #expect(screen.contains(":\(topology.masterPort)> GET tx\n(nil)\n"))
        }
    }

    /// A paste while there is no master waits for one (a failover); Ctrl-C ends the
    /// wait at once and nothing of the paste runs.
    @Test func ctrlCEndsAPastesWaitForAMaster() async throws {
        var options = Topology.Options()
        options.downAfterMilliseconds = 60_000  // no failover during the test
        try await withREPL(options) { (topology, terminal) async throws in
            let held = Topology.sockets(of: terminal.pid, connectedTo: topology.masterPort)
            #expect(!held.isEmpty, "the REPL holds a connection to the master")
            kill(try #require(topology.pid(ofPort: topology.masterPort)), SIGKILL)
            // Once the REPL has closed that connection; before that, a paste would be
            // written to the dead socket and be in doubt, not wait.
            #expect(await eventually(within: 5) { Topology.socketInodes(of: terminal.pid).isDisjoint(with: held) })
            terminal.type("SET a 1\rSET b 2\rSET c 3\r")
            #expect(terminal.waitFor("> SET a 1\n"), "the editor has read the paste")
            try await Task.sleep(nanoseconds: 1_000_000_000)
            terminal.type("\u{3}")
            // Within 5 s, well before the 15 s wait for a master would end in errors.
            #expect(terminal.waitFor("-- 3 later line(s) of the batch were not run", seconds: 5), "screen: \(terminal.screen)")
            #expect(terminal.screen.contains("(interrupted)"))
            #expect(!terminal.screen.contains("no master for"))
        }
    }

    /// A terminal left in bracketed-paste mode wraps the paste in markers; they never
    /// reach a command.
    @Test func bracketedPasteMarkersNeverReachACommand() async throws {
        try await withREPL { (topology, terminal) async throws in
            terminal.type("\u{1B}[200~SET bp 1\rRPUSH bpl x\r\u{1B}[201~")
            #expect(terminal.waitFor("(integer) 1"), "screen: \(terminal.screen)")
            #expect(terminal.screen.contains("> SET bp 1\nOK\n"))
            #expect(try topology.cli(topology.masterPort, "KEYS", "*bp*").split(separator: "\n").sorted() == ["bp", "bpl"])
        }
    }

    /// The connection dies between MULTI and EXEC of a piped transaction: the rest of
    /// the transaction is not run on the new connection (that would run its commands
    /// one by one); the line after EXEC runs.
    @Test func aTransactionCutByALostConnectionIsNotFinishedElsewhere() async throws {
        try await withTopology { topology in
            let feed = TwoPartFeed(first: ["MULTI", "INCR t"], then: ["INCR t", "EXEC", "INCR after"])
            let run = feed.run(into: topology)
            let id = try await topology.replClientID(showing: " multi=1 ")
            #expect(try topology.cli(topology.masterPort, "CLIENT", "KILL", "ID", id) == "1\n")
            feed.release()
            let result = try await run.value
            let output = result.outputLines.map(String.init)
            #expect(output.count == 5, "one reply per line: \(output)")
            #expect(Array(output.prefix(2)) == ["OK", "QUEUED"])
            #expect(output[2].hasPrefix("INCR was not run: the MULTI or WATCH block"), "\(output)")
            #expect(output[3].hasPrefix("EXEC was not run"), "\(output)")
            #expect(output.last == "1", "the line after the block ran")
            #expect(try topology.cli(topology.masterPort, "EXISTS", "t") == "0\n", "no INCR t ran")
            #expect(result.stderr.contains("MULTI state was lost"), "\(result.stderr)")
        }
    }

    /// Ctrl-C while a pasted batch waits on BLPOP: the lines before it have their
    /// replies, the BLPOP says interrupted, and the five INCRs written behind it are
    /// counted as sent without a reply (the server dropped them with the connection).
    @Test func ctrlCAbandonsAPastedBatchAndSaysWhatWasNotRun() async throws {
        try await withREPL { (topology, terminal) async throws in
            let paste = ["SET a 1", "BLPOP q 0"] + Array(repeating: "INCR c", count: 5)
            terminal.type(paste.joined(separator: "\r") + "\r")
            _ = try await topology.replClientID(showing: " cmd=blpop ")
            terminal.type("INCR c\rINCR c\r")  // more of the paste, arriving while BLPOP waits
            try await Task.sleep(nanoseconds: 100_000_000)
            terminal.type("\u{3}")
            #expect(
                terminal.waitFor("-- 5 later line(s) were sent and got no reply: they may or may not have run"),
                "screen: \(terminal.screen)")
            let screen = terminal.screen
            #expect(screen.contains("> SET a 1\nOK\n"))
            #expect(screen.contains("> BLPOP q 0\n(interrupted)\n"))
            #expect(try topology.cli(topology.masterPort, "EXISTS", "c") == "0\n", "no INCR ran")
            #expect(terminal.enter("GET a", thenPromptAfter: "\"1\""))
            #expect(try topology.cli(topology.masterPort, "EXISTS", "c") == "0\n", "the rest of the paste did not run")
        }
    }

    /// A window bounds what is in flight, so memory does not grow with the input: over
    /// the second million of two million lines, resident memory stays where it was
    /// during the first. (A leak of 7 bytes a line, or more, fails it.)
    @Test func memoryStaysFlatAsTheInputGrows() async throws {
        try await withTopology { topology in
            let lines = 2_000_000
            let run = try Self.sampleMemory(lines: lines, on: topology)
            let early = try #require(run.largest(fromReply: lines / 10, to: lines / 2), "no sample in the first half")
            let late = try #require(run.largest(fromReply: lines / 2 + 1, to: lines), "no sample in the second half")
            print("anonymous RSS: \(early) KB up to line \(lines / 2), \(late) KB after; \(run.summary)")
            #expect(late - early < 6 * 1024, "memory grew with the input: \(early) KB, then \(late) KB; \(run.summary)")
            #expect(try topology.cli(topology.masterPort, "GET", "flat") == "\(lines)\n", "every line ran once")
        }
    }

    struct MemorySamples: Decodable {
        /// (replies read so far, anonymous resident KB, file-backed resident KB), every 20 ms.
        var samples: [[Int]]
        var peak: Int
        var environment: String

        func largest(fromReply first: Int, to last: Int) -> Int? {
            samples.filter { (first...last).contains($0[0]) }.map { $0[1] }.max()
        }

        var summary: String {
            let fileBacked = samples.map { $0[2] }.max() ?? 0
            let sparse = stride(from: 0, to: samples.count, by: max(1, samples.count / 20)).map { samples[$0] }
            return "file-backed RSS up to \(fileBacked) KB, peak RSS of the largest child \(peak) KB, \(environment); samples \(sparse)"
        }
    }

    /// Runs `lines` INCRs from a pipe through sentinel-repl and samples its anonymous
    /// resident memory (RssAnon) against how many replies it has printed.
    static func sampleMemory(lines: Int, on topology: Topology) throws -> MemorySamples {
        let script = """
            import ctypes, json, resource, subprocess, sys, threading, time
            def no_huge_pages():
                # Where transparent huge pages are "always", RSS moves in 2 MiB steps as
                # the kernel collapses pages, whatever the program allocates.
                ctypes.CDLL(None).prctl(41, 1, 0, 0, 0)  # PR_SET_THP_DISABLE
            # Ten lines a write: with `yes`, the debug build's old line splitting did not
            # show its growth; with this feeder it did, 2 runs in 3.
            feeder = "import os\\nfor _ in range(\(lines / 10)): os.write(1, b'INCR flat\\\\n' * 10)"
            feed = subprocess.Popen([sys.executable, "-c", feeder], stdout=subprocess.PIPE)
            repl = subprocess.Popen(sys.argv[1:], stdin=feed.stdout, stdout=subprocess.PIPE, preexec_fn=no_huge_pages)
            feed.stdout.close()
            replies, samples = 0, []
            def sample():
                while repl.poll() is None:
                    try:
                        status = open(f"/proc/{repl.pid}/status").read()
                    except OSError:
                        return
                    kb = {f[0]: int(f[1]) for f in (l.split() for l in status.splitlines()) if f[0] in ("RssAnon:", "RssFile:")}
                    if len(kb) == 2:  # not yet exited (a zombie has no memory lines)
                        samples.append([replies, kb["RssAnon:"], kb["RssFile:"]])
                    time.sleep(0.02)
            sampler = threading.Thread(target=sample)
            sampler.start()
            while chunk := repl.stdout.read1(65536):
                replies += chunk.count(b"\\n")
            repl.wait(); feed.wait(); sampler.join()
            assert replies == \(lines), f"{replies} replies"
            try:
                thp = open("/sys/kernel/mm/transparent_hugepage/enabled").read().strip()
            except OSError:
                thp = "not in this kernel"
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            print(json.dumps({"samples": samples, "peak": peak, "environment": f"THP {thp}"}))
            """
        let result = try Topology.run(
            "/usr/bin/env", ["python3", "-c", script] + topology.replCommand([topology.masterName]))
        try #require(result.status == 0, "\(result.stderr)")
        return try JSONDecoder().decode(MemorySamples.self, from: Data(result.stdout.utf8))
    }

    /// A program that writes a line and waits for its reply before the next (a
    /// coprocess, expect): each reply comes while stdin stays open.
    @Test func eachReplyComesBeforeMoreInputArrives() async throws {
        try await withTopology { topology in
            let script = """
                import select, subprocess, sys
                repl = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                for line, expected in [(b"SET a 1", b"OK"), (b"INCR a", b"2"), (b"GET a", b"2")]:
                    repl.stdin.write(line + b"\\n")
                    repl.stdin.flush()
                    ready, _, _ = select.select([repl.stdout], [], [], 10)
                    assert ready, f"no reply to {line} within 10 s"
                    reply = repl.stdout.readline().rstrip(b"\\n")
                    assert reply == expected, f"{line}: {reply}"
                repl.stdin.close()
                sys.exit(repl.wait())
                """
            let result = try Topology.run(
                "/usr/bin/env",
                ["python3", "-c", script] + topology.replCommand([topology.masterName]))
            #expect(result.status == 0, "\(result.stderr)")
        }
    }

    /// The master stops reading (SIGSTOP) while 500-byte APPENDs pour in, so writes pile
    /// up unsent in the client, then dies: what was never written whole is re-sent on
    /// the new master, what may have gone out is in doubt, and nothing runs twice.
    @Test func aMasterThatHangsThenDiesUnderLargeWritesRunsNoLineTwice() async throws {
        var options = Topology.Options()
        options.downAfterMilliseconds = 1000
        options.failoverTimeoutMilliseconds = 4000  // a failed election is retried after 8 s, within the client's 15 s wait
        try await withTopology(options) { topology in
            let value = String(repeating: "x", count: 500)
            let outcome = try await Self.incrementBatch(
                on: topology, chunks: 40, line: "APPEND log \(value)",
                applied: { topology, port in
                    (Int(try topology.cli(port, "STRLEN", "log").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) / 500
                }
            ) {
                let master = try #require(topology.pid(ofPort: topology.masterPort))
                kill(master, SIGSTOP)
                try await Task.sleep(nanoseconds: 1_500_000_000)
                kill(master, SIGKILL)
            }
            print("batch hang then kill -9: \(outcome)")
            #expect(outcome.counter <= outcome.acknowledged + outcome.inDoubt, "no line ran twice")
        }
    }

    static let perChunk = 1000

    /// Pipes `chunks` x 1000 `line`s (`INCR counter`), 100 ms apart, into the REPL; once
    /// lines run on the first master, `disrupt` moves the master. Checks one reply per line, nothing but
    /// integers and in-doubt lines, and that Sentinel names a new master; `applied`
    /// counts the lines the new master shows.
    static func incrementBatch(
        on topology: Topology, chunks: Int, line: String = "INCR counter",
        applied: (Topology, Int) throws -> Int = { topology, port in
            Int(try topology.cli(port, "GET", "counter").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        },
        disrupt: () async throws -> Void
    ) async throws -> BatchOutcome {
        let feed = "for i in $(seq \(chunks)); do yes \(shellQuoted(line)) | head -\(perChunk); sleep 0.1; done"
        let run = topology.runREPL(fedBy: feed)
        // The batch is under way on the first master, however slowly the REPL starts.
        #expect(try await eventually(within: 20) { try applied(topology, topology.masterPort) > 0 })
        try await disrupt()
        let result = try await run.value
        let output = result.outputLines
        #expect(output.count == chunks * perChunk, "every line yields exactly one reply")
        let newMaster = try #require(topology.sentinelMasterPort())
        #expect(newMaster != topology.masterPort, "the master moved during the batch")
        return BatchOutcome(counting: output, counter: try applied(topology, newMaster))
    }
}

/// Lines piped into sentinel-repl in two parts: the second waits until `release()`,
/// so the test can act between them however slowly the REPL starts.
struct TwoPartFeed {
    var first: [String]
    var then: [String]
    let gate = NSTemporaryDirectory() + "feed-gate-\(UInt32.random(in: 0...UInt32.max))"

    func run(into topology: Topology, flags: [String] = []) -> Task<Topology.RunResult, Error> {
        // /usr/bin/printf writes a part in writes of 4 KB (bash's builtin writes line by
        // line), so the REPL reads a short part whole, as the tests that need it expect.
        func printf(_ lines: [String]) -> String { "/usr/bin/printf '%s\\n' " + lines.map(shellQuoted).joined(separator: " ") }
        let feed = "\(printf(first)); while [ ! -e \(shellQuoted(gate)) ]; do sleep 0.05; done; rm -f \(shellQuoted(gate)); \(printf(then))"
        return topology.runREPL(fedBy: feed, flags: flags)
    }

    func release() {
        #expect(FileManager.default.createFile(atPath: gate, contents: nil), "the gate \(gate)")
    }
}

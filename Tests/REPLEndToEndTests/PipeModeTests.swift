import Foundation
import TestTopology
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `--pipe` through Sentinel: redis-cli's summary on the same input; at a failover
/// mid-stream, a stop that accounts for every command once and says where the rest starts.
@Suite(.serialized, .timeLimit(.minutes(4 * testSlowdown)))
struct PipeModeTests {
    /// `SET k:i i` in RESP for i in 0..<count, each command's start offset beside it.
    private func resp(_ count: Int) -> (bytes: [UInt8], starts: [Int]) {
        var bytes: [UInt8] = []
        var starts: [Int] = []
        for i in 0..<count {
            starts.append(bytes.count)
            let key = "k:\(i)", value = "\(i)"
            bytes += Array("*3\r\n$3\r\nSET\r\n$\(key.utf8.count)\r\n\(key)\r\n$\(value.utf8.count)\r\n\(value)\r\n".utf8)
        }
        return (bytes, starts)
    }

    private func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "pipe-input-\(UInt32.random(in: 0...UInt32.max))"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func dbsize(_ topology: Topology, _ port: Int) throws -> String { try topology.cli(port, "DBSIZE") }

    /// RESP and inline commands, blank lines, error replies, a last line with no newline:
    /// the same stdout, stderr and exit status as redis-cli's, and the same keys.
    @Test func theSummaryAndTheErrorsAreRedisClis() async throws {
        try await withTopology { topology in
            var input = resp(200_000).bytes
            input += Array("\r\nINCR k:1\r\n\n   \nINCR notanumber\r\n*0\r\nSET inline:1 \"a b\"\nLPUSH k:2 x\nBADCOMMAND x\nGET k:3".utf8)
            _ = try topology.cli(topology.masterPort, "SET", "notanumber", "x")
            let file = try temporaryFile(input)
            defer { unlink(file) }
            let ours = try Topology.run("/bin/bash", ["-c", "\(topology.replCommand(["--pipe", topology.masterName]).map(shellQuoted).joined(separator: " ")) < \(file)"])
            let keys = try dbsize(topology, topology.masterPort)
            _ = try topology.cli(topology.masterPort, "FLUSHALL")
            _ = try topology.cli(topology.masterPort, "SET", "notanumber", "x")
            let theirs = try Topology.run("/bin/bash", ["-c", "redis-cli -p \(topology.masterPort) --pipe < \(file)"])
            #expect(ours.stdout == theirs.stdout && ours.stderr == theirs.stderr && ours.status == theirs.status, "ours: \(ours)\nredis-cli: \(theirs)")
            #expect(theirs.stdout.hasSuffix("errors: 3, replies: 200006\n"), "\(theirs.stdout)")
            #expect(keys == (try dbsize(topology, topology.masterPort)) && keys == "200002\n", "\(keys)")
        }
    }

    enum Stop: String, CaseIterable { case sentinelFailover, masterKilled }

    /// The input comes through a pipe at 50,000 commands a second; the master changes 2 s in.
    @Test(arguments: Stop.allCases)
    func aFailoverMidStreamStopsItAndEveryCommandIsAccountedForOnce(_ stop: Stop) async throws {
        try await withTopology { topology in
            let count = 300_000
            let (input, starts) = resp(count)
            let file = try temporaryFile(input)
            defer { unlink(file) }
            let old = topology.masterPort
            _ = try topology.cli(old, "CONFIG", "RESETSTAT")
            let slowCat = "import sys,time\nd=open(sys.argv[1],'rb').read()\nfor i in range(0,len(d),16384):\n sys.stdout.buffer.write(d[i:i+16384]); sys.stdout.flush(); time.sleep(0.01)"
            let run = topology.runREPL(fedBy: "python3 -c \(shellQuoted(slowCat)) \(file) 2>/dev/null", flags: ["--pipe"])
            try await Task.sleep(nanoseconds: 2_000_000_000)
            switch stop {
            case .sentinelFailover: _ = try topology.cli(topology.sentinelPorts[0], "SENTINEL", "FAILOVER", topology.masterName)
            case .masterKilled: kill(try #require(topology.pid(ofPort: old)), SIGKILL)
            }
            let result = try await run.value
            #expect(result.status == 1, "\(result)")
            let report = try #require(result.stderr.split(separator: "\n").first { $0.hasPrefix("sentinel-repl: --pipe stopped: ") }, "\(result)")
            let total = try #require(number(after: "Of ", in: report))
            let answered = try #require(number(before: " answered", in: report))
            let inDoubt = try #require(number(before: " in doubt", in: report))
            let notSent = try #require(number(before: " not sent", in: report))
            #expect(answered + inDoubt + notSent == total && total < count, "\(report)")
            #expect(result.stdout.hasSuffix("errors: 0, replies: \(answered)\n") || result.stdout.contains(", replies: \(answered)\n"), "\(result.stdout)")
            if stop == .sentinelFailover {
                // Never twice: the old master ran at most what was answered or in doubt.
                let calls = try commandCalls(topology, old, "set")
                #expect(calls <= answered + inDoubt, "\(calls) SET ran for \(answered) answered and \(inDoubt) in doubt")
            }
            // The rest, from the byte the report names, on the new master: every key from there on arrives.
            let resume = try #require(result.stderr.split(separator: "\n").first { $0.contains("what is left to send starts at byte ") }, "\(result.stderr)")
            let offset = try #require(number(after: "starts at byte ", in: resume))
            let first = try #require(starts.firstIndex(of: offset), "byte \(offset) starts a command")
            #expect(first <= answered + inDoubt, "the first not run, \(first), comes after the \(answered) answered and \(inDoubt) in doubt at most")
            #expect(await eventually(within: 30) { topology.sentinelMasterPort().map { $0 != old } ?? false })
            let newMaster = try #require(topology.sentinelMasterPort())
            let rest = try Topology.run("/bin/bash", ["-c", "tail -c +\(offset + 1) \(file) | \(topology.replCommand(["--pipe", topology.masterName]).map(shellQuoted).joined(separator: " "))"])
            #expect(rest.status == 0 && rest.stdout.hasSuffix("errors: 0, replies: \(count - first)\n"), "\(rest)")
            for index in [first, (first + count) / 2, count - 1] {
                #expect(try topology.cli(newMaster, "GET", "k:\(index)") == "\(index)\n", "k:\(index) on the new master")
            }
        }
    }

    /// Ctrl-C while the producer is quiet: no wait for input that is not coming; what was
    /// sent is answered and the rest is named by its byte.
    @Test func ctrlCWhileTheInputIsQuietStopsAtOnceAndAccountsForWhatWasSent() async throws {
        try await withTopology { topology in
            let repl = topology.replCommand(["--pipe", topology.masterName]).map(shellQuoted).joined(separator: " ")
            // The producer sends two commands and part of a third, then is quiet for 5 s.
            let producer = "printf 'SET a 1\\r\\nSET b 2\\r\\n*1\\r\\n$4\\r\\nPI'; sleep 5"
            let consumer = "timeout --preserve-status -s INT 1 \(repl); s=$?; echo \"elapsed $(( ($(date +%s%N) - start) / 1000000 ))\" >&2; exit $s"
            let run = try Topology.run("/bin/bash", ["-c", "start=$(date +%s%N); (\(producer)) | { \(consumer); }"])
            #expect(run.status == 1 && run.stdout == "errors: 0, replies: 2\n", "\(run)")
            #expect(run.stderr.contains("--pipe stopped: interrupted (Ctrl-C). Of 2 commands: 2 answered, 0 in doubt"), "\(run.stderr)")
            // 28 bytes read; the third command, cut short at byte 18, is where the rest starts.
            #expect(run.stderr.contains("the input from byte 28 on not read") && run.stderr.contains("starts at byte 18 of the input"), "\(run.stderr)")
            #expect(try topology.cli(topology.masterPort, "GET", "b") == "2\n")
            let elapsed = try #require(run.stderr.split(separator: "\n").first { $0.hasPrefix("elapsed ") }.flatMap { Int($0.dropFirst(8)) })
            #expect(elapsed < 3000, "it ended at Ctrl-C (\(elapsed) ms), not with the producer")
        }
    }

    /// A command far bigger than a read (a 24 MiB value between small commands) is
    /// gathered over many reads and sent whole, its bytes intact.
    @Test func aCommandBiggerThanManyReadsArrivesWhole() async throws {
        try await withTopology { topology in
            let value = (0..<(24 << 20)).map { UInt8(ascii: "a") + UInt8($0 % 26) }
            var input = resp(3).bytes
            input += Array("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$\(value.count)\r\n".utf8) + value + Array("\r\nINCR k:1\r\n".utf8)
            let file = try temporaryFile(input)
            defer { unlink(file) }
            let run = try Topology.run("/bin/bash", ["-c", "\(topology.replCommand(["--pipe", topology.masterName]).map(shellQuoted).joined(separator: " ")) < \(file)"])
            #expect(run.status == 0 && run.stdout.hasSuffix("errors: 0, replies: 5\n"), "\(run)")
            #expect(try topology.cli(topology.masterPort, "STRLEN", "big") == "\(value.count)\n")
            let middle = (12 << 20)..<((12 << 20) + 40)
            #expect(try topology.cli(topology.masterPort, "GETRANGE", "big", "\(middle.lowerBound)", "\(middle.upperBound - 1)")
                == String(decoding: value[middle], as: UTF8.self) + "\n")
            #expect(try topology.cli(topology.masterPort, "GET", "k:1") == "2\n")
        }
    }

    private func number(after marker: String, in text: Substring) -> Int? {
        text.range(of: marker).flatMap { Int(text[$0.upperBound...].prefix { $0.isNumber }) }
    }

    private func number(before marker: String, in text: Substring) -> Int? {
        text.range(of: marker).flatMap { range in
            Int(String(text[..<range.lowerBound].reversed().prefix { $0.isNumber }.reversed()))
        }
    }

}

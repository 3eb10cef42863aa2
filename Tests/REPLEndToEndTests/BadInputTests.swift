import Foundation
import TestTopology
import Testing

/// Input a person or a script may send by mistake: each gets a clear outcome, and
/// the lines around it run.
@Suite(.serialized, .timeLimit(.minutes(3 * testSlowdown)))
struct BadInputTests {
    /// Runs the REPL with `stdin` as raw bytes (not only UTF-8).
    private func run(_ topology: Topology, _ arguments: [String], stdin: [UInt8]) throws -> Topology.RunResult {
        let input = NSTemporaryDirectory() + "repl-bytes-\(UInt32.random(in: 0...UInt32.max))"
        #expect(FileManager.default.createFile(atPath: input, contents: Data(stdin)))
        defer { unlink(input) }
        let command = topology.replCommand(arguments).map(shellQuoted).joined(separator: " ")
        return try Topology.run("/bin/bash", ["-c", "\(command) < \(shellQuoted(input))"])
    }

    @Test func hugeBinaryAndEmptyLinesRunAsTheyAre() async throws {
        try await withTopology { topology in
            let big = Array("SET big ".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 10 * 1024 * 1024) + [10]
            let binary = Array("SET bin ".utf8) + [0, 0xff, 0xfe, 0xc3] + Array("\nSTRLEN bin\n".utf8)
            let spaces = [UInt8](repeating: 32, count: 1024 * 1024) + [10]
            let empty = [UInt8](repeating: 10, count: 100_000)
            let stdin = big + Array("STRLEN big\n".utf8) + binary + spaces + empty + Array("PING\n".utf8)
            let result = try run(topology, [topology.masterName], stdin: stdin)
            #expect(result.status == 0, "\(result.stderr)")
            // Blank lines print nothing, as with redis-cli; every other line one reply.
            #expect(Array(result.outputLines) == ["OK", "10485760", "OK", "4", "PONG"], "\(result.stdout.prefix(200))")
            let stored = try topology.cli(topology.masterPort, "--no-raw", "GET", "bin")
            #expect(stored == "\"\\x00\\xff\\xfe\\xc3\"\n", "NUL and invalid UTF-8 sent as they are")
        }
    }

    @Test func badOptionsAndUnreachableAddressesSayWhatIsWrong() async throws {
        try await withTopology { topology in
            let db = try topology.runREPL(["-n", "99999", topology.masterName, "PING"])
            #expect(db.status == 1 && db.stdout.isEmpty, "\(db)")
            #expect(db.stderr.contains("SELECT refused") && db.stderr.contains("DB index is out of range"), "\(db.stderr)")
            #expect(db.stderr.split(separator: "\n").count == 1, "one line: \(db.stderr)")
        }
        let unresolvable = try Topology.run(sentinelREPLExecutable, ["-s", "no-such-host.invalid:26379", "m", "PING"])
        #expect(unresolvable.status == 1 && unresolvable.stderr.contains("no-such-host.invalid:26379"), "\(unresolvable)")
        #expect(unresolvable.stderr.contains("cannot resolve"), "\(unresolvable.stderr)")
        for port in ["0", "70000", "-1", "x"] {
            let usage = try Topology.run(sentinelREPLExecutable, ["-s", "127.0.0.1:\(port)", "m", "PING"])
            #expect(usage.status == 2 && usage.stderr.contains("is not a sentinel address"), "port \(port): \(usage)")
        }
    }
}

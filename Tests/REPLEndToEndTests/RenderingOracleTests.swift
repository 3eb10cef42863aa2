import Foundation
import TestTopology
import Testing

/// redis-cli is the oracle: the same commands on the same server must print
/// the same bytes, in terminal form (RESP2 and RESP3) and raw, one-shot and from stdin.
@Suite(.serialized, .timeLimit(.minutes(3 * testSlowdown)))
struct RenderingOracleTests {
    static let setup = [
        ["DEL", "s", "h", "l", "z", "e", "n", "bin"],
        ["SET", "s", "hello world"],
        ["HSET", "h", "f1", "v1", "f2", "2"],
        ["RPUSH", "l", "a", "b c", "d\"e", "x\ny", "10", "11", "12", "13", "14", "15"],
        ["ZADD", "z", "1.5", "one", "2", "two", "3.25", "three", "0.1", "tenth"],
        ["SADD", "e", "m1"],
        ["SET", "bin", "caf\u{e9} \u{1} \"q\" \\ \t\n"],
        ["DEL", "st"],
        ["XADD", "st", "1-1", "a", "1"],
        ["XADD", "st", "2-1", "b", "2", "c", "3"],
        ["XGROUP", "CREATE", "st", "g", "0"],
        ["FUNCTION", "FLUSH"],
        ["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() return 1 end)"],
    ]

    static let commands: [[String]] = [
        ["SET", "k", "v"],
        ["GET", "s"],
        ["GET", "missing"],
        ["GET", "bin"],
        ["HGETALL", "h"],
        ["HGETALL", "missing"],
        ["LRANGE", "l", "0", "-1"],
        ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
        ["ZSCORE", "z", "one"],
        ["ZSCORE", "z", "tenth"],
        ["SMEMBERS", "e"],
        ["EVAL", "return {1,{2,{'x',false}},'y',{}}", "0"],
        ["EVAL", "return redis.error_reply('MY custom error')", "0"],
        ["INCR", "s"],
        ["NOSUCHCOMMAND", "x"],
        ["EXISTS", "s", "missing"],
        // RESP3 maps whose values span several lines (cliIsMultilineValueTTY).
        ["XINFO", "STREAM", "st"],
        ["XINFO", "STREAM", "st", "FULL"],
        ["XRANGE", "st", "-", "+"],
        ["FUNCTION", "LIST", "WITHCODE"],
        ["FUNCTION", "STATS"],
        // A table that holds itself: about 8,000 levels, then Lua's stack limit.
        ["EVAL", "local a = {}; local b = {a}; a[1] = b; return a", "0"],
    ]

    private func populate(_ topology: Topology) throws {
        for command in Self.setup { _ = try topology.cli(topology.masterPort, command) }
    }

    @Test(arguments: [
        ["--no-raw"], ["--raw"], ["-3", "--no-raw"], ["-3", "--raw"], ["--csv"], ["--json"], ["-2", "--json"], ["--quoted-json"],
    ])
    func oneShotMatchesRedisCli(flags: [String]) async throws {
        try await withTopology { topology in
            try populate(topology)
            for command in Self.commands {
                let expected = try topology.runRedisCli(flags + command)
                let actual = try topology.runREPL(flags + [topology.masterName] + command)
                #expect(actual.stdout == expected.stdout, "\(flags) \(command)")
                #expect(actual.status == 0)
                #expect(actual.stderr.isEmpty, "\(actual.stderr)")
            }
        }
    }

    @Test(arguments: [["--no-raw"], ["--raw"], ["-3", "--no-raw"]])
    func stdinLinesMatchRedisCli(flags: [String]) async throws {
        try await withTopology { topology in
            try populate(topology)
            let lines = Self.commands.map { $0.map(Self.quoteForLine).joined(separator: " ") }.joined(separator: "\n") + "\n"
            let expected = try topology.runRedisCli(flags, stdin: lines)
            let actual = try topology.runREPL(flags + [topology.masterName], stdin: lines)
            #expect(actual.stdout == expected.stdout)
            #expect(actual.status == 0)
        }
    }

    @Test func interactiveRepliesMatchRedisCli() async throws {
        try await withREPL { (topology, terminal) async throws in
            try populate(topology)
            #expect(terminal.waitFor("\(topology.masterName)@127.0.0.1:\(topology.masterPort)> "))
            for command in [["HGETALL", "h"], ["LRANGE", "l", "0", "-1"], ["EVAL", "return {1,{2,{'x',false}},'y'}", "0"], ["GET", "missing"]] {
                let expected = try topology.runRedisCli(["--no-raw"] + command).stdout
                let line = command.map(Self.quoteForLine).joined(separator: " ")
                #expect(terminal.enter(line, thenPromptAfter: expected), "\(command): \(terminal.screen.suffix(400))")
            }
        }
    }

    @Test func unbalancedQuotesSendNothing() async throws {
        try await withTopology { topology in
            let before = try topology.cli(topology.masterPort, "DBSIZE")
            let result = try topology.runREPL([topology.masterName], stdin: "SET \"a b\nSET 'x\nSET \"a\"b c\n")
            #expect(result.stdout == "Invalid argument(s)\nInvalid argument(s)\nInvalid argument(s)\n")
            #expect(try topology.cli(topology.masterPort, "DBSIZE") == before)

            let terminal = try topology.openREPL(["--history-file", "/dev/null"])
            defer { terminal.close() }
            #expect(terminal.waitFor("> "))
            terminal.type("SET \"unterminated value\r")
            #expect(terminal.waitForPrompt(after: "Invalid argument(s)"))
            #expect(try topology.cli(topology.masterPort, "DBSIZE") == before)
            terminal.type("\u{4}")
            #expect(terminal.waitForExit() == 0)
        }
    }

    /// Quotes an argument for a typed line, as redis-cli reads it back.
    static func quoteForLine(_ argument: String) -> String {
        guard argument.contains(where: { " \"'\n\\".contains($0) }) || argument.isEmpty else { return argument }
        var out = "\""
        for c in argument {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out + "\""
    }
}

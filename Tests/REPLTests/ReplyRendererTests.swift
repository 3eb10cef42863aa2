import NIOCore
import Testing

@testable import REPL
@testable import RESP

private func bulk(_ text: String) -> RESPValue { .bulkString(ByteBuffer(string: text)) }
private func render(_ value: RESPValue, _ mode: ReplyRenderer.Mode) -> String {
    String(decoding: ReplyRenderer.render(value, mode: mode), as: UTF8.self)
}

@Suite struct ReplyRendererTests {
    @Test func nestedArraysAlignAsRedisCli() {
        let value = RESPValue.array([.integer(1), .array([.integer(2), .array([bulk("x"), .null])]), bulk("y")])
        #expect(render(value, .tty) == """
            1) (integer) 1
            2) 1) (integer) 2
               2) 1) "x"
                  2) (nil)
            3) "y"

            """)
        #expect(render(value, .raw) == "1\n2\nx\n\ny\n")
    }

    @Test func wideIndexesAreRightAligned() {
        let value = RESPValue.array((1...10).map { .integer(Int64($0)) })
        let lines = render(value, .tty).split(separator: "\n")
        #expect(lines.first == " 1) (integer) 1")
        #expect(lines.last == "10) (integer) 10")
    }

    @Test func stringsAreQuotedWithCEscapes() {
        let value = RESPValue.bulkString(ByteBuffer(bytes: Array("a\"b\\\n\t".utf8) + [0, 0xe2]))
        #expect(render(value, .tty) == "\"a\\\"b\\\\\\n\\t\\x00\\xe2\"\n")
    }

    @Test func resp3Maps() {
        let value = RESPValue.map([RESPPair(key: bulk("f1"), value: bulk("v1")), RESPPair(key: bulk("f2"), value: .double(2.5, text: "2.5"))])
        #expect(render(value, .tty) == "1# \"f1\" => \"v1\"\n2# \"f2\" => (double) 2.5\n")
        #expect(render(value, .raw) == "f1 v1\nf2 2.5\n")
        #expect(render(.map([]), .tty) == "(empty hash)\n")
        #expect(render(.set([bulk("x")]), .tty) == "1~ \"x\"\n")
    }

    /// cliIsMultilineValueTTY: a map value of several lines starts on a line of its own.
    @Test func multilineMapValuesStartOnTheirOwnLine() {
        let value = RESPValue.map([
            RESPPair(key: bulk("one"), value: .array([.integer(1)])),
            RESPPair(key: bulk("two"), value: .array([.integer(1), .integer(2)])),
            RESPPair(key: bulk("nested"), value: .map([RESPPair(key: bulk("a"), value: .array([bulk("x"), bulk("y")]))])),
        ])
        // " => " keeps its space before the line break, as redis-cli prints it.
        let expected = [
            "1# \"one\" => 1) (integer) 1", "2# \"two\" => ", "   1) (integer) 1", "   2) (integer) 2",
            "3# \"nested\" => ", "   1# \"a\" => ", "      1) \"x\"", "      2) \"y\"",
        ]
        #expect(render(value, .tty) == expected.joined(separator: "\n") + "\n")
    }

    /// Thousands of levels (a Lua table that holds itself gives about 8,000) render
    /// without recursion in every mode; a map's non-string key is quoted as text in JSON.
    @Test func deepRepliesRenderInEveryMode() {
        let depth = RESPDecoder.defaultMaxDepth
        var value = RESPValue.integer(7)
        for _ in 0..<depth { value = .array([value]) }
        #expect(render(value, .tty) == String(repeating: "1) ", count: depth) + "(integer) 7\n")
        #expect(render(value, .raw) == "7\n")
        #expect(render(value, .csv) == "7\n")
        #expect(render(value, .json) == String(repeating: "[", count: depth) + "7" + String(repeating: "]", count: depth) + "\n")
        let keyed = RESPValue.map([RESPPair(key: .integer(1), value: .array([])), RESPPair(key: .array([.integer(2)]), value: .null)])
        #expect(render(keyed, .json) == "{\"1\":[],\"[2]\":null}\n")
        let strings = RESPValue.array([bulk("caf\u{e9}\u{1}\\"), .error(ByteBuffer(string: "ERR \u{7}"))])
        #expect(render(strings, .json) == "[\"caf\u{e9}\\u0001\\\\\",error:\"ERR \\u0007\"]\n")
        #expect(render(strings, .quotedJSON) == "[\"caf\\\\xc3\\\\xa9\\\\x01\\\\\\\\\",error:\"ERR \\\\a\"]\n")
    }

    @Test func scalars() {
        #expect(render(.error(ByteBuffer(string: "ERR x")), .tty) == "(error) ERR x\n")
        #expect(render(.error(ByteBuffer(string: "ERR x")), .raw) == "ERR x\n\n")
        #expect(render(.simpleString(ByteBuffer(string: "OK")), .tty) == "OK\n")
        #expect(render(.bulkString(nil), .raw) == "\n")
        #expect(render(.array([]), .tty) == "(empty array)\n")
        #expect(render(.boolean(true), .tty) == "(true)\n")
    }
}

/// Which replies print raw on a terminal, as redis-cli's `cliSendCommand` decides.
struct RawOnTTYTests {
    @Test(arguments: [
        (["info"], true), (["INFO", "server"], true), (["lolwut"], true),
        (["client", "list"], true), (["CLIENT", "INFO"], true), (["CLIENT", "GETNAME"], false),
        (["cluster", "nodes"], true), (["CLUSTER", "NODES", "x"], false), (["CLUSTER", "SLOTS"], false),
        (["latency", "doctor"], true), (["LATENCY", "DOCTOR", "x"], false), (["LATENCY", "GRAPH", "cmd"], true),
        (["memory", "doctor"], true), (["MEMORY", "USAGE", "k"], false), (["debug", "htstats", "0"], true),
        (["PROXY", "INFO"], true), (["GET", "info"], false), (["INFOS"], false), (["IN"], false),
        (["DEBUG", "CLIENT-EVICTION"], true), (["LATENCY", "GRAPH", "a", "b"], false),
    ])
    func asRedisCliDecides(words: [String], raw: Bool) {
        #expect(CommandClassifier.printsRawOnTTY(RESPCommand(strings: words)) == raw, "\(words)")
    }
}

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
        #expect(CommandPolicy.printsRawOnTTY(RESPCommand(strings: words)) == raw, "\(words)")
    }
}

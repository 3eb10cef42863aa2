import Testing

@testable import SentinelClient

/// What follows SYNC: keep-alives, the header, the payload without its end mark.
@Suite struct RDBPayloadParserTests {
    @Test func aMarkedPayloadEndsAtItsMarkWhereverTheReadsSplitIt() throws {
        let mark = Array(repeating: UInt8(ascii: "m"), count: 39) + [UInt8(ascii: "!")]
        let payload = Array("REDIS0010 and the rest of a snapshot".utf8)
        let wire = Array("\n\n$EOF:".utf8) + mark + [13, 10] + payload + mark
        for cut in [1, 7, 50, wire.count - 20, wire.count - 1] {
            var parser = RDBPayloadParser()
            var out = try parser.feed(Array(wire[..<cut]))
            #expect(!parser.finished)
            out += try parser.feed(Array(wire[cut...]))
            #expect(parser.finished && out == payload && parser.delivered == payload.count, "cut at \(cut)")
            #expect(parser.header == .mark(mark))
        }
    }

    @Test func aSizedPayloadEndsAfterItsSize() throws {
        var parser = RDBPayloadParser()
        let out = try parser.feed(Array("$5\r\nREDISextra".utf8))
        #expect(out == Array("REDIS".utf8) && parser.finished && parser.header == .size(5))
    }

    @Test func anErrorLineIsARefusal() {
        var parser = RDBPayloadParser()
        #expect(throws: RDBPayloadParser.Failure.refused("NOMASTERLINK Can't SYNC while not connected with my master")) {
            _ = try parser.feed(Array("-NOMASTERLINK Can't SYNC while not connected with my master\r\n".utf8))
        }
    }
}

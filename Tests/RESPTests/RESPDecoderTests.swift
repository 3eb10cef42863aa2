import NIOCore
import Testing

@testable import RESP

private func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }
private func bulk(_ text: String) -> RESPValue { .bulkString(ByteBuffer(string: text)) }
private func simple(_ text: String) -> RESPValue { .simpleString(ByteBuffer(string: text)) }

/// Decodes every value in `bytes` fed in one piece.
private func decodeAll(_ bytes: String) throws -> [RESPValue] {
    var decoder = RESPDecoder()
    var input = buffer(bytes)
    var values: [RESPValue] = []
    while let value = try decoder.decode(&input) { values.append(value) }
    #expect(input.readableBytes == 0, "bytes left over")
    return values
}

@Suite struct RESPDecoderTests {
    @Test func everyRESP2Type() throws {
        let values = try decodeAll("+OK\r\n-ERR bad\r\n:-42\r\n$5\r\nhe\r\no\r\n$0\r\n\r\n$-1\r\n*2\r\n:1\r\n$1\r\nx\r\n*0\r\n*-1\r\n")
        #expect(values == [
            simple("OK"), .error(buffer("ERR bad")), .integer(-42), bulk("he\r\no"), bulk(""), .bulkString(nil),
            .array([.integer(1), bulk("x")]), .array([]), .array(nil),
        ])
    }

    @Test func everyRESP3Type() throws {
        let values = try decodeAll(
            "_\r\n,3.25\r\n,inf\r\n,-inf\r\n#t\r\n#f\r\n!7\r\nERR bad\r\n=9\r\ntxt:hello\r\n(3492890328409238509324850943850943825024385\r\n"
                + "%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n~2\r\n+x\r\n+y\r\n>3\r\n+message\r\n+ch\r\n$2\r\nhi\r\n")
        #expect(values.count == 12)
        #expect(values[0] == .null)
        #expect(values[1] == .double(3.25, text: "3.25"))
        #expect(values[2] == .double(.infinity, text: "inf"))
        #expect(values[3] == .double(-.infinity, text: "-inf"))
        #expect(values[4] == .boolean(true))
        #expect(values[5] == .boolean(false))
        #expect(values[6] == .blobError(buffer("ERR bad")))
        #expect(values[7] == .verbatimString(format: "txt", text: buffer("hello")))
        #expect(values[8] == .bigNumber("3492890328409238509324850943850943825024385"))
        #expect(values[9] == .map([RESPPair(key: simple("a"), value: .integer(1)), RESPPair(key: simple("b"), value: .integer(2))]))
        #expect(values[10] == .set([simple("x"), simple("y")]))
        #expect(values[11] == .push([simple("message"), simple("ch"), bulk("hi")]))
    }

    @Test func nanDouble() throws {
        let values = try decodeAll(",nan\r\n,1.5e3\r\n")
        guard case .double(let d, _) = values[0] else { Issue.record("not a double"); return }
        #expect(d.isNaN)
        #expect(values[1] == .double(1500, text: "1.5e3"))
    }

    @Test func attributesAttachToTheValueThatFollows() throws {
        let values = try decodeAll("|1\r\n+ttl\r\n:3600\r\n*2\r\n:1\r\n|1\r\n+k\r\n+v\r\n:2\r\n")
        #expect(values == [
            .attribute(
                [RESPPair(key: simple("ttl"), value: .integer(3600))],
                .array([.integer(1), .attribute([RESPPair(key: simple("k"), value: simple("v"))], .integer(2))]))
        ])
    }

    @Test func nestedAggregates() throws {
        let values = try decodeAll("*3\r\n:1\r\n*2\r\n:2\r\n*2\r\n$1\r\nx\r\n$-1\r\n$1\r\ny\r\n")
        #expect(values == [.array([.integer(1), .array([.integer(2), .array([bulk("x"), .bulkString(nil)])]), bulk("y")])])
    }

    /// A stream of every type, split at every byte, decodes to the same values.
    @Test func everySplitPointOfAMixedStream() throws {
        let stream = "+OK\r\n-ERR x\r\n:7\r\n$3\r\na\r\n\r\n$-1\r\n*2\r\n*1\r\n:1\r\n$0\r\n\r\n_\r\n,2.5\r\n#t\r\n"
            + "!3\r\nERR\r\n=7\r\ntxt:abc\r\n(12345678901234567890\r\n%1\r\n+k\r\n~1\r\n:9\r\n|1\r\n+a\r\n+b\r\n>2\r\n+p\r\n:1\r\n*0\r\n"
        let expected = try decodeAll(stream)
        #expect(expected.count == 15)
        let bytes = Array(stream.utf8)
        for split in 0...bytes.count {
            var decoder = RESPDecoder()
            var input = ByteBuffer(bytes: bytes[..<split])
            var values: [RESPValue] = []
            while let value = try decoder.decode(&input) { values.append(value) }
            input.writeBytes(bytes[split...])
            while let value = try decoder.decode(&input) { values.append(value) }
            #expect(values == expected, "split at \(split)")
        }
    }

    /// Byte by byte: the worst split of all, for every prefix at once.
    @Test func byteByByte() throws {
        let stream = "*3\r\n$5\r\nhello\r\n%1\r\n+k\r\n*2\r\n:1\r\n:2\r\n,inf\r\n"
        var decoder = RESPDecoder()
        var input = ByteBuffer()
        var values: [RESPValue] = []
        for byte in stream.utf8 {
            input.writeInteger(byte)
            while let value = try decoder.decode(&input) { values.append(value) }
        }
        #expect(values == (try decodeAll(stream)))
    }

    @Test(arguments: [
        ("?x\r\n", RESPDecodingError.unknownTypeByte(UInt8(ascii: "?"))),
        ("$abc\r\n", .invalidLength("abc")),
        ("$-2\r\n", .invalidLength("-2")),
        ("*-5\r\n", .invalidLength("-5")),
        ("~-1\r\n", .invalidLength("-1")),
        ("$99999999999999999999999\r\n", .invalidLength("99999999999999999999999")),
        ("$536870913\r\n", .bulkTooLarge(536_870_913)),
        // Found by the fuzzer: a map's count doubled overflowed.
        ("|8888888888888888881\r\n+k\r\n", .aggregateTooLarge(8_888_888_888_888_888_881)),
        ("%4294967297\r\n", .aggregateTooLarge(4_294_967_297)),
        (":12a\r\n", .invalidInteger("12a")),
        (":99999999999999999999\r\n", .invalidInteger("99999999999999999999")),
        ("$3\r\nabcXY", .missingCRLF),
        ("+OK\rX", .missingCRLF),
        (",fast\r\n", .invalidDouble("fast")),
        ("#x\r\n", .invalidBoolean("x")),
        ("=2\r\nab\r\n", .invalidVerbatim),
        ("$ 3\r\n", .invalidLength(" 3")),
        // Lengths are read from the header's bytes when plain: what is not canonical still fails.
        ("$01\r\n", .invalidLength("01")),
        ("*007\r\n", .invalidLength("007")),
        ("*+1\r\n", .invalidLength("+1")),
        ("$-0\r\n", .invalidLength("-0")),
        ("$\r\n", .invalidLength("")),
        ("$999999999999999999\r\n", .bulkTooLarge(999_999_999_999_999_999)),
    ])
    func malformedInputIsATypedError(input: String, expected: RESPDecodingError) {
        var decoder = RESPDecoder()
        var bytes = buffer(input)
        #expect(throws: expected) { _ = try decoder.decode(&bytes) }
    }

    @Test func aDepthBombIsRejectedNotRecursedInto() {
        var decoder = RESPDecoder()
        var bytes = buffer(String(repeating: "*1\r\n", count: 100_000))
        #expect(throws: RESPDecodingError.nestingTooDeep(RESPDecoder.defaultMaxDepth)) {
            while try decoder.decode(&bytes) != nil {}
        }
    }

    /// As deep as the limit, fed in pieces: decoded without recursion, and freed.
    @Test func aReplyAsDeepAsTheLimitDecodes() throws {
        let depth = RESPDecoder.defaultMaxDepth
        var decoder = RESPDecoder()
        let wire = String(repeating: "*1\r\n", count: depth) + ":7\r\n"
        var value: RESPValue?
        var bytes = ByteBuffer()  // what arrived and is not decoded yet, as a connection keeps it
        for piece in stride(from: 0, to: wire.utf8.count, by: 4093) {
            bytes.writeBytes(Array(wire.utf8.dropFirst(piece).prefix(4093)))
            if let decoded = try decoder.decode(&bytes) { value = decoded }
        }
        var levels = 0
        while case .array(.some(let items))? = value, items.count == 1 {
            levels += 1
            value = items[0]
        }
        #expect(levels == depth)
        #expect(value == .integer(7))
    }

    @Test func hugeElementCountsAreNotAllocatedUpFront() throws {
        // Claims 2^31 elements but sends two: nothing is reserved for the claim.
        var decoder = RESPDecoder()
        var bytes = buffer("*2147483647\r\n:1\r\n:2\r\n")
        #expect(try decoder.decode(&bytes) == nil)
        #expect(bytes.readableBytes == 0)
    }

    @Test func aLineWithoutCRLFDoesNotGrowForever() {
        var decoder = RESPDecoder()
        var bytes = ByteBuffer(repeating: UInt8(ascii: "a"), count: RESPDecoder.maxLineLength + 2)
        bytes.setInteger(UInt8(ascii: "+"), at: 0)
        #expect(throws: RESPDecodingError.lineTooLong(RESPDecoder.maxLineLength)) { _ = try decoder.decode(&bytes) }
    }

    @Test func incompleteInputIsNotConsumed() throws {
        var decoder = RESPDecoder()
        var bytes = buffer("$5\r\nhel")
        #expect(try decoder.decode(&bytes) == nil)
        #expect(bytes.readableBytes == 7)
        bytes.writeString("lo\r\n")
        #expect(try decoder.decode(&bytes) == bulk("hello"))
    }
}

@Suite struct RESPEncoderTests {
    @Test func commandsAreArraysOfBinarySafeBulkStrings() {
        var out = ByteBuffer()
        RESPCommand(arguments: [Array("SET".utf8), [0, 13, 10, 255], []]).encode(into: &out)
        #expect(Array(out.readableBytesView) == Array("*3\r\n$3\r\nSET\r\n$4\r\n".utf8) + [0, 13, 10, 255] + Array("\r\n$0\r\n\r\n".utf8))
    }

    @Test func encodedCommandsDecodeBack() throws {
        var out = ByteBuffer()
        let command = RESPCommand("LRANGE", "list", "0", "-1")
        command.encode(into: &out)
        var decoder = RESPDecoder()
        #expect(try decoder.decode(&out) == .array(command.arguments.map { .bulkString(ByteBuffer(bytes: $0)) }))
    }

    @Test func longArgumentLengths() {
        var out = ByteBuffer()
        RESPCommand(arguments: [[UInt8](repeating: 1, count: 1_234_567)]).encode(into: &out)
        #expect(out.getString(at: 0, length: 15) == "*1\r\n$1234567\r\n\u{01}")
    }

    /// A line's words found in its own bytes make the same command as the words copied out.
    @Test func argumentsFoundInALineAreTheCommandOfThoseWords() {
        let line = Array("  SET key:1  v\r".utf8)
        let found = RESPCommand(bytes: line, bounds: [2, 5, 6, 11, 13, 14])
        let copied = RESPCommand("SET", "key:1", "v")
        #expect(found == copied && found.hashValue == copied.hashValue)
        #expect(found.count == 3 && Array(found[1]) == Array("key:1".utf8) && found.name == "SET")
        #expect(found.arguments == copied.arguments)
        var (a, b) = (ByteBuffer(), ByteBuffer())
        found.encode(into: &a)
        copied.encode(into: &b)
        #expect(a == b && a.readableBytesView.elementsEqual("*3\r\n$3\r\nSET\r\n$5\r\nkey:1\r\n$1\r\nv\r\n".utf8))
        #expect(found.droppingFirst() == RESPCommand("key:1", "v"))
        #expect(found != RESPCommand("SET", "key:1v") && found != RESPCommand("SET", "key:1", "v", ""))
        #expect(RESPCommand(arguments: []).isEmpty && RESPCommand(arguments: [[]]).count == 1)
    }

    /// Many arguments, found in a longer line: the same command as the words copied out.
    @Test func manyArgumentsFoundInALineEncodeAsCopiedOnes() throws {
        let words = (0..<9).map { "w\($0)" }
        let text = Array(("xx " + words.joined(separator: " ") + " yy").utf8)
        var bounds: [Int] = []
        var at = 3
        for word in words {
            bounds += [at, at + word.utf8.count]
            at += word.utf8.count + 1
        }
        let found = RESPCommand(bytes: text, bounds: bounds)
        let copied = RESPCommand(strings: words)
        #expect(found == copied && found.hashValue == copied.hashValue && found.count == 9)
        #expect(found.map { String(decoding: $0, as: UTF8.self) } == words)
        #expect(found.droppingFirst() == RESPCommand(strings: Array(words.dropFirst())))
        var (a, b) = (ByteBuffer(), ByteBuffer())
        found.encode(into: &a)
        copied.encode(into: &b)
        #expect(a == b && a.readableBytes == found.encodedSize)
        var decoder = RESPDecoder()
        #expect(try decoder.decode(&a) == .array(words.map { .bulkString(ByteBuffer(string: $0)) }))
    }
}

/// Names matched as bytes, as the batch path matches them on every line.
struct CommandNameSetTests {
    let names = CommandNameSet(["MULTI", "HTSTATS-KEY"])

    @Test func anyLetterCaseMatchesAndGivesTheName() {
        #expect(names.match(Array("multi".utf8)) == "MULTI")
        #expect(names.match(Array("MuLtI".utf8)) == "MULTI")
        #expect(names.match(Array("htstats-key".utf8)) == "HTSTATS-KEY")
    }

    @Test func otherWordsDoNot() {
        #expect(names.match(Array("MULTIX".utf8)) == nil)
        #expect(names.match(Array("MULT".utf8)) == nil)
        #expect(names.match(Array("htstats_key".utf8)) == nil, "a non-letter matches only itself")
        #expect(names.match(Array("MULTi\u{1}".utf8)) == nil)
        #expect(!names.contains([]))
    }

    /// The first-letter table only rules words out: every word an exhaustive comparison
    /// matches still matches, whatever its first byte and length.
    @Test func theFirstLetterLookAgreesWithComparingEveryName() {
        let names = [":QUIT", "SET", "SETEX", "S", "X-Y", "{A}", "@B", String(repeating: "LONGNAME", count: 5)]
        let set = CommandNameSet(names)
        func exhaustive(_ word: [UInt8]) -> String? {
            names.first { name in
                let n = Array(name.utf8)
                return n.count == word.count && zip(word, n).allSatisfy { w, n in w == n || (n >= 65 && n <= 90 && w == n | 0x20) }
            }
        }
        var words: [[UInt8]] = [[]]
        for name in names {
            let bytes = Array(name.utf8)
            words += [bytes, Array(name.lowercased().utf8), Array(bytes.dropLast()), bytes + [65]]
            for first in Array(":{[@`sStTx0 ".utf8) + [0, 0x80, 0xFF] {
                words.append([first] + bytes.dropFirst())
            }
        }
        for word in words {
            #expect(set.match(word) == exhaustive(word), "\(word)")
        }
        #expect(words.contains { set.match($0) != nil } && words.contains { set.match($0) == nil })
    }
}

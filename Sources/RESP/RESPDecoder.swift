import NIOCore

/// What is wrong with bytes that claim to be RESP.
public enum RESPDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    case unknownTypeByte(UInt8)
    case invalidLength(String)
    case bulkTooLarge(Int)
    case invalidInteger(String)
    case invalidDouble(String)
    case invalidBoolean(String)
    case invalidVerbatim
    case missingCRLF
    case lineTooLong(Int)
    case nestingTooDeep(Int)
    case aggregateTooLarge(Int)

    public var description: String {
        switch self {
        case .unknownTypeByte(let b): return "malformed reply: unknown RESP type byte 0x\(String(b, radix: 16))"
        case .invalidLength(let s): return "malformed reply: invalid length '\(s)'"
        case .bulkTooLarge(let n): return "malformed reply: bulk length \(n) exceeds the 512 MB limit"
        case .invalidInteger(let s): return "malformed reply: invalid integer '\(s)'"
        case .invalidDouble(let s): return "malformed reply: invalid double '\(s)'"
        case .invalidBoolean(let s): return "malformed reply: invalid boolean '\(s)'"
        case .invalidVerbatim: return "malformed reply: verbatim string without a 3-byte format"
        case .missingCRLF: return "malformed reply: missing CRLF"
        case .lineTooLong(let n): return "malformed reply: a line of more than \(n) bytes without CRLF"
        case .nestingTooDeep(let n): return "malformed reply: aggregates nested deeper than \(n)"
        case .aggregateTooLarge(let n): return "malformed reply: an aggregate of \(n) elements (the limit is 2^32)"
        }
    }
}

/// A streaming RESP2/RESP3 decoder. Feed it whatever bytes have arrived; it
/// returns a value once one is complete and keeps partial aggregates between
/// calls, so a reply split at any byte decodes the same and is never re-parsed.
public struct RESPDecoder: Sendable {
    public static let maxBulkLength = 512 * 1024 * 1024
    /// Lua's reply converter stops at about 8,000 levels; Swift frees a nested value
    /// recursively, and 40,000 levels fit an 8 MB thread stack even in a debug build.
    public static let defaultMaxDepth = 16_384
    /// A line (simple string, error, number) longer than this without CRLF is malformed.
    public static let maxLineLength = 64 * 1024 * 1024
    /// More elements than any server sends (and a map's count doubled stays in range).
    public static let maxAggregateCount = 1 << 32
    /// Element counts come from the peer: never reserve more than this up front.
    static let maxReservation = 1024

    private struct Frame: Sendable {
        enum Kind: Sendable { case array, set, push, map, attribute }
        var kind: Kind
        var remaining: Int
        var items: [RESPValue]
        var pendingAttribute: [RESPPair]? = nil
    }

    private var stack: [Frame] = []
    /// An attribute that arrived at the top level and waits for its value.
    private var topLevelAttribute: [RESPPair]?
    public let maxDepth: Int

    public init(maxDepth: Int = RESPDecoder.defaultMaxDepth) {
        self.maxDepth = maxDepth
    }

    /// Decodes at most one complete top-level value, consuming its bytes.
    /// Returns nil when more bytes are needed; a partial token is left unread.
    public mutating func decode(_ buffer: inout ByteBuffer) throws -> RESPValue? {
        while true {
            guard let token = try Self.readToken(&buffer) else { return nil }
            var value: RESPValue
            var isAttributeMap = false
            switch token {
            case .value(let v):
                value = v
            case .aggregate(let kind, let count):
                if stack.count >= maxDepth { throw RESPDecodingError.nestingTooDeep(maxDepth) }
                let items = kind == .map || kind == .attribute ? count * 2 : count
                if items > 0 {
                    var frame = Frame(kind: kind, remaining: items, items: [])
                    frame.items.reserveCapacity(min(items, Self.maxReservation))
                    stack.append(frame)
                    continue
                }
                value = Self.build(kind, [])
                isAttributeMap = kind == .attribute
            }
            // Bubble the finished value up through every frame it completes.
            while true {
                if isAttributeMap, case .attribute(let pairs, _) = value {
                    // An attribute describes the next value at the same level.
                    setPendingAttribute(pairs)
                    break
                }
                if let attribute = takePendingAttribute() {
                    value = .attribute(attribute, value)
                }
                guard var top = stack.popLast() else { return value }
                top.items.append(value)
                top.remaining -= 1
                if top.remaining > 0 {
                    stack.append(top)
                    break
                }
                value = Self.build(top.kind, top.items)
                isAttributeMap = top.kind == .attribute
            }
        }
    }

    private mutating func setPendingAttribute(_ pairs: [RESPPair]) {
        if stack.isEmpty { topLevelAttribute = pairs } else { stack[stack.count - 1].pendingAttribute = pairs }
    }

    private mutating func takePendingAttribute() -> [RESPPair]? {
        if stack.isEmpty {
            defer { topLevelAttribute = nil }
            return topLevelAttribute
        }
        defer { stack[stack.count - 1].pendingAttribute = nil }
        return stack[stack.count - 1].pendingAttribute
    }

    private static func build(_ kind: Frame.Kind, _ items: [RESPValue]) -> RESPValue {
        switch kind {
        case .array: return .array(items)
        case .set: return .set(items)
        case .push: return .push(items)
        case .map: return .map(pairs(items))
        case .attribute: return .attribute(pairs(items), .null)
        }
    }

    private static func pairs(_ items: [RESPValue]) -> [RESPPair] {
        stride(from: 0, to: items.count, by: 2).map { RESPPair(key: items[$0], value: items[$0 + 1]) }
    }

    private enum Token {
        case value(RESPValue)
        case aggregate(Frame.Kind, Int)
    }

    /// Reads one token (a header line, or a length-prefixed payload with its
    /// header) or nothing at all when it is not complete yet.
    private static func readToken(_ buffer: inout ByteBuffer) throws -> Token? {
        let start = buffer.readerIndex
        guard let type = buffer.getInteger(at: start, as: UInt8.self) else { return nil }
        guard let lineLength = try lineLength(in: buffer, from: start + 1) else { return nil }
        let afterHeader = start + 1 + lineLength + 2

        // The commonest replies (+OK, errors, bulk strings, arrays) need no string of their header.
        switch type {
        case UInt8(ascii: "+"):
            let v = buffer.getSlice(at: start + 1, length: lineLength)!
            buffer.moveReaderIndex(to: afterHeader)
            return .value(.simpleString(v))
        case UInt8(ascii: "-"):
            let v = buffer.getSlice(at: start + 1, length: lineLength)!
            buffer.moveReaderIndex(to: afterHeader)
            return .value(.error(v))
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            let length = try headerLength(buffer, at: start + 1, count: lineLength, allowNull: type == UInt8(ascii: "$"))
            return try readPayload(of: type, length: length, after: afterHeader, from: &buffer)
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: "%"), UInt8(ascii: "|"), UInt8(ascii: ">"):
            let count = try headerLength(buffer, at: start + 1, count: lineLength, allowNull: type == UInt8(ascii: "*"))
            buffer.moveReaderIndex(to: afterHeader)
            if count < 0 { return .value(.array(nil)) }
            if count > maxAggregateCount { throw RESPDecodingError.aggregateTooLarge(count) }
            let kind: Frame.Kind
            switch type {
            case UInt8(ascii: "*"): kind = .array
            case UInt8(ascii: "~"): kind = .set
            case UInt8(ascii: "%"): kind = .map
            case UInt8(ascii: "|"): kind = .attribute
            default: kind = .push
            }
            return .aggregate(kind, count)
        default:
            break
        }
        let header = buffer.getString(at: start + 1, length: lineLength) ?? ""
        let value: RESPValue
        switch type {
        case UInt8(ascii: ":"):
            guard let i = Int64(header) else { throw RESPDecodingError.invalidInteger(header) }
            value = .integer(i)
        case UInt8(ascii: "_"):
            guard header.isEmpty else { throw RESPDecodingError.invalidLength(header) }
            value = .null
        case UInt8(ascii: ","):
            guard let d = parseDouble(header) else { throw RESPDecodingError.invalidDouble(header) }
            value = .double(d, text: header)
        case UInt8(ascii: "#"):
            guard header == "t" || header == "f" else { throw RESPDecodingError.invalidBoolean(header) }
            value = .boolean(header == "t")
        case UInt8(ascii: "("):
            guard isBigNumber(header) else { throw RESPDecodingError.invalidInteger(header) }
            value = .bigNumber(header)
        default:
            throw RESPDecodingError.unknownTypeByte(type)
        }
        buffer.moveReaderIndex(to: afterHeader)
        return .value(value)
    }

    /// A bulk string, blob error or verbatim string whose header said `length` (-1: null),
    /// or nil until its payload and CRLF have arrived.
    private static func readPayload(of type: UInt8, length: Int, after afterHeader: Int, from buffer: inout ByteBuffer) throws -> Token? {
        if length < 0 {
            buffer.moveReaderIndex(to: afterHeader)
            return .value(.bulkString(nil))
        }
        if length > maxBulkLength { throw RESPDecodingError.bulkTooLarge(length) }
        guard buffer.writerIndex - afterHeader >= length + 2 else { return nil }
        guard buffer.getInteger(at: afterHeader + length, as: UInt8.self) == 13,
            buffer.getInteger(at: afterHeader + length + 1, as: UInt8.self) == 10
        else { throw RESPDecodingError.missingCRLF }
        var payload = buffer.getSlice(at: afterHeader, length: length)!
        buffer.moveReaderIndex(to: afterHeader + length + 2)
        switch type {
        case UInt8(ascii: "$"): return .value(.bulkString(payload))
        case UInt8(ascii: "!"): return .value(.blobError(payload))
        default:
            guard length >= 4, payload.getInteger(at: payload.readerIndex + 3, as: UInt8.self) == UInt8(ascii: ":"),
                let format = payload.readString(length: 3)
            else { throw RESPDecodingError.invalidVerbatim }
            payload.moveReaderIndex(forwardBy: 1)
            return .value(.verbatimString(format: format, text: payload))
        }
    }

    /// The length or count a header gives: read from its bytes when they are a plain
    /// decimal as Redis writes one (no sign, no leading zero), else through `parseLength`,
    /// which takes -1 where allowed and names what it refuses.
    private static func headerLength(_ buffer: ByteBuffer, at start: Int, count: Int, allowNull: Bool) throws -> Int {
        let plain: Int? = buffer.withUnsafeReadableBytes { raw in
            let base = start - buffer.readerIndex
            guard count > 0, count <= 18, count == 1 || raw[base] != UInt8(ascii: "0") else { return nil }
            var value = 0
            for i in base..<(base + count) {
                let digit = raw[i] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                value = value * 10 + Int(digit)
            }
            return value
        }
        if let plain { return plain }
        return try parseLength(buffer.getString(at: start, length: count) ?? "", allowNull: allowNull)
    }

    /// Finds the CRLF that ends the line starting at `from`; nil when not arrived yet.
    private static func lineLength(in buffer: ByteBuffer, from: Int) throws -> Int? {
        let available = buffer.writerIndex - from
        guard available > 0 else { return nil }
        let found: Int? = buffer.withUnsafeReadableBytes { raw in
            let base = from - buffer.readerIndex
            var i = base
            let end = raw.count
            while i < end {
                if raw[i] == 13 { return i - base }
                i += 1
            }
            return nil
        }
        guard let cr = found else {
            if available > maxLineLength { throw RESPDecodingError.lineTooLong(maxLineLength) }
            return nil
        }
        guard let lf = buffer.getInteger(at: from + cr + 1, as: UInt8.self) else { return nil }
        guard lf == 10 else { throw RESPDecodingError.missingCRLF }
        return cr
    }

    private static func parseLength(_ text: String, allowNull: Bool) throws -> Int {
        guard let n = Int(text), String(n) == text else { throw RESPDecodingError.invalidLength(text) }
        if n == -1 && allowNull { return -1 }
        guard n >= 0 else { throw RESPDecodingError.invalidLength(text) }
        return n
    }

    private static func parseDouble(_ text: String) -> Double? {
        switch text.lowercased() {
        case "inf", "+inf": return .infinity
        case "-inf": return -.infinity
        case "nan", "-nan": return .nan
        default:
            guard !text.isEmpty, text.allSatisfy({ "0123456789+-.eE".contains($0) }) else { return nil }
            return Double(text)
        }
    }

    private static func isBigNumber(_ text: String) -> Bool {
        var digits = Substring(text)
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }
}

import NIOCore

/// One reply value of the Redis serialization protocol, RESP2 or RESP3.
///
/// Strings stay as bytes (`ByteBuffer`): Redis strings are binary-safe, and the
/// renderer needs the exact bytes to escape them as redis-cli does.
public enum RESPValue: Sendable, Hashable {
    case simpleString(ByteBuffer)
    case error(ByteBuffer)
    case integer(Int64)
    /// `nil` is RESP2's null bulk string (`$-1`).
    case bulkString(ByteBuffer?)
    /// `nil` is RESP2's null array (`*-1`).
    case array([RESPValue]?)
    case null
    /// The value, and the text the server sent, which redis-cli prints as it came.
    case double(Double, text: String)
    case boolean(Bool)
    case blobError(ByteBuffer)
    case verbatimString(format: String, text: ByteBuffer)
    case bigNumber(String)
    case map([RESPPair])
    case set([RESPValue])
    /// Attributes sent before a value, attached to that value.
    indirect case attribute([RESPPair], RESPValue)
    case push([RESPValue])
}

public struct RESPPair: Sendable, Hashable {
    public var key: RESPValue
    public var value: RESPValue
    public init(key: RESPValue, value: RESPValue) {
        self.key = key
        self.value = value
    }
}

extension RESPValue {
    /// The text of a string-like value (simple, bulk, verbatim), or of an error.
    public var string: String? {
        switch self {
        case .simpleString(let b), .bulkString(.some(let b)), .error(let b), .blobError(let b):
            return String(buffer: b)
        case .verbatimString(_, let b):
            return String(buffer: b)
        case .bigNumber(let s):
            return s
        case .integer(let i):
            return String(i)
        case .attribute(_, let v):
            return v.string
        default:
            return nil
        }
    }

    /// The bytes of a simple or bulk string, as they came (a key, binary-safe).
    public var bytes: ByteBuffer? {
        switch self {
        case .simpleString(let b), .bulkString(.some(let b)): return b
        case .verbatimString(_, let b): return b
        case .attribute(_, let v): return v.bytes
        default: return nil
        }
    }

    /// The error message when this is an error reply (simple or blob).
    public var errorMessage: String? {
        switch self {
        case .error(let b), .blobError(let b): return String(buffer: b)
        case .attribute(_, let v): return v.errorMessage
        default: return nil
        }
    }

    public var isError: Bool { errorMessage != nil }

    /// The error's code: its first word (`READONLY`, `WRONGPASS`, `ERR`), by which
    /// Redis classifies its errors.
    public var errorCode: Substring? {
        errorMessage.map { $0.prefix { $0 != " " } }
    }

    public var integer: Int64? {
        switch self {
        case .integer(let i): return i
        case .attribute(_, let v): return v.integer
        default: return self.string.flatMap { Int64($0) }
        }
    }

    /// Elements of an array, set or push; for a map, keys and values interleaved.
    public var elements: [RESPValue]? {
        switch self {
        case .array(.some(let a)), .set(let a), .push(let a): return a
        case .map(let pairs): return pairs.flatMap { [$0.key, $0.value] }
        case .attribute(_, let v): return v.elements
        default: return nil
        }
    }

    public var isNull: Bool {
        switch self {
        case .null, .bulkString(nil), .array(nil): return true
        default: return false
        }
    }

    /// Key/value pairs of a map, or of a flat RESP2 array of alternating keys and values.
    public var pairs: [(String, RESPValue)]? {
        if case .map(let pairs) = self {
            return pairs.compactMap { p in p.key.string.map { ($0, p.value) } }
        }
        guard let elements = self.elements, elements.count % 2 == 0 else { return nil }
        return stride(from: 0, to: elements.count, by: 2).compactMap { i in
            elements[i].string.map { ($0, elements[i + 1]) }
        }
    }

    /// `pairs` by key (the first of a repeated key wins); empty when this is neither
    /// a map nor a flat array of pairs.
    public var fieldMap: [String: RESPValue] {
        Dictionary(pairs ?? [], uniquingKeysWith: { first, _ in first })
    }
}

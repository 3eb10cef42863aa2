import NIOCore
import RESP

/// Formats replies byte for byte as redis-cli does (`cliFormatReplyTTY`, `cliFormatReplyRaw`).
public enum ReplyRenderer {
    public enum Mode: Sendable {
        /// Terminal form: quoted strings, `(integer)`, numbered aggregates.
        case tty
        /// `--raw`: bare values, aggregates flattened one element per line.
        case raw
        /// `--csv`: one line per reply, aggregates flattened, comma-separated.
        case csv
        /// `--json`: one JSON value per reply.
        case json
    }

    /// The whole output for one reply, ending with a newline.
    public static func render(_ value: RESPValue, mode: Mode) -> [UInt8] {
        var out: [UInt8] = []
        render(value, mode: mode, into: &out)
        return out
    }

    /// Appends the output for one reply to `out` (a batch renders a whole chunk into one buffer).
    public static func render(_ value: RESPValue, mode: Mode, into out: inout [UInt8]) {
        switch mode {
        case .tty:
            tty(value, prefix: [], into: &out)
        case .raw:
            raw(value, into: &out)
            out.append(10)
        case .csv:
            csv(value, into: &out)
            out.append(10)
        case .json:
            json(value, into: &out)
            out.append(10)
        }
    }

    // MARK: CSV and JSON (cliFormatReplyCSV, cliFormatReplyJson)

    static func csv(_ value: RESPValue, into out: inout [UInt8]) {
        switch value {
        case .error(let b), .blobError(let b): out += Array("ERROR,".utf8) + quoted(bytes(b))
        case .simpleString(let b), .bulkString(.some(let b)), .verbatimString(_, let b): out += quoted(bytes(b))
        case .integer(let i): out += Array(String(i).utf8)
        case .double(_, let text): out += Array(text.utf8)
        case .bigNumber(let s): out += Array(s.utf8)
        case .null, .bulkString(nil), .array(nil): out += Array("NULL".utf8)
        case .boolean(let b): out += Array((b ? "true" : "false").utf8)
        case .attribute(_, let inner): csv(inner, into: &out)
        case .array(.some(let items)), .set(let items), .push(let items): csvList(items, into: &out)
        case .map(let pairs): csvList(pairs.flatMap { [$0.key, $0.value] }, into: &out)
        }
    }

    private static func csvList(_ items: [RESPValue], into out: inout [UInt8]) {
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            csv(item, into: &out)
        }
    }

    static func json(_ value: RESPValue, into out: inout [UInt8]) {
        switch value {
        case .error(let b), .blobError(let b): out += Array("error:".utf8) + quoted(bytes(b))
        case .simpleString(let b): out += quoted(bytes(b))
        case .bulkString(.some(let b)), .verbatimString(_, let b): out += jsonString(bytes(b))
        case .integer(let i): out += Array(String(i).utf8)
        case .double(_, let text): out += Array(text.utf8)
        case .bigNumber(let s): out += Array(s.utf8)
        case .null, .bulkString(nil), .array(nil): out += Array("null".utf8)
        case .boolean(let b): out += Array((b ? "true" : "false").utf8)
        case .attribute(_, let inner): json(inner, into: &out)
        case .array(.some(let items)), .set(let items), .push(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                json(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .map(let pairs):
            out.append(UInt8(ascii: "{"))
            for (i, pair) in pairs.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                var key: [UInt8] = []
                json(pair.key, into: &key)
                // JSON keys are strings: other types are quoted as redis-cli does.
                out += key.first == UInt8(ascii: "\"") ? key : quoted(key)
                out.append(UInt8(ascii: ":"))
                json(pair.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// `escapeJsonString`: JSON escapes, other bytes as they are.
    static func jsonString(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [34]
        let hex = Array("0123456789abcdef".utf8)
        for byte in bytes {
            switch byte {
            case 92, 34: out += [92, byte]
            case 10: out += [92, UInt8(ascii: "n")]
            case 12: out += [92, UInt8(ascii: "f")]
            case 13: out += [92, UInt8(ascii: "r")]
            case 9: out += [92, UInt8(ascii: "t")]
            case 8: out += [92, UInt8(ascii: "b")]
            case 0..<32: out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: out.append(byte)
            }
        }
        out.append(34)
        return out
    }

    // MARK: TTY

    static func tty(_ value: RESPValue, prefix: [UInt8], into out: inout [UInt8]) {
        switch value {
        case .error(let b), .blobError(let b):
            out += "(error) ".utf8
            out += b.readableBytesView
            out.append(10)
        case .simpleString(let b):
            out += b.readableBytesView
            out.append(10)
        case .integer(let i):
            out += "(integer) \(i)\n".utf8
        case .double(_, let text):
            out += Array("(double) \(text)\n".utf8)
        case .bulkString(.some(let b)):
            out += quoted(bytes(b)) + [10]
        case .verbatimString(_, let b):
            out += bytes(b) + [10]
        case .bigNumber(let s):
            out += Array("(big number) \(s)\n".utf8)
        case .null, .bulkString(nil), .array(nil):
            out += Array("(nil)\n".utf8)
        case .boolean(let b):
            out += Array((b ? "(true)\n" : "(false)\n").utf8)
        case .attribute(_, let inner):
            tty(inner, prefix: prefix, into: &out)
        case .array(.some(let items)):
            ttyAggregate(items, isMap: false, separator: ")", empty: "(empty array)", prefix: prefix, into: &out)
        case .push(let items):
            ttyAggregate(items, isMap: false, separator: ")", empty: "(empty push)", prefix: prefix, into: &out)
        case .set(let items):
            ttyAggregate(items, isMap: false, separator: "~", empty: "(empty set)", prefix: prefix, into: &out)
        case .map(let pairs):
            ttyAggregate(
                pairs.flatMap { [$0.key, $0.value] }, isMap: true, separator: "#", empty: "(empty hash)",
                prefix: prefix, into: &out)
        }
    }

    private static func ttyAggregate(
        _ items: [RESPValue], isMap: Bool, separator: Character, empty: String, prefix: [UInt8],
        into out: inout [UInt8]
    ) {
        guard !items.isEmpty else {
            out += Array("\(empty)\n".utf8)
            return
        }
        let count = isMap ? items.count / 2 : items.count
        let width = String(count).count
        let childPrefix = prefix + [UInt8](repeating: 32, count: width + 2)
        var index = 0
        while index < items.count {
            let number = String(isMap ? index / 2 + 1 : index + 1)
            if index > 0 { out += prefix }
            out += [UInt8](repeating: 32, count: width - number.count) + Array(number.utf8)
            out += Array("\(separator) ".utf8)
            tty(items[index], prefix: childPrefix, into: &out)
            if isMap {
                out.removeLast()  // the key's newline: the value follows on the same line
                out += Array(" => ".utf8)
                tty(items[index + 1], prefix: childPrefix, into: &out)
                index += 2
            } else {
                index += 1
            }
        }
    }

    /// `sdscatrepr`: double quotes, C escapes, `\xHH` for bytes that are not printable ASCII.
    public static func quoted(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [34]
        for byte in bytes {
            switch byte {
            case 92: out += [92, 92]
            case 34: out += [92, 34]
            case 10: out += [92, UInt8(ascii: "n")]
            case 13: out += [92, UInt8(ascii: "r")]
            case 9: out += [92, UInt8(ascii: "t")]
            case 7: out += [92, UInt8(ascii: "a")]
            case 8: out += [92, UInt8(ascii: "b")]
            case 32...126: out.append(byte)
            default:
                let hex = Array("0123456789abcdef".utf8)
                out += [92, UInt8(ascii: "x"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        out.append(34)
        return out
    }

    // MARK: Raw

    static func raw(_ value: RESPValue, into out: inout [UInt8]) {
        switch value {
        case .error(let b), .blobError(let b):
            out += b.readableBytesView
            out.append(10)
        case .simpleString(let b), .bulkString(.some(let b)), .verbatimString(_, let b):
            out += b.readableBytesView
        case .integer(let i):
            out += String(i).utf8
        case .double(_, let text):
            out += Array(text.utf8)
        case .bigNumber(let s):
            out += Array(s.utf8)
        case .boolean(let b):
            out += Array((b ? "(true)" : "(false)").utf8)
        case .null, .bulkString(nil), .array(nil):
            break
        case .attribute(_, let inner):
            raw(inner, into: &out)
        case .array(.some(let items)), .set(let items), .push(let items):
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(10) }
                raw(item, into: &out)
            }
        case .map(let pairs):
            for (i, pair) in pairs.enumerated() {
                if i > 0 { out.append(10) }
                raw(pair.key, into: &out)
                out.append(32)
                raw(pair.value, into: &out)
            }
        }
    }

    static func bytes(_ buffer: ByteBuffer) -> [UInt8] {
        Array(buffer.readableBytesView)
    }
}

import NIOCore
import RESP

/// Formats replies byte for byte as redis-cli does (`cliFormatReplyTTY`, `cliFormatReplyRaw`).
package enum ReplyRenderer {
    package enum Mode: Sendable {
        /// Terminal form: quoted strings, `(integer)`, numbered aggregates.
        case tty
        /// `--raw`: bare values, aggregates flattened one element per line.
        case raw
        /// `--csv`: one line per reply, aggregates flattened, comma-separated.
        case csv
        /// `--json`: one JSON value per reply.
        case json
        /// `--quoted-json`: `--json` with ASCII-safe strings (C escapes, backslashes doubled).
        case quotedJSON
    }

    /// The whole output for one reply, ending with a newline.
    package static func render(_ value: RESPValue, mode: Mode) -> [UInt8] {
        var out: [UInt8] = []
        render(value, mode: mode, into: &out)
        return out
    }

    /// Appends the output for one reply to `out` (a batch renders a whole chunk into one buffer).
    package static func render(_ value: RESPValue, mode: Mode, into out: inout [UInt8]) {
        switch mode {
        case .tty:
            tty(value, into: &out)
        case .raw:
            raw(value, into: &out)
            out.append(10)
        case .csv:
            csv(value, into: &out)
            out.append(10)
        case .json:
            json(value, quotedStrings: false, into: &out)
            out.append(10)
        case .quotedJSON:
            json(value, quotedStrings: true, into: &out)
            out.append(10)
        }
    }

    // MARK: CSV and JSON (cliFormatReplyCSV, cliFormatReplyJson)
    //
    // Every renderer walks the reply with a stack of its own, not the call stack: a
    // reply may nest thousands of levels (a Lua table that holds itself).

    /// An aggregate being rendered: its elements (a map's keys and values in turn) and the next one.
    private struct Frame {
        let items: [RESPValue]
        let isMap: Bool
        var next = 0
        /// TTY: the separator (`)`, `~`, `#`), the index width and this aggregate's indentation.
        var separator: UInt8 = 0
        var width = 0
        var indent = 0
        /// TTY: a map's value comes next, after its key. JSON: where the key's text began,
        /// and whether the key is a string (else its text is put in quotes).
        var valueDue = false
        var keyStart = 0
        var keyIsString = false
    }

    /// The elements of an aggregate, a map's as key, value, key, ...; nil for other values.
    private static func elements(_ value: RESPValue) -> (items: [RESPValue], isMap: Bool)? {
        switch value {
        case .array(.some(let items)), .set(let items), .push(let items): return (items, false)
        case .map(let pairs): return (pairs.flatMap { [$0.key, $0.value] }, true)
        default: return nil
        }
    }

    /// A reply printed without the walk and its stack: most replies of a batch (`+OK`).
    private static func isScalar(_ value: RESPValue) -> Bool {
        switch value {
        case .array(.some), .set, .push, .map, .attribute: return false
        default: return true
        }
    }

    /// Attributes are not shown: the value they describe is.
    private static func unwrapped(_ value: RESPValue) -> RESPValue {
        var value = value
        while case .attribute(_, let inner) = value { value = inner }
        return value
    }

    static func csv(_ root: RESPValue, into out: inout [UInt8]) {
        var frames: [Frame] = []
        var pending: RESPValue? = root
        while true {
            if let value = pending.map(unwrapped) {
                pending = nil
                if let (items, isMap) = elements(value) {
                    frames.append(Frame(items: items, isMap: isMap))
                } else {
                    csvScalar(value, into: &out)
                }
                continue
            }
            guard var frame = frames.popLast() else { return }
            guard frame.next < frame.items.count else { continue }
            if frame.next > 0 { out.append(UInt8(ascii: ",")) }
            pending = frame.items[frame.next]
            frame.next += 1
            frames.append(frame)
        }
    }

    private static func csvScalar(_ value: RESPValue, into out: inout [UInt8]) {
        switch value {
        case .error(let b), .blobError(let b): out += Array("ERROR,".utf8) + quoted(untilNUL(b))
        case .simpleString(let b), .bulkString(.some(let b)), .verbatimString(_, let b): out += quoted(bytes(b))
        case .integer(let i): out += Array(String(i).utf8)
        case .double(_, let text): out += Array(text.utf8)
        case .bigNumber(let s): out += Array(s.utf8)
        case .null, .bulkString(nil), .array(nil): out += Array("NULL".utf8)
        case .boolean(let b): out += Array((b ? "true" : "false").utf8)
        case .attribute, .array(.some), .set, .push, .map: break  // aggregates are walked by csv
        }
    }

    /// `cliFormatReplyJson`.
    static func json(_ root: RESPValue, quotedStrings: Bool, into out: inout [UInt8]) {
        var frames: [Frame] = []
        var pending: RESPValue? = root
        while true {
            if let value = pending.map(unwrapped) {
                pending = nil
                if let (items, isMap) = elements(value) {
                    out.append(UInt8(ascii: isMap ? "{" : "["))
                    frames.append(Frame(items: items, isMap: isMap))
                } else {
                    jsonScalar(value, quotedStrings: quotedStrings, into: &out)
                }
                continue
            }
            guard var frame = frames.popLast() else { return }
            if frame.valueDue {
                // JSON keys are strings: another type's text goes in quotes, as it is.
                if !frame.keyIsString, out.count == frame.keyStart || out[frame.keyStart] != UInt8(ascii: "\"") {
                    out.insert(UInt8(ascii: "\""), at: frame.keyStart)
                    out.append(UInt8(ascii: "\""))
                }
                out.append(UInt8(ascii: ":"))
                frame.valueDue = false
            } else if frame.next < frame.items.count {
                if frame.next > 0 { out.append(UInt8(ascii: ",")) }
                if frame.isMap {
                    frame.keyStart = out.count
                    frame.keyIsString = isJSONString(frame.items[frame.next])
                    frame.valueDue = true
                }
            } else {
                out.append(UInt8(ascii: frame.isMap ? "}" : "]"))
                continue
            }
            pending = frame.items[frame.next]
            frame.next += 1
            frames.append(frame)
        }
    }

    /// hiredis's error, status, string and verbatim types: a map key printed as it is.
    private static func isJSONString(_ value: RESPValue) -> Bool {
        switch unwrapped(value) {
        case .error, .blobError, .simpleString, .bulkString(.some), .verbatimString: return true
        default: return false
        }
    }

    private static func jsonScalar(_ value: RESPValue, quotedStrings: Bool, into out: inout [UInt8]) {
        switch value {
        case .error(let b), .blobError(let b):
            // redis-cli takes the message up to a NUL byte (strlen).
            out += Array("error:".utf8) + jsonStringOutput(untilNUL(b), quotedStrings)
        case .simpleString(let b), .bulkString(.some(let b)), .verbatimString(_, let b):
            out += jsonStringOutput(bytes(b), quotedStrings)
        case .integer(let i): out += Array(String(i).utf8)
        case .double(_, let text): out += Array(text.utf8)
        case .bigNumber(let s): out += Array(s.utf8)
        case .null, .bulkString(nil), .array(nil): out += Array("null".utf8)
        case .boolean(let b): out += Array((b ? "true" : "false").utf8)
        case .attribute, .array(.some), .set, .push, .map: break  // aggregates are walked by json
        }
    }

    /// `jsonStringOutput`: JSON escapes, or for `--quoted-json` sdscatrepr's form with
    /// every backslash doubled.
    static func jsonStringOutput(_ bytes: [UInt8], _ quotedStrings: Bool) -> [UInt8] {
        guard quotedStrings else { return jsonString(bytes) }
        return quoted(bytes).flatMap { $0 == 92 ? [92, 92] : [$0] }
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

    static func tty(_ root: RESPValue, indent: Int = 0, into out: inout [UInt8]) {
        if isScalar(root) { return ttyScalar(root, into: &out) }
        var frames: [Frame] = []
        var pending: (value: RESPValue, indent: Int)? = (root, indent)
        while true {
            if let (given, indent) = pending {
                pending = nil
                let value = unwrapped(given)
                if let (items, isMap) = elements(value), !items.isEmpty {
                    frames.append(ttyFrame(value, items, isMap, indent: indent))
                } else {
                    ttyScalar(value, into: &out)
                }
                continue
            }
            guard var frame = frames.popLast() else { return }
            let childIndent = frame.indent + frame.width + 2
            if frame.valueDue {
                out.removeLast()  // the key's newline: the value follows on the same line
                out += Array(" => ".utf8)
                // A value of several lines starts on a line of its own, aligned (cliIsMultilineValueTTY).
                if isMultilineTTY(frame.items[frame.next]) {
                    out.append(10)
                    out += [UInt8](repeating: 32, count: childIndent)
                }
                frame.valueDue = false
            } else if frame.next < frame.items.count {
                let number = String(frame.isMap ? frame.next / 2 + 1 : frame.next + 1)
                if frame.next > 0 { out += [UInt8](repeating: 32, count: frame.indent) }
                out += [UInt8](repeating: 32, count: frame.width - number.count) + Array(number.utf8)
                out += [frame.separator, 32]
                frame.valueDue = frame.isMap
            } else {
                continue
            }
            pending = (frame.items[frame.next], childIndent)
            frame.next += 1
            frames.append(frame)
        }
    }

    private static func ttyFrame(_ value: RESPValue, _ items: [RESPValue], _ isMap: Bool, indent: Int) -> Frame {
        let separator: Character
        switch value {
        case .set: separator = "~"
        case .map: separator = "#"
        default: separator = ")"
        }
        let count = isMap ? items.count / 2 : items.count
        return Frame(
            items: items, isMap: isMap, separator: separator.asciiValue ?? 41, width: String(count).count, indent: indent)
    }

    private static func ttyScalar(_ value: RESPValue, into out: inout [UInt8]) {
        switch value {
        case .error(let b), .blobError(let b):
            out += "(error) ".utf8
            appendUntilNUL(b, to: &out)
            out.append(10)
        case .simpleString(let b):
            appendUntilNUL(b, to: &out)
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
        case .array(.some): out += Array("(empty array)\n".utf8)
        case .push: out += Array("(empty push)\n".utf8)
        case .set: out += Array("(empty set)\n".utf8)
        case .map: out += Array("(empty hash)\n".utf8)
        case .attribute: break  // unwrapped before
        }
    }

    /// `cliIsMultilineValueTTY`: an aggregate of more than one element, or of one that is.
    static func isMultilineTTY(_ value: RESPValue) -> Bool {
        var value = unwrapped(value)
        while true {
            switch value {
            case .array(.some(let items)), .set(let items), .push(let items):
                guard items.count == 1 else { return items.count > 1 }
                value = unwrapped(items[0])
            case .map(let pairs):
                guard pairs.count == 1 else { return pairs.count > 1 }
                value = unwrapped(pairs[0].value)
            default:
                return false
            }
        }
    }

    /// `sdscatrepr`: double quotes, C escapes, `\xHH` for bytes that are not printable ASCII.
    package static func quoted(_ bytes: [UInt8]) -> [UInt8] {
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

    static func raw(_ root: RESPValue, into out: inout [UInt8]) {
        if isScalar(root) { return rawScalar(root, into: &out) }
        var frames: [Frame] = []
        var pending: RESPValue? = root
        while true {
            if let value = pending.map(unwrapped) {
                pending = nil
                if let (items, isMap) = elements(value) {
                    frames.append(Frame(items: items, isMap: isMap))
                } else {
                    rawScalar(value, into: &out)
                }
                continue
            }
            guard var frame = frames.popLast() else { return }
            guard frame.next < frame.items.count else { continue }
            // One element a line; a map's key and value share one, a space between.
            if frame.next > 0 { out.append(frame.isMap && frame.next % 2 == 1 ? 32 : 10) }
            pending = frame.items[frame.next]
            frame.next += 1
            frames.append(frame)
        }
    }

    private static func rawScalar(_ value: RESPValue, into out: inout [UInt8]) {
        switch value {
        case .error(let b), .blobError(let b):
            appendBytes(b, to: &out)
            out.append(10)
        case .simpleString(let b), .bulkString(.some(let b)), .verbatimString(_, let b):
            appendBytes(b, to: &out)
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
        case .attribute, .array(.some), .set, .push, .map: break  // aggregates are walked by raw
        }
    }

    /// The bytes up to a NUL: redis-cli prints errors (and terminal status replies) as C strings.
    static func untilNUL(_ buffer: ByteBuffer) -> [UInt8] {
        var out: [UInt8] = []
        appendUntilNUL(buffer, to: &out)
        return out
    }

    /// Appends the bytes before the first NUL (redis-cli prints status and error
    /// replies as C strings), copied in one go: every `+OK` of a batch comes here.
    static func appendUntilNUL(_ buffer: ByteBuffer, to out: inout [UInt8]) {
        buffer.withUnsafeReadableBytes { raw in
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[..<(raw.firstIndex(of: 0) ?? raw.count)]))
        }
    }

    static func bytes(_ buffer: ByteBuffer) -> [UInt8] {
        buffer.withUnsafeReadableBytes { Array($0) }
    }

    /// Copies the buffer's bytes in one go (a byte view would be copied a byte at a time).
    static func appendBytes(_ buffer: ByteBuffer, to out: inout [UInt8]) {
        buffer.withUnsafeReadableBytes { out.append(contentsOf: $0) }
    }
}

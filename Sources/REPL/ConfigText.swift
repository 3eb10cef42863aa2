/// The part of TOML a deployments file uses, read strictly: tables (`[name]`), keys
/// (bare or quoted) with strings, integers, floats, booleans and arrays of them,
/// comments. Every value keeps its line, for errors that name it. The rest of TOML
/// (dotted keys, inline tables, arrays of tables, dates, multi-line strings) is an
/// error at its line saying so, never a silent misreading.
///
/// Written here rather than taken from a TOML library: the one at hand brings all of
/// Foundation and ICU's data into the binary, which every start paid for.
enum ConfigValue: Equatable, Sendable, CustomStringConvertible {
    case string(String)
    case integer(Int)
    case float(Double)
    case boolean(Bool)
    case array([ConfigValue])

    var string: String? { if case .string(let text) = self { text } else { nil } }
    var int: Int? { if case .integer(let number) = self { number } else { nil } }
    var double: Double? { if case .float(let number) = self { number } else { nil } }
    var bool: Bool? { if case .boolean(let flag) = self { flag } else { nil } }
    var array: [ConfigValue]? { if case .array(let elements) = self { elements } else { nil } }

    /// The kind, for "takes a string, not an integer".
    var kind: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a float"
        case .boolean: "a boolean"
        case .array: "an array"
        }
    }

    /// As TOML writes it.
    var description: String {
        switch self {
        case .string(let text): "\"\(text.unicodeScalars.map { $0 == "\"" || $0 == "\\" ? "\\\($0)" : "\($0)" }.joined())\""
        case .integer(let number): "\(number)"
        case .float(let number): "\(number)"
        case .boolean(let flag): "\(flag)"
        case .array(let elements): "[" + elements.map(\.description).joined(separator: ", ") + "]"
        }
    }
}

/// One `[name]` table: its keys in the file's order, each with its value and line.
struct ConfigTable: Sendable {
    var name: String
    /// The line of `[name]`.
    var line: Int
    private(set) var keys: [String] = []
    private var entries: [String: (value: ConfigValue, line: Int)] = [:]

    init(name: String, line: Int) {
        self.name = name
        self.line = line
    }

    subscript(key: String) -> ConfigValue? { entries[key]?.value }

    /// The key's line, else the table's.
    func line(of key: String?) -> Int { key.flatMap { entries[$0]?.line } ?? line }

    /// False when the key is there already.
    mutating func add(_ key: String, _ value: ConfigValue, line: Int) -> Bool {
        guard entries[key] == nil else { return false }
        keys.append(key)
        entries[key] = (value, line)
        return true
    }
}

/// What is wrong, and on which line.
struct ConfigSyntaxError: Error, Equatable {
    var line: Int
    var message: String
}

/// A config text: its tables in order, and the keys written before the first table.
struct ConfigText: Sendable {
    var tables: [ConfigTable] = []
    var topLevel = ConfigTable(name: "", line: 1)

    init(parsing text: String) throws(ConfigSyntaxError) {
        var reader = ConfigReader(Array(text.utf8))
        var current: Int?  // index in tables
        while let line = try reader.nextStatement() {
            switch line {
            case .header(let name, let at):
                if let earlier = tables.first(where: { $0.name == name }) {
                    throw ConfigSyntaxError(line: at, message: "[\(name)] is there twice (first on line \(earlier.line))")
                }
                tables.append(ConfigTable(name: name, line: at))
                current = tables.count - 1
            case .entry(let key, let value, let at):
                let added = current.map { tables[$0].add(key, value, line: at) } ?? topLevel.add(key, value, line: at)
                if !added {
                    let first = current.map { tables[$0].line(of: key) } ?? topLevel.line(of: key)
                    throw ConfigSyntaxError(line: at, message: "'\(key)' is there twice (first on line \(first))")
                }
            }
        }
    }
}

/// The byte-level reader behind `ConfigText`.
private struct ConfigReader {
    enum Statement {
        case header(String, line: Int)
        case entry(String, ConfigValue, line: Int)
    }

    private let bytes: [UInt8]
    private var at = 0
    private var line = 1

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    private var current: UInt8? { at < bytes.count ? bytes[at] : nil }

    private func fail(_ message: String) -> ConfigSyntaxError { ConfigSyntaxError(line: line, message: message) }

    /// The next table header or key, nil at the end.
    mutating func nextStatement() throws(ConfigSyntaxError) -> Statement? {
        while true {
            skipSpaces()
            try skipComment()
            guard let byte = current else { return nil }
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                try endOfLine()
                continue
            }
            let statement: Statement
            if byte == UInt8(ascii: "[") {
                statement = try header()
            } else {
                let start = line
                let key = try key()
                skipSpaces()
                guard current == UInt8(ascii: "=") else {
                    throw fail(current == UInt8(ascii: ".") ? "dotted keys ('\(key).') are not used here: one table per deployment, plain keys" : "'=' expected after '\(key)'")
                }
                at += 1
                skipSpaces()
                statement = .entry(key, try value(), line: start)
            }
            skipSpaces()
            try skipComment()
            if current != nil { try endOfLine() }
            return statement
        }
    }

    private mutating func header() throws(ConfigSyntaxError) -> Statement {
        at += 1
        if current == UInt8(ascii: "[") { throw fail("arrays of tables ([[...]]) are not used here: each deployment is a table, [name]") }
        skipSpaces()
        let name = try key()
        skipSpaces()
        if current == UInt8(ascii: ".") { throw fail("nested tables ([\(name).…]) are not used here: each deployment is a table, [name]") }
        guard current == UInt8(ascii: "]") else { throw fail("']' expected to end the table name [\(name)") }
        at += 1
        return .header(name, line: line)
    }

    private mutating func endOfLine() throws(ConfigSyntaxError) {
        if current == UInt8(ascii: "\r") { at += 1 }
        guard current == UInt8(ascii: "\n") else { throw fail("the line goes on after its value: \(rest())") }
        at += 1
        line += 1
    }

    private func rest() -> String {
        String(String(decoding: bytes[at...].prefix { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") }, as: UTF8.self).prefix(40))
    }

    private mutating func skipSpaces() {
        while current == UInt8(ascii: " ") || current == UInt8(ascii: "\t") { at += 1 }
    }

    private mutating func skipComment() throws(ConfigSyntaxError) {
        guard current == UInt8(ascii: "#") else { return }
        while let byte = current, byte != UInt8(ascii: "\n"), !isLineEnd() {
            try checkNotControl(byte, in: "a comment")
            at += 1
        }
    }

    /// CR LF (a CR alone is a control character).
    private func isLineEnd() -> Bool {
        current == UInt8(ascii: "\r") && at + 1 < bytes.count && bytes[at + 1] == UInt8(ascii: "\n")
    }

    /// TOML allows no control character but tab in strings and comments: one in the
    /// prompt label would reach the terminal.
    private func checkNotControl(_ byte: UInt8, in place: String) throws(ConfigSyntaxError) {
        if (byte < 0x20 && byte != 9) || byte == 0x7F {
            throw fail("control character 0x\(String(byte, radix: 16)) in \(place) (write it as an escape in a \"string\")")
        }
    }

    /// Spaces, comments and line ends, as arrays may hold between their values.
    private mutating func skipBlank() throws(ConfigSyntaxError) {
        while true {
            skipSpaces()
            try skipComment()
            guard current == UInt8(ascii: "\n") || current == UInt8(ascii: "\r") else { return }
            try endOfLine()
        }
    }

    private static func isBare(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    private mutating func key() throws(ConfigSyntaxError) -> String {
        switch current {
        case UInt8(ascii: "\"")?: return try basicString()
        case UInt8(ascii: "'")?: return try literalString()
        default:
            let start = at
            while let byte = current, Self.isBare(byte) { at += 1 }
            guard at > start else { throw fail("a key or [table] expected, not \(rest().isEmpty ? "the end" : "'\(rest())'")") }
            return String(decoding: bytes[start..<at], as: UTF8.self)
        }
    }

    private mutating func value() throws(ConfigSyntaxError) -> ConfigValue {
        switch current {
        case UInt8(ascii: "\"")?: return .string(try basicString())
        case UInt8(ascii: "'")?: return .string(try literalString())
        case UInt8(ascii: "[")?: return try array()
        case UInt8(ascii: "{")?: throw fail("inline tables ({...}) are not used here")
        case nil, UInt8(ascii: "\n")?, UInt8(ascii: "\r")?, UInt8(ascii: "#")?: throw fail("a value expected after '='")
        default: return try scalar()
        }
    }

    private mutating func array() throws(ConfigSyntaxError) -> ConfigValue {
        at += 1
        var elements: [ConfigValue] = []
        while true {
            try skipBlank()
            if current == UInt8(ascii: "]") { break }
            elements.append(try value())
            try skipBlank()
            if current == UInt8(ascii: ",") {
                at += 1
                continue
            }
            guard current == UInt8(ascii: "]") else { throw fail("',' or ']' expected in the array, not \(rest().isEmpty ? "the end" : "'\(rest())'")") }
            break
        }
        at += 1
        return .array(elements)
    }

    /// true, false, an integer or a float (TOML's forms, `_` between digits).
    private mutating func scalar() throws(ConfigSyntaxError) -> ConfigValue {
        let start = at
        while let byte = current, Self.isBare(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":") {
            at += 1
        }
        let word = String(decoding: bytes[start..<at], as: UTF8.self)
        if word == "true" { return .boolean(true) }
        if word == "false" { return .boolean(false) }
        if let number = try integer(word) { return .integer(number) }
        if let number = Self.float(word) { return .float(number) }
        if word.contains(":") || (word.count >= 10 && word.dropFirst(4).first == "-") { throw fail("dates are not used here: '\(word)'") }
        throw fail("'\(word.isEmpty ? rest() : word)' is not a value (a \"string\", a number, true, false or [an, array])")
    }

    /// Digits of `radix` with single underscores between them; no sign.
    private static func isDigits(_ text: Substring, radix: Int) -> Bool {
        !text.isEmpty && text.first != "_" && text.last != "_" && !text.contains("__")
            && text.allSatisfy { $0 == "_" || $0.hexDigitValue.map { $0 < radix } == true }
    }

    /// The integer `word` writes in one of TOML's forms, nil when it is none; an error
    /// past 64 bits.
    private func integer(_ word: String) throws(ConfigSyntaxError) -> Int? {
        var text = Substring(word)
        var radix = 10
        for (prefix, base) in [("0x", 16), ("0o", 8), ("0b", 2)] where word.hasPrefix(prefix) {
            (text, radix) = (word.dropFirst(2), base)
        }
        let unsigned = radix == 10 && (text.first == "+" || text.first == "-") ? text.dropFirst() : text
        guard Self.isDigits(unsigned, radix: radix), radix != 10 || unsigned == "0" || unsigned.first != "0" else { return nil }
        // With its sign: the smallest Int has no positive magnitude.
        guard let number = Int(text.filter { $0 != "_" && $0 != "+" }, radix: radix) else {
            throw fail("'\(word)' is out of a 64-bit integer's range")
        }
        return number
    }

    private static func float(_ word: String) -> Double? {
        let unsigned = word.first == "+" || word.first == "-" ? word.dropFirst() : Substring(word)
        if unsigned == "inf" || unsigned == "nan" { return Double(word) }
        // Digits on both sides of '.', an exponent of digits: what Double() would take besides.
        let parts = unsigned.split(separator: "e", maxSplits: 1, omittingEmptySubsequences: false).flatMap {
            $0.split(separator: "E", maxSplits: 1, omittingEmptySubsequences: false)
        }
        guard let mantissa = parts.first, parts.count <= 2 else { return nil }
        let whole = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard whole.allSatisfy({ isDigits($0, radix: 10) }), whole[0] == "0" || whole[0].first != "0" else { return nil }
        if parts.count == 2 {
            let exponent = parts[1].first == "+" || parts[1].first == "-" ? parts[1].dropFirst() : parts[1]
            guard isDigits(exponent, radix: 10) else { return nil }
        } else if whole.count == 1 {
            return nil  // an integer, not a float
        }
        return Double(word.filter { $0 != "_" })
    }

    private mutating func literalString() throws(ConfigSyntaxError) -> String {
        if bytes[at...].starts(with: Array("'''".utf8)) { throw fail("multi-line strings (''') are not used here") }
        at += 1
        let start = at
        while let byte = current, byte != UInt8(ascii: "'") {
            guard byte != UInt8(ascii: "\n"), !isLineEnd() else { throw fail("the string is not closed on its line (')") }
            try checkNotControl(byte, in: "a string")
            at += 1
        }
        guard current != nil else { throw fail("the string is not closed on its line (')") }
        at += 1
        return try text(bytes[start..<(at - 1)])
    }

    private mutating func basicString() throws(ConfigSyntaxError) -> String {
        if bytes[at...].starts(with: Array("\"\"\"".utf8)) { throw fail("multi-line strings (\"\"\") are not used here") }
        at += 1
        var out: [UInt8] = []
        while let byte = current, byte != UInt8(ascii: "\"") {
            guard byte != UInt8(ascii: "\n"), !isLineEnd() else { throw fail("the string is not closed on its line (\")") }
            try checkNotControl(byte, in: "a string")
            at += 1
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                continue
            }
            out += try escape()
        }
        guard current != nil else { throw fail("the string is not closed on its line (\")") }
        at += 1
        return try text(out[...])
    }

    private mutating func escape() throws(ConfigSyntaxError) -> [UInt8] {
        guard let byte = current else { throw fail("the string is not closed on its line (\")") }
        at += 1
        switch byte {
        case UInt8(ascii: "b"): return [8]
        case UInt8(ascii: "t"): return [9]
        case UInt8(ascii: "n"): return [10]
        case UInt8(ascii: "f"): return [12]
        case UInt8(ascii: "r"): return [13]
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): return [byte]
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let count = byte == UInt8(ascii: "u") ? 4 : 8
            let hex = String(decoding: bytes[at..<min(at + count, bytes.count)], as: UTF8.self)
            guard hex.count == count, hex.allSatisfy(\.isHexDigit), let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value)
            else {
                throw fail("\\\(Character(Unicode.Scalar(byte))) takes \(count) hex digits of a Unicode scalar")
            }
            at += count
            return Array(String(Character(scalar)).utf8)
        default:
            throw fail("'\\\(Character(Unicode.Scalar(byte)))' is not an escape of TOML (\\\" \\\\ \\n \\t \\uXXXX ...)")
        }
    }

    private func text(_ slice: ArraySlice<UInt8>) throws(ConfigSyntaxError) -> String {
        guard let text = String(validating: slice, as: UTF8.self) else { throw fail("the string is not UTF-8") }
        return text
    }
}

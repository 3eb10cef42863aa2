import RESP

/// A command line with its words, split once for everything that looks at it (history,
/// the danger check, the batch): `command` is nil when the line cannot be split.
package struct SplitLine: Sendable {
    package let bytes: [UInt8]
    package let command: RESPCommand?

    package init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.command = try? CommandLineSplitter.command(bytes)
    }

    /// No words at all (only sdssplitargs' spaces): nothing runs and nothing is printed.
    package var isBlank: Bool { command?.isEmpty == true }
}

/// Splits a typed line into arguments exactly as redis-cli (`sdssplitargs`) does:
/// double quotes take `\n \r \t \b \a \\ \" \xHH`, single quotes take only `\'`,
/// and an unbalanced quote or a closing quote followed by a non-space is an error.
package enum CommandLineSplitter {
    package struct InvalidArguments: Error, Equatable {}

    /// The line's words as a command; a line without quotes keeps its bytes, and its
    /// words are found in them.
    package static func command(_ line: [UInt8]) throws(InvalidArguments) -> RESPCommand {
        if let bounds = plainWordBounds(line) { return RESPCommand(bytes: line, bounds: bounds) }
        return RESPCommand(arguments: try quotedSplit(line))
    }

    package static func split(_ line: [UInt8]) throws(InvalidArguments) -> [[UInt8]] {
        try command(line).arguments
    }

    private static func quotedSplit(_ line: [UInt8]) throws(InvalidArguments) -> [[UInt8]] {
        var arguments: [[UInt8]] = []
        var i = 0
        let n = line.count
        while true {
            while i < n, isSpace(line[i]) { i += 1 }
            guard i < n else { return arguments }
            if let end = plainWordEnd(line, from: i) {
                // No quote in this word: one copy, not a byte at a time.
                arguments.append(Array(line[i..<end]))
                i = end
                continue
            }
            var current: [UInt8] = []
            var inDouble = false
            var inSingle = false
            var done = false
            while !done {
                if inDouble {
                    guard i < n else { throw InvalidArguments() }
                    let c = line[i]
                    if c == 92, i + 3 < n, line[i + 1] == UInt8(ascii: "x"), let hi = HexDigit.value(line[i + 2]),
                        let lo = HexDigit.value(line[i + 3])
                    {
                        current.append(hi << 4 | lo)
                        i += 3
                    } else if c == 92, i + 1 < n {
                        i += 1
                        switch line[i] {
                        case UInt8(ascii: "n"): current.append(10)
                        case UInt8(ascii: "r"): current.append(13)
                        case UInt8(ascii: "t"): current.append(9)
                        case UInt8(ascii: "b"): current.append(8)
                        case UInt8(ascii: "a"): current.append(7)
                        default: current.append(line[i])
                        }
                    } else if c == 34 {
                        // A closing quote must be followed by a space or the end.
                        if i + 1 < n, !isSpace(line[i + 1]) { throw InvalidArguments() }
                        done = true
                    } else {
                        current.append(c)
                    }
                } else if inSingle {
                    guard i < n else { throw InvalidArguments() }
                    let c = line[i]
                    if c == 92, i + 1 < n, line[i + 1] == 39 {
                        i += 1
                        current.append(39)
                    } else if c == 39 {
                        if i + 1 < n, !isSpace(line[i + 1]) { throw InvalidArguments() }
                        done = true
                    } else {
                        current.append(c)
                    }
                } else {
                    guard i < n else { break }
                    let c = line[i]
                    if isSpace(c) {
                        done = true
                    } else if c == 34 {
                        inDouble = true
                    } else if c == 39 {
                        inSingle = true
                    } else {
                        current.append(c)
                    }
                }
                if i < n { i += 1 }
            }
            arguments.append(current)
        }
    }

    /// Where the words of a line without a quote character (most lines of a batch) start
    /// and end, found in one pass over its bytes; nil when it has a quote.
    private static func plainWordBounds(_ line: [UInt8]) -> [Int]? {
        line.withUnsafeBufferPointer { bytes -> [Int]? in
            var bounds: [Int] = []
            bounds.reserveCapacity(8)
            var inWord = false
            for i in 0..<bytes.count {
                let byte = bytes[i]
                if isSpace(byte) {
                    if inWord { bounds.append(i) }
                    inWord = false
                } else if isQuote(byte) {
                    return nil
                } else if !inWord {
                    bounds.append(i)
                    inWord = true
                }
            }
            if inWord { bounds.append(bytes.count) }
            return bounds
        }
    }

    /// Where a word starting at `start` ends, if it holds no quote character.
    private static func plainWordEnd(_ line: [UInt8], from start: Int) -> Int? {
        var i = start
        while i < line.count {
            if isSpace(line[i]) { return i }
            if isQuote(line[i]) { return nil }
            i += 1
        }
        return i
    }

    /// sdssplitargs' spaces: space, \n, \r, \t, \v, \f.
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 32 || byte == 10 || byte == 13 || byte == 9 || byte == 11 || byte == 12
    }

    private static func isQuote(_ byte: UInt8) -> Bool { byte == 34 || byte == 39 }
}

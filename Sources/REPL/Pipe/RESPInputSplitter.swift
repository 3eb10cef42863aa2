/// Finds where each command of a RESP input ends, as the server will split it
/// (`processMultibulkBuffer` and `processInlineBuffer` of `networking.c`), so that
/// `--pipe` knows which command each reply answers and which were never sent.
///
/// Bytes that make no command (an empty line, `*0`) get no reply: they go out with the
/// command after them, and are dropped at the end of the input.
package struct RESPInputSplitter {
    /// Input the server refuses with a protocol error (and then closes the connection):
    /// not sent, so that the commands before it keep their honest outcome.
    package struct Malformed: Error, Equatable, CustomStringConvertible {
        /// From the start of the input.
        package var offset: Int
        package var reason: String
        package var description: String { "standard input is not valid RESP at byte \(offset): \(reason)" }
    }

    /// The complete commands at the front of a chunk.
    package struct Split: Equatable {
        /// Where each command ends, counted from the chunk's start.
        package var ends: [Int] = []
        /// The bytes up to the last end; the rest waits for more input.
        package var consumed: Int { ends.last ?? 0 }
        /// The bytes parsed whole, with those after the last end that make no command (`*0`, an empty line).
        package var scanned = 0
        /// Input the server would refuse, after the commands in `ends`.
        package var malformed: Malformed?
    }

    /// Redis's limits: an inline command or a bulk header longer than this is refused.
    static let inlineMax = 64 * 1024
    static let bulkMax = 512 * 1024 * 1024

    /// Bytes of the input before the chunk the next `split` sees.
    package private(set) var offset = 0

    /// The multibulk command left incomplete by the last `split`: where it starts, where its
    /// next argument starts, how many are left (offsets in the next chunk). The scan goes on
    /// from there: a command of a million arguments is not walked again with every read.
    private var resume: (start: Int, position: Int, remaining: Int)?
    /// Where the next `split` goes on scanning an incomplete command, in its chunk.
    package var scanResumesAt: Int? { resume?.position }

    package init() {}

    /// The commands complete in `chunk`, up to malformed input if any; `offset` moves past them.
    /// Each chunk starts at the first byte the last one did not consume, and holds what it held.
    package mutating func split(_ chunk: UnsafeRawBufferPointer) -> Split {
        var split = Split()
        while split.scanned < chunk.count {
            do {
                guard let end = try commandEnd(chunk, from: split.scanned) else { break }
                if end.makesCommand { split.ends.append(end.index) }
                split.scanned = end.index
            } catch {
                split.malformed = error
                break
            }
        }
        offset += split.consumed
        if let (start, position, remaining) = resume {
            resume = (start - split.consumed, position - split.consumed, remaining)
        }
        return split
    }

    private struct End {
        var index: Int
        var makesCommand: Bool
    }

    private mutating func commandEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) throws(Malformed) -> End? {
        bytes[start] == UInt8(ascii: "*") ? try multibulkEnd(bytes, from: start) : try inlineEnd(bytes, from: start)
    }

    private func inlineEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) throws(Malformed) -> End? {
        guard let newline = index(of: 10, in: bytes, from: start) else {
            if bytes.count - start > Self.inlineMax { throw malformed(start, "an inline command longer than 64 KiB") }
            return nil
        }
        let words = bytes[start..<newline].contains { !Self.isSpace($0) }
        return End(index: newline + 1, makesCommand: words)
    }

    private mutating func multibulkEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) throws(Malformed) -> End? {
        var (position, remaining): (Int, Int)
        if let resume, resume.start == start {
            (position, remaining) = (resume.position, resume.remaining)
        } else {
            guard let (count, afterHeader) = try header(bytes, at: start, limit: Int(Int32.max), what: "multibulk length") else { return nil }
            if count <= 0 { return End(index: afterHeader, makesCommand: false) }
            (position, remaining) = (afterHeader, count)
        }
        resume = nil
        while remaining > 0 {
            guard let next = try argumentEnd(bytes, at: position) else {
                resume = (start, position, remaining)
                return nil
            }
            position = next
            remaining -= 1
        }
        return End(index: position, makesCommand: true)
    }

    /// Where the bulk argument at `position` ends; nil while it is incomplete.
    private func argumentEnd(_ bytes: UnsafeRawBufferPointer, at position: Int) throws(Malformed) -> Int? {
        guard index(of: 13, in: bytes, from: position) != nil else { return nil }  // Redis looks at '$' once the line is in
        guard bytes[position] == UInt8(ascii: "$") else {
            throw malformed(position, "expected '$', got '\(Character(Unicode.Scalar(bytes[position])))'")
        }
        guard let (length, afterBulkHeader) = try header(bytes, at: position, limit: Self.bulkMax, what: "bulk length") else {
            return nil
        }
        guard length >= 0 else { throw malformed(position, "invalid bulk length") }
        let end = afterBulkHeader + length + 2
        return end <= bytes.count ? end : nil
    }

    /// `*N\r\n` or `$N\r\n` at `start`: N and where the line ends; nil when incomplete.
    private func header(_ bytes: UnsafeRawBufferPointer, at start: Int, limit: Int, what: String) throws(Malformed) -> (Int, Int)? {
        guard let cr = index(of: 13, in: bytes, from: start) else {
            if bytes.count - start > Self.inlineMax { throw malformed(start, "no end to the \(what)") }
            return nil
        }
        guard cr + 1 < bytes.count else { return nil }
        guard let value = Self.integer(bytes[(start + 1)..<cr]), value <= limit else { throw malformed(start, "invalid \(what)") }
        return (value, cr + 2)
    }

    private func index(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var i = start
        while i < bytes.count {
            if bytes[i] == byte { return i }
            i += 1
        }
        return nil
    }

    private func malformed(_ index: Int, _ reason: String) -> Malformed {
        Malformed(offset: offset + index, reason: reason)
    }

    /// As `string2ll`: an optional minus, digits, nothing else, no leading zero.
    private static func integer(_ digits: Slice<UnsafeRawBufferPointer>) -> Int? {
        var rest = digits[...]
        let negative = rest.first == UInt8(ascii: "-")
        if negative { rest = rest.dropFirst() }
        guard !rest.isEmpty, rest.count <= 18, rest.count == 1 || rest.first != UInt8(ascii: "0") else { return nil }
        if negative && rest.first == UInt8(ascii: "0") { return nil }  // string2ll refuses -0
        var value = 0
        for digit in rest {
            guard digit >= 48 && digit <= 57 else { return nil }
            value = value * 10 + Int(digit - 48)
        }
        return negative ? -value : value
    }

    /// `isspace` in the C locale, as `sdssplitargs` skips it.
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 32 || (byte >= 9 && byte <= 13)
    }
}

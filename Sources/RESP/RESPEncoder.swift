import NIOCore

/// A command: an array of binary-safe bulk strings, as Redis reads it.
///
/// The arguments lie in one byte array, each between a start and an end offset: a typed
/// line's words are found in the line's own bytes, so splitting it makes one array of
/// offsets, not one array per word.
public struct RESPCommand: Sendable {
    // Inlinable: every line of a batch reads its command's name through these.
    @usableFromInline let bytes: [UInt8]
    /// Argument `i` is `bytes[bounds[2 * i] ..< bounds[2 * i + 1]]`.
    @usableFromInline let bounds: [Int]

    public init(arguments: [[UInt8]]) {
        var bytes: [UInt8] = []
        var bounds: [Int] = []
        bytes.reserveCapacity(arguments.reduce(0) { $0 + $1.count })
        bounds.reserveCapacity(2 * arguments.count)
        for argument in arguments {
            bounds.append(bytes.count)
            bytes.append(contentsOf: argument)
            bounds.append(bytes.count)
        }
        self.bytes = bytes
        self.bounds = bounds
    }

    /// The arguments at `bounds` (each one's start and end offset, in order) within
    /// `bytes`, which are kept, not copied.
    public init(bytes: [UInt8], bounds: [Int]) {
        precondition(bounds.count % 2 == 0, "an argument needs a start and an end")
        // `encode` copies through raw pointers: offsets out of order or range must not get there.
        var previous = 0
        for bound in bounds {
            precondition(bound >= previous, "arguments in order")
            previous = bound
        }
        precondition(previous <= bytes.count, "arguments within the bytes")
        self.bytes = bytes
        self.bounds = bounds
    }

    public init(_ arguments: String...) {
        self.init(strings: arguments)
    }

    public init(strings: [String]) {
        self.init(arguments: strings.map { Array($0.utf8) })
    }

    /// Every argument as its own array (one allocation each: not for a hot path).
    public var arguments: [[UInt8]] {
        get { map { Array($0) } }
        set { self = RESPCommand(arguments: newValue) }
    }

    /// The command without its first argument (a repeat count), sharing the bytes.
    public func droppingFirst() -> RESPCommand {
        RESPCommand(bytes: bytes, bounds: Array(bounds.dropFirst(2)))
    }

    /// The command name, upper-cased (`SET`), or "" for an empty command.
    public var name: String {
        first.map { String(decoding: $0, as: UTF8.self).uppercased() } ?? ""
    }

    /// The argument at `index` as text (lossy for non-UTF-8 bytes).
    public func argument(_ index: Int) -> String? {
        index < count ? String(decoding: self[index], as: UTF8.self) : nil
    }

    /// The length of the RESP encoding, to size a buffer once.
    public var encodedSize: Int {
        bounds.withUnsafeBufferPointer { bounds in
            var size = 1 + Self.decimalLength(bounds.count / 2) + 2
            for index in stride(from: 0, to: bounds.count, by: 2) {
                let length = bounds[index + 1] - bounds[index]
                size += 1 + Self.decimalLength(length) + 2 + length + 2
            }
            return size
        }
    }

    /// Appends the RESP encoding (`*N` then `$len` bulk strings) to `buffer`,
    /// in one write: a pipeline of 100k commands spends its time here.
    public func encode(into buffer: inout ByteBuffer) {
        let size = encodedSize
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            bytes.withUnsafeBytes { source in
                bounds.withUnsafeBufferPointer { bounds in
                    var at = Self.put(header: UInt8(ascii: "*"), bounds.count / 2, into: raw, at: 0)
                    for index in stride(from: 0, to: bounds.count, by: 2) {
                        let (start, end) = (bounds[index], bounds[index + 1])
                        at = Self.put(header: UInt8(ascii: "$"), end - start, into: raw, at: at)
                        UnsafeMutableRawBufferPointer(rebasing: raw[at..<(at + end - start)])
                            .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start..<end]))
                        at += end - start
                        raw[at] = 13
                        raw[at + 1] = 10
                        at += 2
                    }
                    return at
                }
            }
        }
    }

    /// Writes `*N\r\n` or `$N\r\n` at `at`; returns where it ends.
    private static func put(header: UInt8, _ value: Int, into raw: UnsafeMutableRawBufferPointer, at: Int) -> Int {
        raw[at] = header
        let length = decimalLength(value)
        var v = value
        var i = at + 1 + length
        while i > at + 1 {
            i -= 1
            raw[i] = UInt8(ascii: "0") + UInt8(v % 10)
            v /= 10
        }
        raw[at + 1 + length] = 13
        raw[at + 2 + length] = 10
        return at + 3 + length
    }

    private static func decimalLength(_ value: Int) -> Int {
        var length = 1
        var v = value
        while v >= 10 {
            v /= 10
            length += 1
        }
        return length
    }
}

extension RESPCommand: RandomAccessCollection {
    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { bounds.count / 2 }

    @inlinable public subscript(index: Int) -> ArraySlice<UInt8> {
        bytes[bounds[2 * index]..<bounds[2 * index + 1]]
    }
}

/// Two commands are equal when their arguments are, however their bytes are laid out.
extension RESPCommand: Hashable {
    public static func == (lhs: RESPCommand, rhs: RESPCommand) -> Bool {
        lhs.elementsEqual(rhs)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for argument in self {
            hasher.combine(argument.count)
            argument.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }
}

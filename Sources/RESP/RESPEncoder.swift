import NIOCore

/// A command: an array of binary-safe bulk strings, as Redis reads it.
public struct RESPCommand: Sendable, Hashable {
    public var arguments: [[UInt8]]

    public init(arguments: [[UInt8]]) {
        self.arguments = arguments
    }

    public init(_ arguments: String...) {
        self.arguments = arguments.map { Array($0.utf8) }
    }

    public init(strings: [String]) {
        self.arguments = strings.map { Array($0.utf8) }
    }

    /// The command name, upper-cased (`SET`), or "" for an empty command.
    public var name: String {
        arguments.first.map { String(decoding: $0, as: UTF8.self).uppercased() } ?? ""
    }

    /// The argument at `index` as text (lossy for non-UTF-8 bytes).
    public func argument(_ index: Int) -> String? {
        index < arguments.count ? String(decoding: arguments[index], as: UTF8.self) : nil
    }

    /// The length of the RESP encoding, to size a buffer once.
    public var encodedSize: Int {
        var size = 1 + Self.decimalLength(arguments.count) + 2
        for argument in arguments {
            size += 1 + Self.decimalLength(argument.count) + 2 + argument.count + 2
        }
        return size
    }

    /// Appends the RESP encoding (`*N` then `$len` bulk strings) to `buffer`,
    /// in one write: a pipeline of 100k commands spends its time here.
    public func encode(into buffer: inout ByteBuffer) {
        let size = encodedSize
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            var at = 0
            func put(_ byte: UInt8) {
                raw[at] = byte
                at += 1
            }
            func putDecimal(_ value: Int) {
                let length = Self.decimalLength(value)
                var v = value
                var i = at + length
                while i > at {
                    i -= 1
                    raw[i] = UInt8(ascii: "0") + UInt8(v % 10)
                    v /= 10
                }
                at += length
                put(13)
                put(10)
            }
            put(UInt8(ascii: "*"))
            putDecimal(arguments.count)
            for argument in arguments {
                put(UInt8(ascii: "$"))
                putDecimal(argument.count)
                argument.withUnsafeBytes { bytes in
                    UnsafeMutableRawBufferPointer(rebasing: raw[at..<(at + bytes.count)]).copyMemory(from: bytes)
                }
                at += argument.count
                put(13)
                put(10)
            }
            return at
        }
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

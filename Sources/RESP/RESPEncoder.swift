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

    /// Appends the RESP encoding (`*N` then `$len` bulk strings) to `buffer`.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "*"))
        Self.writeDecimal(arguments.count, into: &buffer)
        for argument in arguments {
            buffer.writeInteger(UInt8(ascii: "$"))
            Self.writeDecimal(argument.count, into: &buffer)
            buffer.writeBytes(argument)
            buffer.writeInteger(UInt16(0x0D0A))
        }
    }

    private static func writeDecimal(_ value: Int, into buffer: inout ByteBuffer) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var v = value
        var count = 0
        withUnsafeMutableBytes(of: &digits) { raw in
            repeat {
                raw[19 - count] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                count += 1
            } while v > 0
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[(20 - count)...]))
        }
        buffer.writeInteger(UInt16(0x0D0A))
    }
}

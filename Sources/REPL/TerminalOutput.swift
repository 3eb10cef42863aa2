import CLibedit
import Dispatch
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// The one serialized writer of the terminal's output.
package final class TerminalOutput: Sendable {
    private let lock = NIOLockedValueBox(())
    private let fd: Int32

    package init(fd: Int32 = 1) { self.fd = fd }

    package func write(_ text: String) { write(Array(text.utf8)) }

    package func write(_ bytes: [UInt8]) {
        lock.withLockedValue { _ in
            bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { return }
                    offset += n
                }
            }
        }
    }
}

/// Counts lines ended by CR, LF or CR LF across pieces of input; a partial last line counts.
struct LineCounter {
    private(set) var ended = 0
    private var lastByte: UInt8?

    /// `afterCR`: the input before these bytes ended in CR, which ended its line.
    init(afterCR: Bool) {
        lastByte = afterCR ? 13 : nil
    }

    mutating func add(_ bytes: ArraySlice<UInt8>) {
        for byte in bytes {
            if byte == 13 || (byte == 10 && lastByte != 13) { ended += 1 }
            lastByte = byte
        }
    }

    var lines: Int { ended + (lastByte.map { $0 != 10 && $0 != 13 } == true ? 1 : 0) }
    /// The last byte was CR: an LF that comes next belongs to it.
    var endsInCR: Bool { lastByte == 13 }
}

#if canImport(Glibc)
    import Glibc
#endif

/// Numbers as C's `printf` writes them, for reports that must match redis-cli's bytes
/// (`%05.2f` rounds the double's exact value half to even, and prints `nan`, `inf`).
enum CFormat {
    static func number(_ format: String, _ value: CVarArg) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let written = withVaList([value]) { arguments in
            buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, $0.count, format, arguments) }
        }
        return String(decoding: buffer.prefix(Int(max(0, min(written, 63)))).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `%-6s` (`width` < 0) or `%6s`: padded with spaces, counted in bytes.
    static func padded(_ text: String, _ width: Int) -> String {
        let padding = String(repeating: " ", count: max(0, abs(width) - text.utf8.count))
        return width < 0 ? text + padding : padding + text
    }
}

import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Standard input as it comes, in chunks of up to 64 KiB, read on a thread of its own
/// into a bounded queue of 16 chunks (`--pipe` holds about a megabyte of input waiting,
/// beside the commands in flight and one command not yet whole).
final class ChunkSource: Sendable {
    static let chunkSize = 64 * 1024
    private let queue = BoundedQueue<Result<ByteBuffer, ReadFailure>>(capacity: 16)
    private let fd: Int32

    struct ReadFailure: Error, CustomStringConvertible {
        var errno: Int32
        var description: String { "Error reading from stdin: \(String(cString: strerror(errno)))" }
    }

    init(fd: Int32) {
        self.fd = fd
        EditorThread.detached { [self] in readLoop() }
    }

    /// The chunks read since the last call (at least one), or nil at the end.
    func next() async -> [Result<ByteBuffer, ReadFailure>]? { await queue.next() }

    /// Stops reading.
    func close() { queue.close() }

    /// Whether the input is a regular file: its rest can then be counted in little time.
    var isFile: Bool {
        var status = stat()
        return fstat(fd, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG
    }

    private func readLoop() {
        let allocator = ByteBufferAllocator()
        while true {
            var chunk = allocator.buffer(capacity: Self.chunkSize)
            var result = 0
            var failure: Int32 = 0
            chunk.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.chunkSize) { space in
                repeat { result = read(fd, space.baseAddress, space.count) } while result < 0 && errno == EINTR
                failure = errno
                return max(result, 0)
            }
            if result <= 0 {
                _ = queue.deliver(result < 0 ? [.failure(ReadFailure(errno: failure))] : [], finished: true)
                return
            }
            if !queue.deliver([.success(chunk)]) { return }
        }
    }
}

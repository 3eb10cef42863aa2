#if canImport(Glibc)
    import Glibc
#endif

/// Lines from a file descriptor (stdin), read on a thread of their own into a
/// bounded queue: when the consumer falls behind, the reader stops reading, so
/// a 10-million-line input runs in constant memory.
package final class LineSource: Sendable {
    /// How many lines may wait in the queue; also the largest chunk `next` returns.
    package static let capacity = 4096
    private let queue = BoundedQueue<[UInt8]>(capacity: LineSource.capacity)
    private let fd: Int32

    package init(fd: Int32) {
        self.fd = fd
        EditorThread.detached { [self] in readLoop() }
    }

    /// The lines that arrived since the last call (at least one), or nil at the end.
    package func next() async -> [[UInt8]]? { await queue.next() }

    /// The lines that arrived since the last call, without waiting for more.
    package func nextIfReady() -> BoundedQueue<[UInt8]>.Ready { queue.nextIfReady() }

    /// Stops reading (the consumer is done, e.g. after `quit`).
    package func close() { queue.close() }

    private func readLoop() {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            var lines: [[UInt8]] = []
            var start = 0
            buffer.withUnsafeBufferPointer { bytes in
                for i in 0..<n where bytes[i] == 10 {
                    // A new array of its own for each line. Handing on `pending` and then emptying
                    // it with removeAll(keepingCapacity:) left the lines' buffers alive in debug
                    // builds (heaptrack; 30 MB over a million lines), for a reason not pinned down.
                    let end = i > start && bytes[i - 1] == 13 ? i - 1 : i
                    if pending.isEmpty {
                        lines.append(Array(UnsafeBufferPointer(rebasing: bytes[start..<end])))
                    } else {
                        var line = pending + bytes[start..<i]
                        pending = []
                        if line.last == 13 { line.removeLast() }
                        lines.append(line)
                    }
                    start = i + 1
                }
            }
            pending += buffer[start..<n]
            if !queue.deliver(lines) { return }
        }
        _ = queue.deliver(pending.isEmpty ? [] : [pending], finished: true)
    }
}

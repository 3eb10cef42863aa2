import Dispatch
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// Lines from a file descriptor (stdin), read on a thread of their own into a
/// bounded queue: when the consumer falls behind, the reader stops reading, so
/// a 10-million-line input runs in constant memory.
package final class LineSource: Sendable {
    private struct State {
        var lines: [[UInt8]] = []
        var finished = false
        var closed = false
        var waiter: CheckedContinuation<[[UInt8]]?, Never>?
    }

    /// How many lines may wait in the queue; also the largest chunk `next` returns.
    package static let capacity = 4096
    private let state = NIOLockedValueBox(State())
    private let space = DispatchSemaphore(value: 0)
    private let fd: Int32

    package init(fd: Int32) {
        self.fd = fd
        EditorThread.detached { [self] in readLoop() }
    }

    /// The lines that arrived since the last call (at least one), or nil at the end.
    package func next() async -> [[UInt8]]? {
        await withCheckedContinuation { continuation in
            let ready: Ready = state.withLockedValue { state in
                let ready = Self.take(&state)
                if case .nothingYet = ready { state.waiter = continuation }
                return ready
            }
            switch ready {
            case .lines(let lines):
                continuation.resume(returning: lines)
                space.signal()
            case .finished:
                continuation.resume(returning: nil)
            case .nothingYet:
                break  // `deliver` hands the next lines over
            }
        }
    }

    package enum Ready: Sendable {
        case lines([[UInt8]])
        case nothingYet
        case finished
    }

    /// The lines that arrived since the last call, without waiting for more.
    package func nextIfReady() -> Ready {
        let ready = state.withLockedValue { Self.take(&$0) }
        if case .lines = ready { space.signal() }
        return ready
    }

    private static func take(_ state: inout State) -> Ready {
        guard !state.lines.isEmpty else { return state.finished ? .finished : .nothingYet }
        defer { state.lines.removeAll(keepingCapacity: true) }
        return .lines(state.lines)
    }

    /// Stops reading (the consumer is done, e.g. after `quit`).
    package func close() {
        state.withLockedValue { $0.closed = true }
        space.signal()
    }

    private func readLoop() {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            var lines: [[UInt8]] = []
            var start = 0
            for i in 0..<n where buffer[i] == 10 {
                // A new array of its own for each line. Handing on `pending` and then emptying
                // it with removeAll(keepingCapacity:) left the lines' buffers alive in debug
                // builds (heaptrack; 30 MB over a million lines), for a reason not pinned down.
                var line = pending + buffer[start..<i]
                pending = []
                if line.last == 13 { line.removeLast() }
                lines.append(line)
                start = i + 1
            }
            pending += buffer[start..<n]
            if !deliver(lines) { return }
        }
        _ = deliver(pending.isEmpty ? [] : [pending], finished: true)
    }

    /// Queues lines, waiting while the queue is full; false once closed.
    private func deliver(_ lines: [[UInt8]], finished: Bool = false) -> Bool {
        enum Outcome { case queued, full, closed }
        while true {
            var handOver: (CheckedContinuation<[[UInt8]]?, Never>, [[UInt8]]?)?
            let outcome: Outcome = state.withLockedValue { state in
                if state.closed { return .closed }
                if state.lines.count >= Self.capacity && !lines.isEmpty { return .full }
                state.lines += lines
                state.finished = finished
                if let waiter = state.waiter, !state.lines.isEmpty || finished {
                    state.waiter = nil
                    handOver = (waiter, state.lines.isEmpty ? nil : state.lines)
                    state.lines.removeAll(keepingCapacity: true)
                }
                return .queued
            }
            switch outcome {
            case .closed: return false
            case .queued:
                if let (waiter, chunk) = handOver { waiter.resume(returning: chunk) }
                return true
            case .full: space.wait()
            }
        }
    }
}

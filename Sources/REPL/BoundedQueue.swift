import Dispatch
import NIOConcurrencyHelpers

/// A queue from one blocking producer thread (a reader of stdin) to one async
/// consumer. When the consumer falls behind, `deliver` waits: the reader stops
/// reading, so an input of any size runs in constant memory.
package final class BoundedQueue<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var finished = false
        var closed = false
        var waiter: CheckedContinuation<[Element]?, Never>?
    }

    /// How many items may wait; also the most that `next` returns at once.
    package let capacity: Int
    private let state = NIOLockedValueBox(State())
    private let space = DispatchSemaphore(value: 0)

    package init(capacity: Int) {
        self.capacity = capacity
    }

    package enum Ready: Sendable {
        case items([Element])
        case nothingYet
        case finished
    }

    /// The items that arrived since the last call (at least one), or nil at the end.
    package func next() async -> [Element]? {
        await withCheckedContinuation { continuation in
            let ready: Ready = state.withLockedValue { state in
                let ready = Self.take(&state)
                if case .nothingYet = ready { state.waiter = continuation }
                return ready
            }
            switch ready {
            case .items(let items):
                continuation.resume(returning: items)
                space.signal()
            case .finished:
                continuation.resume(returning: nil)
            case .nothingYet:
                break  // `deliver` hands the next items over
            }
        }
    }

    /// The items that arrived since the last call, without waiting for more.
    package func nextIfReady() -> Ready {
        let ready = state.withLockedValue { Self.take(&$0) }
        if case .items = ready { space.signal() }
        return ready
    }

    private static func take(_ state: inout State) -> Ready {
        guard !state.items.isEmpty else { return state.finished || state.closed ? .finished : .nothingYet }
        defer { state.items.removeAll(keepingCapacity: true) }
        return .items(state.items)
    }

    /// Stops the producer (the consumer is done, e.g. after `quit`); a consumer waiting in
    /// `next` gets nil, as at the end.
    package func close() {
        let waiter = state.withLockedValue { state in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
        space.signal()
    }

    private enum Outcome { case queued, full, closed }

    /// Queues items, waiting while the queue is full; false once closed. Called by the producer.
    package func deliver(_ items: [Element], finished: Bool = false) -> Bool {
        while true {
            var handOver: (CheckedContinuation<[Element]?, Never>, [Element]?)?
            let outcome: Outcome = state.withLockedValue { state in
                if state.closed { return .closed }
                if state.items.count >= capacity && !items.isEmpty { return .full }
                state.items += items
                state.finished = finished
                if let waiter = state.waiter, !state.items.isEmpty || finished {
                    state.waiter = nil
                    handOver = (waiter, state.items.isEmpty ? nil : state.items)
                    state.items.removeAll(keepingCapacity: true)
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

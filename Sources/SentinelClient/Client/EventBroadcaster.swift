import NIOConcurrencyHelpers

/// Hands every topology event to each stream made by `makeStream`, so that
/// several consumers (a prompt, an app's metrics) follow the same events.
final class EventBroadcaster<Event: Sendable>: Sendable {
    private struct State {
        var streams: [Int: AsyncStream<Event>.Continuation] = [:]
        var nextID = 0
        var finished = false
    }

    private let state = NIOLockedValueBox(State())

    /// A new stream of the events from now on; the newest `buffer` are kept for a slow reader.
    func makeStream(buffer: Int = 256) -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(buffer))
        let id: Int? = state.withLockedValue { state in
            guard !state.finished else { return nil }
            defer { state.nextID += 1 }
            state.streams[state.nextID] = continuation
            return state.nextID
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLockedValue { $0.streams.removeValue(forKey: id) }
        }
        return stream
    }

    func yield(_ event: Event) {
        for continuation in state.withLockedValue({ Array($0.streams.values) }) { continuation.yield(event) }
    }

    /// Ends every stream; later streams end at once.
    func finish() {
        let streams = state.withLockedValue { state in
            state.finished = true
            defer { state.streams = [:] }
            return Array(state.streams.values)
        }
        for continuation in streams { continuation.finish() }
    }
}

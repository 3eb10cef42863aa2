import NIOCore

/// Exponential backoff between reconnection tries.
struct Backoff: Sendable {
    let initial: TimeAmount
    let maximum: TimeAmount
    private var current: TimeAmount

    init(initial: TimeAmount, maximum: TimeAmount) {
        self.initial = initial
        self.maximum = maximum
        self.current = initial
    }

    /// The delay before the next try; each call doubles it, up to `maximum`.
    mutating func next() -> TimeAmount {
        defer { current = min(current * 2, maximum) }
        return current
    }

    mutating func reset() { current = initial }
}

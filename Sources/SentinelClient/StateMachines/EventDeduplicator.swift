import NIOCore

/// Several sentinels publish the same event: it is shown once. An event is the
/// same when its channel and the instance it is about (`<type> <name> <ip> <port>`)
/// are, within `window` of the last time it was seen.
struct EventDeduplicator: Sendable {
    let window: TimeAmount
    private var lastSeen: [String: NIODeadline] = [:]

    init(window: TimeAmount = .seconds(3)) { self.window = window }

    /// True the first time within the window; false for the copies.
    mutating func isNew(channel: String, payload: String, at now: NIODeadline) -> Bool {
        let key = channel + " " + payload.split(separator: " ").prefix(4).joined(separator: " ")
        if let seen = lastSeen[key], now - seen < window { return false }
        lastSeen = lastSeen.filter { now - $0.value < window }
        lastSeen[key] = now
        return true
    }
}

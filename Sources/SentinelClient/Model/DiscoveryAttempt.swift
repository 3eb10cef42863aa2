import RESP

/// One step of a discovery: a sentinel asked, or the master it named.
public struct DiscoveryAttempt: Sendable, Hashable, CustomStringConvertible {
    public var sentinel: ServerAddress
    /// The master address the sentinel named, when it named one.
    public var namedMaster: ServerAddress?
    public var reason: FailureReason

    public init(sentinel: ServerAddress, namedMaster: ServerAddress? = nil, reason: FailureReason) {
        self.sentinel = sentinel
        self.namedMaster = namedMaster
        self.reason = reason
    }

    public var description: String {
        if let master = namedMaster {
            return "sentinel \(sentinel) named \(master): \(reason)"
        }
        return "sentinel \(sentinel): \(reason)"
    }
}

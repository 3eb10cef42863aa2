import RESP

/// One step of a discovery: a sentinel asked, or the master it named.
public struct DiscoveryAttempt: Sendable, Hashable, CustomStringConvertible {
    public var sentinel: ServerAddress
    /// The master address the sentinel named, when it named one.
    public var namedMaster: ServerAddress?
    public var reason: FailureReason
    /// For `unknownMasterName`: the master names the sentinel does monitor.
    public var monitoredMasters: [String]

    public init(sentinel: ServerAddress, namedMaster: ServerAddress? = nil, reason: FailureReason, monitoredMasters: [String] = []) {
        self.sentinel = sentinel
        self.namedMaster = namedMaster
        self.reason = reason
        self.monitoredMasters = monitoredMasters
    }

    public var description: String {
        if let master = namedMaster {
            return "sentinel \(sentinel) named \(master): \(reason)"
        }
        return "sentinel \(sentinel): \(reason)"
    }
}

import NIOCore

/// What `SentinelClient.coordinatedFailover(_:)` will do, read before it starts: the
/// master, its replicas and how far each is behind, what the sentinels say, and how
/// writes are kept from being lost.
public struct FailoverPlan: Sendable, Hashable {
    /// How writes are kept safe during the switch.
    public enum Method: Sendable, Hashable, CustomStringConvertible {
        /// Valkey 9 and later: `SENTINEL FAILOVER <name> COORDINATED`; the master pauses
        /// writes and hands over to the replica itself.
        case sentinelCoordinated
        /// Redis: writes paused on the master (`CLIENT PAUSE ... WRITE`, renewed in short
        /// slices), replicas waited for until they have the master's offset, `SENTINEL
        /// FAILOVER`, the old master made a replica of the new one, then writes resumed.
        case writePause

        public var description: String {
            switch self {
            case .sentinelCoordinated: "SENTINEL FAILOVER ... COORDINATED (the server pauses writes and hands over)"
            case .writePause: "CLIENT PAUSE WRITE, replicas caught up, SENTINEL FAILOVER, old master demoted, then unpause"
            }
        }
    }

    /// One replica as Sentinel lists it, with the bytes it is behind the master.
    public struct Replica: Sendable, Hashable {
        public var address: ServerAddress
        public var flags: String
        /// Master offset minus its offset, when both are known.
        public var lagBytes: Int64?
        /// Sentinel would not promote it (`s_down`, `o_down`, `disconnected`).
        public var healthy: Bool

        public init(address: ServerAddress, flags: String, lagBytes: Int64?, healthy: Bool) {
            self.address = address
            self.flags = flags
            self.lagBytes = lagBytes
            self.healthy = healthy
        }
    }

    public var masterName: String
    public var master: ServerAddress
    /// `Redis 7.0.15`, `Valkey 9.1.2`.
    public var server: String
    public var masterOffset: Int64
    public var replicas: [Replica]
    /// `SENTINEL CKQUORUM`, or nil when no sentinel answered it.
    public var quorum: QuorumVerdict?
    public var method: Method

    public init(
        masterName: String, master: ServerAddress, server: String, masterOffset: Int64, replicas: [Replica],
        quorum: QuorumVerdict?, method: Method
    ) {
        self.masterName = masterName
        self.master = master
        self.server = server
        self.masterOffset = masterOffset
        self.replicas = replicas
        self.quorum = quorum
        self.method = method
    }
}

import NIOCore

/// What the client learnt when it last verified the master.
public struct MasterInfo: Sendable, Hashable {
    public var name: String
    public var address: ServerAddress
    /// The sentinel whose answer was verified.
    public var answeredBy: ServerAddress
    /// `ROLE` as seen at verification: replication offset and connected replicas.
    public var replicationOffset: Int64
    public var connectedReplicas: [ServerAddress]
    /// When this address was first verified as master in this session (monotonic clock).
    public var knownSince: NIODeadline
    public var verifiedAt: NIODeadline
}

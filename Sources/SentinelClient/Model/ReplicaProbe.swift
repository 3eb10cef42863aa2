import NIOCore

/// One replica as Sentinel lists it, and what ROLE says on it.
public struct ReplicaProbe: Sendable, Hashable {
    public var address: ServerAddress
    public var flags: String
    public var offset: Int64?
    /// `master-link-status` as Sentinel last saw it: true for `ok`; nil when not reported.
    public var masterLinkUp: Bool?
    /// ROLE on the replica: `replica of host:port, state connected, offset N`, or why it failed.
    public var role: String = ""
}

import NIOCore

/// Where `SentinelClient.execute(_:readFrom:)` runs a command.
public enum ReadFrom: Sendable, Hashable {
    /// The master, as `execute(_:)` does.
    case master
    /// A healthy replica (Sentinel's flags, then ROLE); fails with `noHealthyReplica` when none is.
    case replica
    /// A healthy replica when there is one, else the master.
    case replicaPreferred
}

import NIOCore

/// One Sentinel pub/sub event, as a sentinel published it.
public struct SentinelEvent: Sendable, Hashable, CustomStringConvertible {
    /// The channel: `+sdown`, `+switch-master`, ...
    public var channel: String
    /// The message: `master mymaster 10.0.0.1 6379 #quorum 2/2`, ...
    public var payload: String
    /// The sentinel it was heard from first.
    public var reportedBy: ServerAddress

    /// Escaped for printing (`Printable`): the payload is a sentinel's text.
    public var description: String { Printable.escaped("\(channel) \(payload)") }
}

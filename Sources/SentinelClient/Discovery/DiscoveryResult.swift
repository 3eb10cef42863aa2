import Logging
import NIOCore
import RESP

/// What one sentinel said when asked.
struct SentinelAnswer: Sendable {
    var sentinel: ServerAddress
    var master: ServerAddress?
    var otherSentinels: [ServerAddress]
    var latencyMicroseconds: Int
    /// When it knows no master of the name asked for: the names it monitors.
    var monitoredMasters: [String] = []
}

/// A verified master: the sentinel named it and ROLE confirmed it.
struct DiscoveryResult: Sendable {
    var master: ServerAddress
    var answeredBy: SentinelAnswer
    var role: MasterRole
    /// The connection ROLE ran on, handshake done: the pool's first.
    var connection: RedisConnection
    var attempts: [DiscoveryAttempt]
}

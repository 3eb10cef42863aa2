import DequeModule
import NIOCore
import RESP
import SentinelClient

/// A MULTI (transaction) or WATCH block, and the connection its first line went to.
struct OpenBlock: Sendable, Equatable {
    enum Kind: Sendable { case transaction, watch }
    var kind: Kind
    /// Held, not just named: a freed connection's identity could come back as a new one's.
    var connection: any AnyObject & Sendable

    static func == (lhs: OpenBlock, rhs: OpenBlock) -> Bool {
        lhs.kind == rhs.kind && lhs.connection === rhs.connection
    }
}

/// A line of a MULTI or WATCH block whose connection was lost.
struct LostBlock: Error, CustomStringConvertible {
    var command: String
    var description: String {
        "\(command) was not run: the MULTI or WATCH block it belongs to was lost with its connection"
    }
}

import NIOCore
import NIOPosix
import RESP

/// How one connection introduces itself after connecting.
struct HandshakeSettings: Sendable {
    var credentials: Credentials?
    var clientName: String?
    var database: Int = 0
    var protocolVersion: RESPProtocolVersion = .resp2
    var tls: SentinelClientConfiguration.TLS = .disable
}

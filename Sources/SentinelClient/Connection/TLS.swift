import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

#if canImport(Glibc)
    import Glibc
#endif

extension SentinelClientConfiguration {
    /// TLS for one kind of server: the data nodes (`tls`) or the sentinels (`sentinelTLS`).
    /// The certificate is checked against the address Sentinel returned: its IP SANs for
    /// an IP address, its DNS names for a host name (or against `serverName`).
    public struct TLS: Sendable {
        let context: NIOSSLContext?
        /// The name sent in SNI and checked against the certificate instead of the host.
        public let serverName: String?
        /// Whether `configuration` presents a client certificate (mutual TLS).
        public let presentsCertificate: Bool

        /// Plaintext, the default.
        public static var disable: TLS { TLS(context: nil, serverName: nil, presentsCertificate: false) }

        /// TLS with `configuration` (`TLSConfiguration.makeClientConfiguration()` and its
        /// trust roots, client certificate and key). Its certificates and key are loaded
        /// here: a file that cannot be read throws NIOSSL's error now, not at the first connect.
        public static func enable(_ configuration: TLSConfiguration, serverName: String? = nil) throws -> TLS {
            TLS(
                context: try NIOSSLContext(configuration: configuration), serverName: serverName,
                presentsCertificate: !configuration.certificateChain.isEmpty)
        }

        public var isEnabled: Bool { context != nil }
    }
}

/// Settings of one TLS connection: the context and the name the certificate must carry.
struct TLSConnectionSettings {
    let context: NIOSSLContext
    /// SNI and the name check; nil for an IP address (its IP SANs are checked).
    let serverHostname: String?

    init?(_ tls: SentinelClientConfiguration.TLS, for address: ServerAddress) {
        guard let context = tls.context else { return nil }
        self.context = context
        serverHostname = tls.serverName ?? (HostAddresses.canonicalIP(address.host) == nil ? address.host : nil)
    }

    /// Adds the TLS handlers in front of the RESP handler; `handshake` completes with the
    /// handshake (or fails with its error, or `TLSFailure.plaintextServer`).
    func addHandlers(to channel: any Channel, handshake: EventLoopPromise<Void>) throws {
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(PlaintextDetector(handshake: handshake))
        try pipeline.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverHostname))
        try pipeline.addHandler(HandshakeWatcher(handshake: handshake))
    }

    /// Adds TLS handlers that accept any certificate and record the server's leaf: for
    /// `diagnose` only, on a connection that is closed once the handshake ends.
    func addDiagnosticHandlers(
        to channel: any Channel, handshake: EventLoopPromise<Void>, leaf: EventLoopPromise<NIOSSLCertificate?>
    ) throws {
        let pipeline = channel.pipeline.syncOperations
        let handler = try NIOSSLClientHandler(context: context, serverHostname: serverHostname) { certificates, result in
            leaf.succeed(certificates.first)
            result.succeed(.certificateVerified)
        }
        try pipeline.addHandler(handler)
        try pipeline.addHandler(HandshakeWatcher(handshake: handshake))
    }
}

/// Before the TLS handler: a first byte that opens no TLS record (handshake 22, alert
/// 21) means the server speaks plaintext; the handshake fails with that at once.
private final class PlaintextDetector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let handshake: EventLoopPromise<Void>

    init(handshake: EventLoopPromise<Void>) { self.handshake = handshake }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        if let first = bytes.getInteger(at: bytes.readerIndex, as: UInt8.self), !(20...23).contains(first) {
            handshake.fail(TLSFailure.plaintextServer)
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// After the TLS handler: completes `handshake` when it ends, either way.
private final class HandshakeWatcher: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let handshake: EventLoopPromise<Void>

    init(handshake: EventLoopPromise<Void>) { self.handshake = handshake }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event { handshake.succeed(()) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        handshake.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshake.fail(TLSFailure.closedDuringHandshake)
        context.fireChannelInactive()
    }
}

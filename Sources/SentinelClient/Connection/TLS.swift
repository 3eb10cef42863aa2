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
        /// The same without NIOSSL's name check, for an announced IP address dialled
        /// elsewhere (`--natmap`): NIOSSL would check the IP it dialled, so the announced
        /// IP is checked against the certificate's IP SANs by `TLSConnectionSettings`.
        let mappedIPContext: NIOSSLContext?
        /// The name sent in SNI and checked against the certificate instead of the host.
        public let serverName: String?
        /// Whether `configuration` presents a client certificate (mutual TLS).
        public let presentsCertificate: Bool

        /// Plaintext, the default.
        public static var disable: TLS { TLS(context: nil, mappedIPContext: nil, serverName: nil, presentsCertificate: false) }

        /// TLS with `configuration` (`TLSConfiguration.makeClientConfiguration()` and its
        /// trust roots, client certificate and key). Its certificates and key are loaded
        /// here: a file that cannot be read throws NIOSSL's error now, not at the first connect.
        public static func enable(_ configuration: TLSConfiguration, serverName: String? = nil) throws -> TLS {
            var withoutNameCheck = configuration
            if withoutNameCheck.certificateVerification == .fullVerification {
                withoutNameCheck.certificateVerification = .noHostnameVerification
            }
            return TLS(
                context: try NIOSSLContext(configuration: configuration),
                mappedIPContext: try NIOSSLContext(configuration: withoutNameCheck), serverName: serverName,
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
    /// The announced IP address, checked here against the certificate's IP SANs, when it
    /// is dialled at another address (NIOSSL checks the IP it dialled).
    let announcedIP: (text: String, bytes: [UInt8])?

    init?(_ tls: SentinelClientConfiguration.TLS, for address: ServerAddress, dialling target: ServerAddress? = nil) {
        guard let context = tls.context else { return nil }
        let announcedIsIP = HostAddresses.canonicalIP(address.host) != nil
        serverHostname = tls.serverName ?? (announcedIsIP ? nil : address.host)
        let dialledElsewhere = target.map { HostAddresses.canonicalIP($0.host) != HostAddresses.canonicalIP(address.host) } ?? false
        if tls.serverName == nil, announcedIsIP, dialledElsewhere, let bytes = Self.ipBytes(address.host), let other = tls.mappedIPContext {
            self.context = other
            announcedIP = (address.host, bytes)
        } else {
            self.context = context
            announcedIP = nil
        }
    }

    /// Adds the TLS handlers in front of the RESP handler; `handshake` completes with the
    /// handshake (or fails with its error, or `TLSFailure.plaintextServer`).
    func addHandlers(to channel: any Channel, handshake: EventLoopPromise<Void>) throws {
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(PlaintextDetector(handshake: handshake))
        if let announcedIP {
            try pipeline.addHandler(
                NIOSSLClientHandler._makeSSLClientHandler(context: context, serverHostname: nil) { certificate, channel in
                    Self.hasIPName(certificate, announcedIP.bytes)
                        ? channel.eventLoop.makeSucceededVoidFuture()
                        : channel.eventLoop.makeFailedFuture(TLSFailure.nameMismatch(expected: announcedIP.text))
                })
        } else {
            try pipeline.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverHostname))
        }
        try pipeline.addHandler(HandshakeWatcher(handshake: handshake))
    }

    /// Whether the certificate names this IP address among its subject alternative names.
    static func hasIPName(_ certificate: NIOSSLCertificate, _ bytes: [UInt8]) -> Bool {
        certificate._subjectAlternativeNames().contains { name in
            name.nameType == .ipAddress && name.contents.elementsEqual(bytes)
        }
    }

    /// An IPv4 or IPv6 address in network order (4 or 16 bytes), or nil.
    static func ipBytes(_ host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
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

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

/// Why a TLS connection could not be made, as found by type and by the server's certificate.
public enum TLSFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The server answered the TLS hello with plaintext bytes (a server without TLS on this port).
    case plaintextServer
    /// No TLS handshake within the connect timeout: a plaintext server waits in silence,
    /// and so does a hung one.
    case handshakeTimedOut(milliseconds: Int)
    /// The server closed the connection during the handshake.
    case closedDuringHandshake
    /// The server closed the connection at once after the handshake, before any reply.
    case closedAfterHandshake
    /// The certificate's validity ended (UTC, `2020-01-31 00:00:00`).
    case certificateExpired(notAfter: String)
    case certificateNotYetValid(notBefore: String)
    /// The certificate chain does not lead to a trusted CA.
    case certificateUntrusted
    /// The certificate does not name this host (IP SAN or DNS name) or the `serverName`.
    case nameMismatch(expected: String)
    /// The handshake failed otherwise (a refused client certificate, no common protocol, ...).
    case handshakeFailed(String)

    public var description: String {
        switch self {
        case .plaintextServer: return "TLS: the server answered in plaintext (no TLS on this port)"
        case .handshakeTimedOut(let ms):
            return "TLS: no handshake within \(ms) ms (a plaintext server waits in silence, and so does a hung one)"
        case .closedDuringHandshake: return "TLS: the server closed the connection during the handshake"
        case .closedAfterHandshake:
            return "TLS: the server closed the connection after the handshake, before any reply (as one that wants a client certificate does)"
        case .certificateExpired(let date): return "TLS: the server's certificate expired on \(date) UTC"
        case .certificateNotYetValid(let date): return "TLS: the server's certificate is not valid before \(date) UTC"
        case .certificateUntrusted: return "TLS: the server's certificate is not signed by a trusted CA"
        case .nameMismatch(let name): return "TLS: the server's certificate is not valid for \(name)"
        case .handshakeFailed(let message): return "TLS handshake failed: \(message)"
        }
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

extension TLSFailure {
    /// The failure a handshake error stands for. A verification error of the chain is
    /// told apart by a second handshake that records the certificate (`diagnose`).
    static func classify(_ error: any Error) -> TLSFailure? {
        if let failure = error as? TLSFailure { return failure }
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname { return nil }
        if let ssl = error as? NIOSSLError, case .uncleanShutdown = ssl { return .closedDuringHandshake }
        if error is ChannelError || error is IOError { return .closedDuringHandshake }
        return nil
    }

    /// Connects again with a handshake that accepts any certificate and records it, to say
    /// why the first handshake failed: an expired, not yet valid or untrusted certificate,
    /// or, when this one fails too, not the certificate at all. Nothing is sent on it.
    static func diagnose(
        _ error: any Error, address: ServerAddress, settings: TLSConnectionSettings, on group: any EventLoopGroup,
        timeout: TimeAmount
    ) async -> TLSFailure {
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return .nameMismatch(expected: settings.serverHostname ?? address.host)
        }
        let eventLoop = group.next()
        let handshake = eventLoop.makePromise(of: Void.self)
        let leaf = eventLoop.makePromise(of: NIOSSLCertificate?.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop).connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try settings.addDiagnosticHandlers(to: channel, handshake: handshake, leaf: leaf)
                    }
                }
                .connect(host: address.host, port: address.port).get()
        } catch {
            handshake.fail(error)
            leaf.succeed(nil)
            return .handshakeFailed("\(error)")
        }
        let deadline = eventLoop.scheduleTask(in: timeout) { handshake.fail(ChannelError.connectTimeout(timeout)) }
        let completed = (try? await handshake.futureResult.get()) != nil
        deadline.cancel()
        try? await channel.close()
        leaf.succeed(nil)
        guard completed, let certificate = try? await leaf.futureResult.get() else {
            return .handshakeFailed("\(error)")
        }
        let now = time(nil)
        if certificate.notValidAfter < now { return .certificateExpired(notAfter: utc(certificate.notValidAfter)) }
        if certificate.notValidBefore > now { return .certificateNotYetValid(notBefore: utc(certificate.notValidBefore)) }
        return .certificateUntrusted
    }

    private static func utc(_ seconds: time_t) -> String {
        var time = seconds
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))"
            + " \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
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

import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

#if canImport(Glibc)
    import Glibc
#endif

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
        _ error: any Error, address: ServerAddress, dialled: ServerAddress, settings: TLSConnectionSettings,
        on group: any EventLoopGroup, timeout: TimeAmount
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
                .connect(host: dialled.host, port: dialled.port).get()
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

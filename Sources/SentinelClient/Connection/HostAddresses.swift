#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The IP addresses a host stands for, to tell whether a host name and an address (or
/// two names) are the same server: ROLE names a replica's master as the replica was told,
/// by IP or by name, and the topology may know it the other way.
enum HostAddresses {
    /// `host` itself in canonical form when it is an IP address; else what the system
    /// resolver returns for it now, on NIO's thread pool: empty when it resolves to nothing
    /// or gives no answer within `limit`.
    /// Not cached: in Kubernetes a restarted pod keeps its name and gets a new address.
    static func of(
        _ host: String, within limit: TimeAmount, resolver: @escaping @Sendable (String) -> Set<String> = resolve
    ) async -> Set<String> {
        if let canonical = canonicalIP(host) { return [canonical] }
        return (try? await withDeadline(limit) { await lookUp(host, resolver) }) ?? []
    }

    /// The resolver's answer, or nothing at once when the task is cancelled: getaddrinfo
    /// cannot be stopped (a resolver that does not answer blocks for seconds), so it is
    /// left to finish on the thread pool and its late answer is dropped.
    private static func lookUp(_ host: String, _ resolver: @escaping @Sendable (String) -> Set<String>) async -> Set<String> {
        let waiting = NIOLockedValueBox<CheckedContinuation<Set<String>, Never>?>(nil)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                waiting.withLockedValue { $0 = continuation }
                // A cancellation that came before the continuation was stored found nothing to
                // resume; nor is a lookup whose answer nobody waits for started.
                if Task.isCancelled {
                    waiting.withLockedValue { $0.take() }?.resume(returning: [])
                    return
                }
                NIOThreadPool.singleton.submit { state in
                    let found = state == .active ? resolver(host) : []
                    waiting.withLockedValue { $0.take() }?.resume(returning: found)
                }
            }
        } onCancel: {
            waiting.withLockedValue { $0.take() }?.resume(returning: [])
        }
    }

    static func canonicalIP(_ host: String) -> String? {
        (try? SocketAddress(ipAddress: host, port: 0))?.ipAddress
    }

    @Sendable static func resolve(_ host: String) -> Set<String> {
        var hints = addrinfo()
        #if canImport(Darwin) || canImport(Musl)
        hints.ai_socktype = SOCK_STREAM
        #else
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var found: Set<String> = []
        for entry in sequence(first: first, next: { $0.pointee.ai_next }) {
            guard let address = entry.pointee.ai_addr else { continue }
            let ip: String?
            switch Int32(address.pointee.sa_family) {
            case AF_INET:
                ip = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { SocketAddress($0.pointee, host: host).ipAddress }
            case AF_INET6:
                ip = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { SocketAddress($0.pointee, host: host).ipAddress }
            default:
                ip = nil
            }
            if let ip { found.insert(ip) }
        }
        return found
    }
}

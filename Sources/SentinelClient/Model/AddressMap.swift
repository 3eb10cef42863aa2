/// Rewrites the addresses Sentinel names (master, replicas, learned sentinels) before
/// they are dialled: `--natmap FROM=TO`, for nodes reached through an SSH tunnel,
/// Docker's published ports or `kubectl port-forward`. FROM and TO are `host:port`; a
/// bare FROM host maps every port of that host (to TO's host, each port kept, when TO
/// is a bare host too). The first entry that matches wins; an exact `host:port` entry
/// wins over a bare host whatever the order.
public struct AddressMap: Sendable, Hashable, CustomStringConvertible {
    public struct Entry: Sendable, Hashable, CustomStringConvertible {
        public var fromHost: String
        /// nil: every port of `fromHost`.
        public var fromPort: Int?
        public var toHost: String
        /// nil: the port Sentinel named.
        public var toPort: Int?

        public var description: String {
            func side(_ host: String, _ port: Int?) -> String {
                guard let port else { return host }
                return ServerAddress(host: host, port: port).description
            }
            return "\(side(fromHost, fromPort))=\(side(toHost, toPort))"
        }
    }

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var text: String
        public var reason: String
        public var description: String { "natmap '\(text)': \(reason)" }
    }

    public private(set) var entries: [Entry] = []

    public init(_ entries: [Entry] = []) {
        self.entries = entries
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// Adds `FROM=TO`, as `--natmap` and the URL's `natmap=` give it.
    public mutating func add(_ text: String) throws(ParseError) {
        let sides = text.split(separator: "=", omittingEmptySubsequences: false)
        guard sides.count == 2 else { throw ParseError(text: text, reason: "write FROM=TO, each host:port or a host") }
        let from = try Self.side(String(sides[0]), in: text)
        let to = try Self.side(String(sides[1]), in: text)
        if from.port == nil && to.port != nil {
            throw ParseError(text: text, reason: "a bare host maps every port, so its target is a bare host too")
        }
        entries.append(Entry(fromHost: from.host, fromPort: from.port, toHost: to.host, toPort: to.port))
    }

    /// Where to dial `address`: mapped, or as it is.
    public func dialled(_ address: ServerAddress) -> ServerAddress {
        let exact = entries.first { $0.fromPort == address.port && Self.sameHost($0.fromHost, address.host) }
        guard let entry = exact ?? entries.first(where: { $0.fromPort == nil && Self.sameHost($0.fromHost, address.host) }) else {
            return address
        }
        return ServerAddress(host: entry.toHost, port: entry.toPort ?? address.port)
    }

    /// Whether an entry covers `address` (a failover to a node no entry covers needs one more).
    public func covers(_ address: ServerAddress) -> Bool {
        entries.contains { ($0.fromPort == nil || $0.fromPort == address.port) && Self.sameHost($0.fromHost, address.host) }
    }

    public var description: String { entries.map(\.description).joined(separator: ", ") }

    /// `host:port`, `[v6]:port`, a host, or `[v6]`; an IPv6 address needs its brackets.
    private static func side(_ text: String, in whole: String) throws(ParseError) -> (host: String, port: Int?) {
        if let address = ServerAddress(text) { return (address.host, address.port) }
        let bracketed = text.hasPrefix("[") && text.hasSuffix("]")
        let host = bracketed ? String(text.dropFirst().dropLast()) : text
        let fits = !host.isEmpty && !host.contains { " ,[]".contains($0) } && (bracketed || !host.contains(":"))
        guard fits else { throw ParseError(text: whole, reason: "'\(text)' is not host:port, [v6]:port or a host") }
        return (host, nil)
    }

    /// Host names compare case-insensitively; addresses as written.
    private static func sameHost(_ a: String, _ b: String) -> Bool { a.lowercased() == b.lowercased() }
}

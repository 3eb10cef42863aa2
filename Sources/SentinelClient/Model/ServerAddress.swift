import RESP

/// Host and port of a Redis server or sentinel.
public struct ServerAddress: Hashable, Sendable, CustomStringConvertible, Comparable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, `[v6]:port`, or a bare host (with `defaultPort`).
    public init?(_ text: String, defaultPort: Int? = nil) {
        var host = Substring(text)
        var portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if rest.hasPrefix(":") { portText = rest.dropFirst() } else if !rest.isEmpty { return nil }
        } else if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard !host.isEmpty else { return nil }
        guard let port = portText.map({ Int($0) }) ?? defaultPort, (1...65535).contains(port) else {
            return nil
        }
        self.host = String(host)
        self.port = port
    }

    /// A host name a sentinel sent is printed with its control characters escaped.
    public var description: String {
        let host = Printable.escaped(host)
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    public static func < (a: ServerAddress, b: ServerAddress) -> Bool { (a.host, a.port) < (b.host, b.port) }
}

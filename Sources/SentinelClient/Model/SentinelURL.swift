import RESP

/// A Sentinel connection URL, as Lettuce and redis-py spell it:
/// `redis+sentinel://[user[:password]@]host[:port][,host[:port]...]/master-name[/db]`
/// with query parameters `sentinel_user` and `sentinel_pass` for the sentinels' own
/// credentials, and `natmap=FROM=TO` (repeatable) for the address map. User, password,
/// master name and query values may be percent-encoded.
/// `rediss+sentinel://` asks for TLS to sentinels and data nodes.
public struct SentinelURL: Sendable, Hashable {
    public var sentinels: [ServerAddress]
    public var masterName: String
    public var database: Int?
    /// The data nodes' credentials (the userinfo part).
    public var dataCredentials: Credentials?
    /// The sentinels' credentials (`sentinel_user`, `sentinel_pass`).
    public var sentinelCredentials: Credentials?
    /// `natmap=FROM=TO` entries, in order, for `SentinelClientConfiguration.addressMap`.
    public var addressMap = AddressMap()
    public var tls: Bool

    public static let defaultSentinelPort = 26379

    /// Whether `text` is meant as a URL (its scheme is one of ours).
    public static func looksLikeURL(_ text: String) -> Bool {
        text.hasPrefix("redis+sentinel://") || text.hasPrefix("rediss+sentinel://")
    }

    /// Whether `text` is a URL of another kind (`redis://`, `rediss://`, `redis-sentinel://`, ...).
    public static func hasOtherScheme(_ text: String) -> Bool {
        !looksLikeURL(text) && rewrittenFromOtherScheme(text) != nil
    }

    /// The schemes of other Redis URLs, and the Sentinel scheme each is written in here.
    private static let sentinelSchemes = [
        "redis": "redis+sentinel", "rediss": "rediss+sentinel", "redis-sentinel": "redis+sentinel",
        "rediss-sentinel": "rediss+sentinel", "sentinel": "redis+sentinel", "valkey": "redis+sentinel",
        "valkeys": "rediss+sentinel",
    ]

    /// A URL of another scheme written as a Sentinel URL: the password hidden, and a
    /// database number (`redis://host/0`) behind a place for the master name.
    static func rewrittenFromOtherScheme(_ text: String) -> (scheme: String, rewritten: String)? {
        guard let separator = text.firstRange(of: "://") else { return nil }
        let scheme = text[..<separator.lowerBound].lowercased()
        guard let sentinelScheme = sentinelSchemes[scheme] else { return nil }
        var rest = Substring(text[separator.upperBound...])
        var userinfo = ""
        // As `init` reads it: the userinfo ends at the last '@' before the query (a raw
        // '/' in the password stays in it, and is hidden with it).
        let queryMark = rest.firstIndex(of: "?") ?? rest.endIndex
        if let at = rest[..<queryMark].lastIndex(of: "@") {
            let user = rest[..<at].split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            userinfo = "\(user):***@"
            rest = rest[rest.index(after: at)...]
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        let path = rest[slash...].dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        let first = path.first ?? ""
        let masterAndDatabase: String
        if first.isEmpty {
            masterAndDatabase = "MASTER-NAME"
        } else if first.allSatisfy({ $0.isNumber }) {
            masterAndDatabase = "MASTER-NAME/\(first)"
        } else {
            masterAndDatabase = path.joined(separator: "/")
        }
        let rewritten = "\(sentinelScheme)://\(userinfo)\(authority)/\(masterAndDatabase)"
        return (scheme, Printable.escaped(rewritten))
    }

    /// Parses `text`; the error says which part is wrong and never repeats the password.
    public init(_ text: String) throws(SentinelURLError) {
        // No part of the text is repeated in an error before the userinfo is cut off.
        if text.hasPrefix("redis+sentinel://") {
            tls = false
        } else if text.hasPrefix("rediss+sentinel://") {
            tls = true
        } else if let other = Self.rewrittenFromOtherScheme(text) {
            throw .init(otherScheme: other.scheme, rewritten: other.rewritten)
        } else {
            throw .init("it does not start with redis+sentinel:// or rediss+sentinel://")
        }
        var rest = text[text.index(text.firstIndex(of: ":")!, offsetBy: 3)...]
        var query: Substring = ""
        // The userinfo ends at the last '@' before the query: a raw '/', ':' or '@' in the
        // password stays in it. (A master name with '@' is percent-encoded.)
        let queryMark = rest.firstIndex(of: "?") ?? rest.endIndex
        if let at = rest[..<queryMark].lastIndex(of: "@") {
            dataCredentials = try Self.credentials(rest[..<at])
            rest = rest[rest.index(after: at)...]
        }
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard let slash = rest.firstIndex(of: "/") else { throw .init("it names no master (.../master-name)") }
        let path = rest[rest.index(after: slash)...].split(separator: "/", omittingEmptySubsequences: false)
        sentinels = try Self.hosts(rest[..<slash])
        guard let name = path.first, !name.isEmpty else { throw .init("it names no master (.../master-name)") }
        masterName = try Self.decoded(name, part: "the master name")
        switch path.count {
        case 1: database = nil
        case 2 where path[1].isEmpty: database = nil
        case 2:
            guard let db = Int(path[1]), db >= 0 else { throw .init("database \(Self.shown(path[1])) is not a number from 0") }
            database = db
        default: throw .init("its path has more than /master-name/db")
        }
        (sentinelCredentials, addressMap) = try Self.queryParameters(query)
    }

    private static func credentials(_ userinfo: Substring) throws(SentinelURLError) -> Credentials? {
        guard let colon = userinfo.firstIndex(of: ":") else {
            // `user@`: a user with no password is refused rather than guessed at.
            guard !userinfo.isEmpty else { return nil }
            throw .init("its user has no password (user:password@, or :password@ for the default user)")
        }
        let user = try decoded(userinfo[..<colon], part: "the user")
        let password = try decoded(userinfo[userinfo.index(after: colon)...], part: "the password")
        return Credentials(user: user.isEmpty ? nil : user, password: password)
    }

    private static func hosts(_ authority: Substring) throws(SentinelURLError) -> [ServerAddress] {
        guard !authority.isEmpty else { throw .init("it names no sentinel (host[:port] after ://)") }
        var addresses: [ServerAddress] = []
        for host in authority.split(separator: ",", omittingEmptySubsequences: false) {
            guard let address = ServerAddress(String(host), defaultPort: defaultSentinelPort) else {
                throw .init("\(shown(host)) is not a sentinel address (host[:port], port 1 to 65535)")
            }
            addresses.append(address)
        }
        return addresses
    }

    private static func queryParameters(_ query: Substring) throws(SentinelURLError) -> (Credentials?, AddressMap) {
        var user: String?
        var password: String?
        var map = AddressMap()
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = parts.count == 2 ? parts[1] : ""
            switch parts[0] {
            case "sentinel_user": user = try decoded(value, part: "sentinel_user")
            case "sentinel_pass", "sentinel_password": password = try decoded(value, part: "sentinel_pass")
            case "natmap":
                let entry = try decoded(value, part: "natmap")
                do throws(AddressMap.ParseError) { try map.add(entry) } catch { throw .init(error.description) }
            // The key is not repeated: a raw '&' in a password would put its tail here.
            default: throw .init("its query has a parameter other than sentinel_user, sentinel_pass and natmap (a raw '&' in a value must be %26)")
            }
        }
        if user != nil && password == nil { throw .init("sentinel_user has no sentinel_pass") }
        return (password.map { Credentials(user: user, password: $0) }, map)
    }

    /// `text` in single quotes with its control and format characters escaped (`\u{1B}`),
    /// so an error cannot move the cursor, recolour a terminal or forge a log line.
    static func shown(_ text: Substring) -> String {
        "'" + Printable.escaped(text) + "'"
    }

    /// Percent-decoding as UTF-8; the part is named, its text is not repeated.
    static func decoded(_ text: Substring, part: String) throws(SentinelURLError) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(HexDigit.value), let low = iterator.next().flatMap(HexDigit.value) else {
                throw .init("\(part) has a '%' not followed by two hex digits")
            }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else { throw .init("\(part) is not UTF-8 once decoded") }
        return decoded
    }
}

extension SentinelClientConfiguration {
    /// The sentinels, master name, database and credentials of `url`; for
    /// `rediss+sentinel://`, TLS to sentinels and data nodes with the system's trust roots
    /// (set `tls` and `sentinelTLS` afterwards for other roots or a client certificate).
    public init(url: SentinelURL) throws(SentinelURLError) {
        self.init(sentinels: url.sentinels, masterName: url.masterName)
        if url.tls {
            do {
                tls = try .enable(.makeClientConfiguration())
                sentinelTLS = tls
            } catch {
                throw .init(unsupported: "rediss+sentinel:// asks for TLS, which could not be set up: \(error)")
            }
        }
        database = url.database ?? 0
        dataCredentials = url.dataCredentials
        sentinelCredentials = url.sentinelCredentials
        addressMap = url.addressMap
    }
}

/// What `INFO server` says a server is: Redis or Valkey, its version, its mode.
struct ServerIdentity: Sendable, Equatable {
    var product: String
    var version: String?
    var mode: String?

    init(info: String) {
        let fields = InfoText.fields(info)
        // Valkey 8 and later say `server_name:valkey` and `valkey_version`; Redis says neither.
        let valkey = fields["server_name"] == "valkey" || fields["valkey_version"] != nil
        product = valkey ? "Valkey" : "Redis"
        version = fields["valkey_version"] ?? fields["redis_version"]
        mode = fields["redis_mode"] ?? fields["server_mode"]
    }

    /// Valkey 9 and later take `SENTINEL FAILOVER <name> COORDINATED`.
    var supportsCoordinatedFailover: Bool {
        product == "Valkey" && (version?.split(separator: ".").first.flatMap { Int($0) } ?? 0) >= 9
    }

    /// `Redis 7.0.15`, `Valkey 9.1.2`.
    var name: String { [product, version].compactMap { $0 }.joined(separator: " ") }

    /// Why a sentinel address that is this server cannot serve as one.
    var failureAsSentinel: FailureReason {
        mode == "cluster" ? .clusterNode(server: name) : .notASentinel(server: name)
    }

    /// What the first bytes of a reply that is not RESP suggest the service is.
    static func describeNonRESP(firstByte: UInt8?) -> String {
        guard let byte = firstByte else { return "it answered with something that is not RESP" }
        let shown = (32..<127).contains(byte) ? "'\(Character(UnicodeScalar(byte)))', 0x\(String(byte, radix: 16))" : "0x\(String(byte, radix: 16))"
        switch byte {
        case UInt8(ascii: "H"): return "its reply began with \(shown): an HTTP server?"
        case UInt8(ascii: "S"): return "its reply began with \(shown): an SSH server?"
        case 0x15, 0x16: return "its reply began with \(shown): a TLS server?"
        default: return "its reply began with \(shown)"
        }
    }
}

import NIOCore

/// Everything the client needs to find and talk to the master of one Sentinel-managed set.
public struct SentinelClientConfiguration: Sendable {
    /// Sentinels to ask, in order. The one that answers moves to the front.
    public var sentinels: [ServerAddress]
    public var masterName: String
    /// Credentials for the master and replicas (`AUTH` / `HELLO ... AUTH`).
    public var dataCredentials: Credentials?
    /// Credentials for the sentinels, which may differ from the data nodes'.
    public var sentinelCredentials: Credentials?
    public var database: Int = 0
    /// TLS to the master and replicas (`.disable` by default).
    public var tls: TLS = .disable
    /// Where to dial the addresses Sentinel names (`--natmap`): the master, the replicas
    /// and learned sentinels. The sentinels in `sentinels` are dialled as given, and TLS
    /// checks the name Sentinel announced, not the one dialled.
    public var addressMap = AddressMap()
    /// TLS to the sentinels, which may differ from the data nodes' (`.disable` by default).
    public var sentinelTLS: TLS = .disable
    /// RESP3 is negotiated with `HELLO 3`, falling back to RESP2 when refused.
    public var protocolVersion: RESPProtocolVersion = .resp2
    /// `CLIENT SETNAME` on every connection, data nodes and sentinels (none by default).
    public var clientName: String?
    /// One try at one sentinel (connect, ask, verify) must finish within this.
    public var sentinelTryTimeout: TimeAmount = .seconds(1)
    public var connectTimeout: TimeAmount = .seconds(2)
    /// No reply progress for this long fails a data connection's pending commands (in
    /// doubt). Nil, the default: a command waits as long as its master lives and is the
    /// master, as redis-cli waits: a slow script or `DEBUG SLEEP` is not a failure. A
    /// dead master is seen from its connection closing; a hung one from Sentinel, whose
    /// failover closes every connection to it.
    public var commandTimeout: TimeAmount?
    /// Delay before asking the next sentinel when the address named was not a master.
    public var roleMismatchDelay: TimeAmount = .milliseconds(250)
    public var poolSize: Int = 4
    /// How long a command waits for a master during a failover before it fails (not sent).
    public var masterWaitTimeout: TimeAmount = .seconds(15)
    /// How many sentinels carry a subscription to Sentinel's events, configured and
    /// learned ones. Only the leader of a failover publishes its steps (`+selected-slave`,
    /// `+promoted-slave`), so the default watches every sentinel of a usual set.
    public var watchedSentinels: Int = 8
    /// Follow a failover from the replica Sentinel selects: hold new commands (nothing
    /// more goes to the old master, whose writes are discarded once the replica is
    /// promoted) and switch to the replica as soon as ROLE on it says master, ahead of
    /// `+switch-master`. False: switch only when the sentinels name the new master.
    public var followPromotions: Bool = true
    /// How long commands are held for the selected replica to report master before they
    /// go to the old master again (Sentinel aborts such a failover too).
    public var promotionWaitTimeout: TimeAmount = .seconds(5)
    /// How often ROLE is asked of the selected replica while commands are held.
    public var promotionPollInterval: TimeAmount = .milliseconds(2)
    /// After an early switch, how long the promoted master is kept while the sentinels
    /// still name the old one (they do until the failover's reconfiguration ends).
    public var earlySwitchGrace: TimeAmount = .seconds(60)
    /// Reconcile with Sentinel this often even without events (pub/sub messages can be lost).
    public var reconcileInterval: TimeAmount = .seconds(5)
    /// While no master is reachable, look again this often.
    public var unreachableRetryInterval: TimeAmount = .milliseconds(300)
    /// Whether to follow failovers with watchers and periodic reconciles.
    public var followFailovers: Bool = true

    public init(sentinels: [ServerAddress], masterName: String) {
        self.sentinels = sentinels
        self.masterName = masterName
    }

    var dataHandshake: HandshakeSettings {
        HandshakeSettings(
            credentials: dataCredentials, clientName: clientName, database: database,
            protocolVersion: protocolVersion, tls: tls)
    }

    var sentinelHandshake: HandshakeSettings {
        HandshakeSettings(
            credentials: sentinelCredentials, clientName: clientName, database: 0, protocolVersion: .resp2, tls: sentinelTLS)
    }

    /// Where `address` is dialled: as the address map says, except the sentinels given,
    /// which are dialled as given.
    func dialTarget(for address: ServerAddress) -> ServerAddress {
        sentinels.contains(address) ? address : addressMap.dialled(address)
    }

    /// A failure to reach `address`, marked as needing an address-map entry when a map is
    /// set, no entry covers it and it is not a given sentinel. A server that answered
    /// (an error, a wrong role, a TLS failure) was reached, so it stays as it is.
    func failureReaching(_ address: ServerAddress, _ reason: FailureReason) -> FailureReason {
        guard !addressMap.isEmpty, !sentinels.contains(address), !addressMap.covers(address) else { return reason }
        switch reason {
        case .connectionRefused, .timedOut, .connectionLost, .other: return .notInAddressMap(address, reason)
        default: return reason
        }
    }
}

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
    /// TLS to the sentinels, which may differ from the data nodes' (`.disable` by default).
    public var sentinelTLS: TLS = .disable
    /// RESP3 is negotiated with `HELLO 3`, falling back to RESP2 when refused.
    public var protocolVersion: RESPProtocolVersion = .resp2
    /// `CLIENT SETNAME` on every connection, data nodes and sentinels (none by default).
    public var clientName: String?
    /// One try at one sentinel (connect, ask, verify) must finish within this.
    public var sentinelTryTimeout: TimeAmount = .milliseconds(500)
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
}

/// Where `SentinelClient.execute(_:readFrom:)` runs a command.
public enum ReadFrom: Sendable, Hashable {
    /// The master, as `execute(_:)` does.
    case master
    /// A healthy replica (Sentinel's flags, then ROLE); fails with `noHealthyReplica` when none is.
    case replica
    /// A healthy replica when there is one, else the master.
    case replicaPreferred
}

/// What the client learnt when it last verified the master.
public struct MasterInfo: Sendable, Hashable {
    public var name: String
    public var address: ServerAddress
    /// The sentinel whose answer was verified.
    public var answeredBy: ServerAddress
    /// `ROLE` as seen at verification: replication offset and connected replicas.
    public var replicationOffset: Int64
    public var connectedReplicas: [ServerAddress]
    /// When this address was first verified as master in this session (monotonic clock).
    public var knownSince: NIODeadline
    public var verifiedAt: NIODeadline
}

public struct SentinelInfo: Sendable, Hashable {
    public enum Origin: String, Sendable { case configured, learned }
    public var address: ServerAddress
    public var origin: Origin
    public var reachable: Bool?
    public var latencyMicroseconds: Int?
    /// The master address this sentinel named at its last answer.
    public var namedMaster: ServerAddress?
    public var subscribed: Bool
    public var lastError: String?
}

/// Topology changes, for a user interface to show as they happen.
public enum TopologyEvent: Sendable, Hashable {
    case masterSwitched(from: ServerAddress?, to: ServerAddress)
    /// No verified master now. When Sentinel's failover is followed at once, a master that
    /// died may be reported as `commandsHeld(candidate:replacing:)` and then `masterSwitched`
    /// instead: a switch ends the check that would have found it unreachable.
    case masterUnreachable(ServerAddress?, reason: String)
    case masterReachable(ServerAddress)
    /// A sentinel announced that a failover started (`+try-failover`, `+odown`).
    case failoverStarted(master: ServerAddress?, reportedBy: ServerAddress)
    case sentinelDown(ServerAddress)
    case sentinelUp(ServerAddress)
    case sentinelLearned(ServerAddress)
    /// A Sentinel event about the master, its replicas or its sentinels, as published
    /// (`+sdown`, `+odown`, `+selected-slave`, `+switch-master`, ...); once, however
    /// many sentinels publish it.
    case sentinelEvent(SentinelEvent)
    /// Sentinel selected `candidate` to replace the master: new commands wait until ROLE
    /// on it says master (then `masterSwitched`), or the failover is abandoned.
    case commandsHeld(candidate: ServerAddress, replacing: ServerAddress)
    /// The hold ended without a promotion: commands go to `master` again.
    case holdReleased(master: ServerAddress, reason: String)
    /// The old master's replication stream, as last seen, ran `bytes` past the point
    /// where the new master was promoted (`second_repl_offset`): writes the old master
    /// acknowledged after it are not on the new master.
    case replicationGap(from: ServerAddress, to: ServerAddress, bytes: Int64)
    /// After an early switch to `early`, the sentinels named `named` instead (or `early`
    /// stopped being a master): writes sent to `early` since the switch may be lost.
    case earlySwitchOverruled(early: ServerAddress, named: ServerAddress?)
    /// The sentinels' stand on the master in use changed (from the periodic probe of all).
    case agreementChanged(SentinelAgreement)
}

/// How the known sentinels stand on the master in use, from the last probe of them all
/// (every `reconcileInterval`): a hung sentinel shows here, not on its quiet watcher link.
public struct SentinelAgreement: Sendable, Hashable, CustomStringConvertible {
    public var known: Int
    /// Sentinels that answered and named the master in use.
    public var agreeing: Int
    /// Sentinels that did not answer within `sentinelTryTimeout`.
    public var unreachable: [ServerAddress]
    /// Sentinels that answered naming another master, or none.
    public var dissenting: [ServerAddress]

    public var isFull: Bool { agreeing == known }
    /// More than half of the known sentinels answer: a failover can still be authorized.
    public var majorityAnswers: Bool { (known - unreachable.count) * 2 > known }

    /// `3/3 sentinels agree`, `2/3 sentinels agree, 1 unreachable`, ...
    public var description: String {
        var parts = ["\(agreeing)/\(known) sentinels agree"]
        if !unreachable.isEmpty { parts.append("\(unreachable.count) unreachable") }
        if !dissenting.isEmpty { parts.append("\(dissenting.count) name another master") }
        if !majorityAnswers { parts.append("no majority answers") }
        return parts.joined(separator: ", ")
    }
}

/// One Sentinel pub/sub event, as a sentinel published it.
public struct SentinelEvent: Sendable, Hashable, CustomStringConvertible {
    /// The channel: `+sdown`, `+switch-master`, ...
    public var channel: String
    /// The message: `master mymaster 10.0.0.1 6379 #quorum 2/2`, ...
    public var payload: String
    /// The sentinel it was heard from first.
    public var reportedBy: ServerAddress

    /// Escaped for printing (`Printable`): the payload is a sentinel's text.
    public var description: String { Printable.escaped("\(channel) \(payload)") }
}

/// One sentinel as asked just now.
public struct SentinelProbe: Sendable, Hashable {
    public var address: ServerAddress
    public var origin: SentinelInfo.Origin
    public var subscribed: Bool
    public var reachable = false
    public var latencyMicroseconds: Int?
    public var namedMaster: ServerAddress?
    public var error: String?
}

/// One replica as Sentinel lists it, and what ROLE says on it.
public struct ReplicaProbe: Sendable, Hashable {
    public var address: ServerAddress
    public var flags: String
    public var offset: Int64?
    /// ROLE on the replica: `replica of host:port, state connected, offset N`, or why it failed.
    public var role: String = ""
}

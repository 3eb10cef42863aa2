import NIOCore
import RESP
@testable import SentinelClient
import Testing

@testable import REPL

/// The prompt and the notices, built from values: no terminal, no client.
@Suite struct SessionPresentationTests {
    let presentation = SessionPresentation(masterName: "mymaster")
    let master = ServerAddress(host: "127.0.0.1", port: 6379)
    let other = ServerAddress(host: "127.0.0.1", port: 6380)

    func topology(reachable: Bool = true, agreement: SentinelAgreement? = nil) -> TopologySnapshot {
        let now = NIODeadline.now()
        let info = MasterInfo(
            name: "mymaster", address: master, answeredBy: other, replicationOffset: 0, connectedReplicas: [],
            knownSince: now, verifiedAt: now)
        return TopologySnapshot(master: info, isMasterReachable: reachable, sentinelAgreement: agreement, failoversFollowed: 0)
    }

    func connection(database: Int = 0, transaction: Bool = false) -> ConnectionState {
        var state = ConnectionState(database: 0)
        if database != 0 { state.track(RESPCommand("SELECT", "\(database)"), .simpleString(ByteBuffer(string: "OK"))) }
        if transaction { state.track(RESPCommand("MULTI"), .simpleString(ByteBuffer(string: "OK"))) }
        return state
    }

    @Test func thePromptNamesTheMasterItsDatabaseTransactionAndTroubles() {
        let plain = presentation.prompt(topology: topology(), connection: connection(), target: .master, replica: nil, failoverUnderWay: false)
        #expect(plain == "mymaster@127.0.0.1:6379> ")
        let busy = presentation.prompt(
            topology: topology(agreement: SentinelAgreement(known: 3, agreeing: 2, unreachable: [other], dissenting: [])),
            connection: connection(database: 2, transaction: true), target: .master, replica: nil, failoverUnderWay: true)
        #expect(busy == "mymaster@127.0.0.1:6379[2](TX) (failover) (2/3 sentinels)> ")
        let disagree = presentation.prompt(
            topology: topology(agreement: SentinelAgreement(known: 3, agreeing: 2, unreachable: [], dissenting: [other])),
            connection: connection(), target: .master, replica: nil, failoverUnderWay: false)
        #expect(disagree == "mymaster@127.0.0.1:6379 (sentinels disagree)> ")
        let lost = presentation.prompt(topology: topology(reachable: false), connection: connection(), target: .master, replica: nil, failoverUnderWay: false)
        #expect(lost == "mymaster@(no master)> ")
    }

    @Test func aReplicaSessionsPromptNamesItsReplica() {
        let on = presentation.prompt(topology: topology(), connection: connection(database: 1), target: .replica, replica: other, failoverUnderWay: false)
        #expect(on == "mymaster@127.0.0.1:6380[1] (replica)> ")
        let none = presentation.prompt(topology: topology(), connection: connection(), target: .replica, replica: nil, failoverUnderWay: false)
        #expect(none == "mymaster@(no replica)> ")
    }

    @Test func noticesSayWhatHappenedAndSentinelsOwnEventsOnlyWhenShown() {
        #expect(presentation.notice(for: .masterSwitched(from: master, to: other), eventsShown: false)
            == "-- failover: master of mymaster moved from 127.0.0.1:6379 to 127.0.0.1:6380")
        #expect(presentation.notice(for: .masterSwitched(from: nil, to: other), eventsShown: true) == nil, "the first master is no news")
        let event = SentinelEvent(channel: "+sdown", payload: "master mymaster 127.0.0.1 6379", reportedBy: other)
        #expect(presentation.notice(for: .sentinelEvent(event), eventsShown: false) == nil)
        #expect(presentation.notice(for: .sentinelEvent(event), eventsShown: true) == "-- \(event)")
        #expect(SessionPresentation.replicaAddress(inEventPayload: "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379") == other)
        #expect(SessionPresentation.twoDecimals(0.07) == "0.07")
        #expect(SessionPresentation.twoDecimals(12.3) == "12.30")
    }
}

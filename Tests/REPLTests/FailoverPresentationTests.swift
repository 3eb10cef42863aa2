import NIOCore
import SentinelClient
import Testing

@testable import REPL

@Suite struct FailoverPresentationTests {
    let master = ServerAddress(host: "127.0.0.1", port: 6379)
    let replica = ServerAddress(host: "127.0.0.1", port: 6380)

    @Test func thePlanNamesTheMasterEachReplicaWithItsLagTheQuorumAndTheMethod() {
        let plan = FailoverPlan(
            masterName: "mymaster", master: master, server: "Redis 7.0.15", masterOffset: 1200,
            replicas: [
                .init(address: replica, flags: "slave", lagBytes: 0, healthy: true),
                .init(address: ServerAddress(host: "127.0.0.1", port: 6381), flags: "slave,s_down", lagBytes: nil, healthy: false),
            ],
            quorum: QuorumVerdict(sentinel: ServerAddress(host: "127.0.0.1", port: 26379), reached: true, message: "OK 3 usable Sentinels"),
            method: .writePause)
        let text = FailoverPresentation.plan(plan)
        #expect(text.hasPrefix("failover of mymaster (Redis 7.0.15)\nmaster      127.0.0.1:6379, offset 1200\n"))
        #expect(text.contains("replica     127.0.0.1:6380, 0 bytes behind\n"))
        #expect(text.contains("replica     127.0.0.1:6381, lag unknown (not eligible: slave,s_down)\n"))
        #expect(text.contains("quorum      OK 3 usable Sentinels (asked 127.0.0.1:26379)\n"))
        #expect(text.contains("method      CLIENT PAUSE WRITE"))
    }

    @Test func theSummarySaysHowLongWritesWereHeldAndWhetherTheOffsetsMatched() {
        var outcome = FailoverOutcome(
            oldMaster: master, newMaster: replica, method: .writePause, writesHeld: .milliseconds(212),
            masterOffset: 1200, promotedOffset: 1200, total: .milliseconds(1530))
        #expect(
            FailoverPresentation.summary(outcome)
                == "-- failover done: 127.0.0.1:6379 -> 127.0.0.1:6380 in 1.53 s; writes held 212 ms; offsets matched (master 1200, promoted replica 1200)\n")
        outcome.promotedOffset = 1100
        #expect(FailoverPresentation.summary(outcome).contains("OFFSETS DIFFER"))
        #expect(FailoverRunner.confirmed(" Yes ") && FailoverRunner.confirmed("y") && !FailoverRunner.confirmed("") && !FailoverRunner.confirmed(nil))
    }
}

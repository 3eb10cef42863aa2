import Testing

@testable import REPL
@testable import SentinelClient

/// A failover's steps as an operator reads them: one plain line each, once, whatever
/// the sentinels repeat; the raw messages on request.
@Suite struct FailoverNarratorTests {
    let old = ServerAddress(host: "127.0.0.1", port: 6379)
    let new = ServerAddress(host: "127.0.0.1", port: 6380)
    let sentinel = ServerAddress(host: "127.0.0.1", port: 26379)
    let other = ServerAddress(host: "127.0.0.1", port: 26380)

    func event(_ channel: String, _ payload: String, from: ServerAddress? = nil) -> TopologyEvent {
        .sentinelEvent(SentinelEvent(channel: channel, payload: payload, reportedBy: from ?? sentinel))
    }

    /// What Redis 7 publishes for `SENTINEL FAILOVER`, as a session hears it, with the
    /// client's own events between.
    var manualFailover: [TopologyEvent] {
        let slave = "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379"
        let oldAsSlave = "slave 127.0.0.1:6379 127.0.0.1 6379 @ mymaster 127.0.0.1 6380"
        return [
            event("+new-epoch", "1"),
            event("+try-failover", "master mymaster 127.0.0.1 6379"),
            .failoverStarted(master: old, reportedBy: sentinel),
            event("+elected-leader", "master mymaster 127.0.0.1 6379"),
            event("+failover-state-select-slave", "master mymaster 127.0.0.1 6379"),
            event("+selected-slave", slave),
            .commandsHeld(candidate: new, replacing: old),
            event("+failover-state-send-slaveof-noone", slave),
            event("-role-change", slave + " new reported role is master"),
            event("+promoted-slave", slave),
            .masterSwitched(from: old, to: new),
            event("+switch-master", "mymaster 127.0.0.1 6379 127.0.0.1 6380"),
            event("+slave", "slave 127.0.0.1:6381 127.0.0.1 6381 @ mymaster 127.0.0.1 6380"),
            event("-role-change", oldAsSlave + " new reported role is master"),
            event("+failover-end", "master mymaster 127.0.0.1 6379"),
            event("+convert-to-slave", oldAsSlave),
            event("+role-change", oldAsSlave + " new reported role is slave"),
            event("+role-change", oldAsSlave + " new reported role is slave", from: other),
        ]
    }

    @Test func aManualFailoverIsOneLinePerStepEachOnce() {
        var narrator = FailoverNarrator(style: .plain, presentation: SessionPresentation(masterName: "mymaster"))
        let lines = manualFailover.flatMap { narrator.notices(for: $0) }
        #expect(
            lines == [
                "-- failover of mymaster started: Sentinel replaces 127.0.0.1:6379",
                "-- Sentinel chose replica 127.0.0.1:6380 to replace 127.0.0.1:6379",
                "-- replica 127.0.0.1:6380 is promoted to master",
                "-- failover: master of mymaster moved from 127.0.0.1:6379 to 127.0.0.1:6380",
                "-- the old master 127.0.0.1:6379 is back, as a replica of 127.0.0.1:6380",
            ])
    }

    /// The client switches when ROLE on the chosen replica says master, before Sentinel's
    /// `+promoted-slave`: the promotion is told first, once.
    @Test func anEarlySwitchTellsThePromotionFirst() {
        var narrator = FailoverNarrator(style: .plain, presentation: SessionPresentation(masterName: "mymaster"))
        var events = manualFailover
        let promoted = events.remove(at: 9)
        events.insert(promoted, at: 10)
        let lines = events.flatMap { narrator.notices(for: $0) }
        #expect(lines.filter { $0 == "-- replica 127.0.0.1:6380 is promoted to master" }.count == 1)
        #expect(lines.firstIndex { $0.contains("is promoted") }! < lines.firstIndex { $0.contains("moved from") }!)
    }

    @Test func aKilledMasterIsSuspectedThenDownAndTheNextFailoverIsToldAgain() {
        var narrator = FailoverNarrator(style: .plain, presentation: SessionPresentation(masterName: "mymaster"))
        let down = [
            event("+sdown", "master mymaster 127.0.0.1 6379"),
            event("+sdown", "master mymaster 127.0.0.1 6379", from: other),
            event("+odown", "master mymaster 127.0.0.1 6379 #quorum 2/2"),
        ]
        #expect(
            (down + manualFailover).flatMap { narrator.notices(for: $0) }.prefix(3) == [
                "-- sentinel 127.0.0.1:26379 cannot reach master 127.0.0.1:6379",
                "-- master 127.0.0.1:6379 is down: the sentinels agree",
                "-- failover of mymaster started: Sentinel replaces 127.0.0.1:6379",
            ])
        let back = narrator.notices(for: event("+try-failover", "master mymaster 127.0.0.1 6380"))
        #expect(back == ["-- failover of mymaster started: Sentinel replaces 127.0.0.1:6380"], "a new failover after the switch")
    }

    /// A blip or an aborted failover ends the episode: the next trouble is told again.
    @Test func aBlipOrAnAbortedFailoverIsToldAndTheNextOneToo() {
        var narrator = FailoverNarrator(style: .plain, presentation: SessionPresentation(masterName: "mymaster"))
        let sdown = event("+sdown", "master mymaster 127.0.0.1 6379")
        #expect(narrator.notices(for: sdown) == ["-- sentinel 127.0.0.1:26379 cannot reach master 127.0.0.1:6379"])
        #expect(narrator.notices(for: event("-sdown", "master mymaster 127.0.0.1 6379")) == ["-- master 127.0.0.1:6379 answers again"])
        #expect(narrator.notices(for: sdown).count == 1, "the next blip is told again")
        #expect(narrator.notices(for: event("+try-failover", "master mymaster 127.0.0.1 6379")).count == 1)
        #expect(
            narrator.notices(for: event("-failover-abort-no-good-slave", "master mymaster 127.0.0.1 6379"))
                == ["-- Sentinel gave up this failover of mymaster: no replica is fit to promote"])
        #expect(narrator.notices(for: event("+try-failover", "master mymaster 127.0.0.1 6379")).count == 1, "the retry is told")
        #expect(narrator.notices(for: .holdReleased(master: old, reason: "the replica did not report master")).count == 1)
        #expect(narrator.notices(for: .commandsHeld(candidate: new, replacing: old)).count == 1, "chosen again after the release")
    }

    /// Each switch is told once, and a second one with no event before it (overruled,
    /// or events missed) is told too.
    @Test func eachSwitchIsToldOnce() {
        var narrator = FailoverNarrator(style: .plain, presentation: SessionPresentation(masterName: "mymaster"))
        let third = ServerAddress(host: "127.0.0.1", port: 6381)
        #expect(narrator.notices(for: .masterSwitched(from: old, to: new)).count == 2, "promoted, then switched")
        #expect(narrator.notices(for: .masterSwitched(from: old, to: new)).isEmpty)
        #expect(
            narrator.notices(for: .masterSwitched(from: new, to: third)).last
                == "-- failover: master of mymaster moved from 127.0.0.1:6380 to 127.0.0.1:6381")
    }

    @Test func rawShowsSentinelsMessagesAndOffOnlyWhatTheSessionMustSay() {
        var raw = FailoverNarrator(style: .raw, presentation: SessionPresentation(masterName: "mymaster"))
        let rawLines = manualFailover.flatMap { raw.notices(for: $0) }
        #expect(rawLines.contains("-- +elected-leader master mymaster 127.0.0.1 6379"))
        #expect(rawLines.filter { $0.hasPrefix("-- +role-change ") }.count == 2, "as published")
        var off = FailoverNarrator(style: .off, presentation: SessionPresentation(masterName: "mymaster"))
        let offLines = manualFailover.flatMap { off.notices(for: $0) }
        #expect(offLines.contains("-- failover: master of mymaster moved from 127.0.0.1:6379 to 127.0.0.1:6380"))
        #expect(!offLines.contains { $0.contains("+") })
        #expect(
            offLines.filter { !$0.hasPrefix("-- failover: master of mymaster moved") }.allSatisfy {
                $0.contains("reports a failover") || $0.contains("commands wait")
            }, "off: the session's own notices only: \(offLines)")
    }

    @Test func replicasAndTiltReadPlainlyAndUnknownMessagesStayOut() {
        var narrator = FailoverNarrator(style: .plain, presentation: SessionPresentation(masterName: "mymaster"))
        let replica = "slave 127.0.0.1:6381 127.0.0.1 6381 @ mymaster 127.0.0.1 6379"
        #expect(narrator.notices(for: event("+sdown", replica)) == ["-- replica 127.0.0.1:6381 is down"])
        #expect(narrator.notices(for: event("+sdown", replica, from: other)).isEmpty, "once")
        #expect(narrator.notices(for: event("-sdown", replica)) == ["-- replica 127.0.0.1:6381 answers again"])
        #expect(narrator.notices(for: event("-sdown", replica)).isEmpty, "once")
        #expect(narrator.notices(for: event("-sdown", "master mymaster 127.0.0.1 6379")).isEmpty, "never told down (Valkey)")
        #expect(narrator.notices(for: event("+tilt", "#tilt mode entered")).first?.contains("TILT") == true)
        #expect(narrator.notices(for: event("+config-update-from", "sentinel x 127.0.0.1 26380 @ mymaster 127.0.0.1 6379")).isEmpty)
    }
}

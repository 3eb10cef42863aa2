import NIOCore
import SentinelClient
import Testing

@testable import REPL

@Suite struct FailoverReportTests {
    let a = ServerAddress(host: "127.0.0.1", port: 6379)
    let b = ServerAddress(host: "127.0.0.1", port: 6380)
    let c = ServerAddress(host: "127.0.0.1", port: 6381)
    let t0 = NIODeadline.uptimeNanoseconds(5_000_000_000)

    @Test func fromTheFirstTroubleToTheFirstSuccessAfterTheSwitch() {
        var report = FailoverReport()
        report.trouble(at: t0)
        report.commandFailed(inDoubt: true, at: t0 + .milliseconds(100))
        report.commandFailed(inDoubt: false, at: t0 + .milliseconds(200))
        let early = report.commandSucceeded(at: t0 + .milliseconds(300))
        #expect(early == nil, "no failover yet: no summary")
        report.masterMoved(from: a, to: b, at: t0 + .seconds(5))
        let summary = report.commandSucceeded(at: t0 + .milliseconds(5_420))
        #expect(summary == "-- failover summary: 127.0.0.1:6379 -> 127.0.0.1:6380, 5.42 s from the first sign of trouble to the first reply from the new master, 1 command(s) in doubt")
        let again = report.commandSucceeded(at: t0 + .seconds(6))
        #expect(again == nil, "once")
    }

    @Test func twoSwitchesBeforeASuccessAreOneOutage() {
        var report = FailoverReport()
        report.masterMoved(from: a, to: b, at: t0)
        report.masterMoved(from: b, to: c, at: t0 + .seconds(1))
        let summary = report.commandSucceeded(at: t0 + .seconds(2))
        #expect(summary?.hasPrefix("-- failover summary: 127.0.0.1:6379 -> 127.0.0.1:6381, 2.00 s") == true, "\(String(describing: summary))")
    }

    @Test func staleTroubleIsForgotten() {
        var report = FailoverReport()
        report.trouble(at: t0)
        report.trouble(at: t0 + .seconds(600))
        report.masterMoved(from: a, to: b, at: t0 + .seconds(601))
        let summary = report.commandSucceeded(at: t0 + .seconds(602))
        #expect(summary?.contains(" 2.00 s ") == true, "measured from the fresh trouble: \(String(describing: summary))")
    }

    @Test func anIdleSwitchEndsTheOutageAtTheSwitchAndLostBytesAreTold() {
        var report = FailoverReport()
        report.trouble(at: t0)
        report.writesLost(bytes: 42)
        report.masterMoved(from: a, to: b, at: t0 + .milliseconds(250), commandsWaiting: false)
        let summary = report.idleSwitchSummary()
        #expect(summary == "-- failover summary: 127.0.0.1:6379 -> 127.0.0.1:6380, 0.25 s from the first sign of trouble to the switch (no command was waiting), 0 command(s) in doubt, 42 bytes of acknowledged writes lost")
        #expect(report.commandSucceeded(at: t0 + .seconds(30)) == nil, "told once, at the switch")
        #expect(report.idleSwitchSummary() == nil)
    }
}

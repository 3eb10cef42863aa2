import Synchronization
import Testing

@testable import REPL

@Suite struct InterruptionTests {
    final class Counter: Sendable {
        let value = Atomic(0)
        func increment() { value.add(1, ordering: .relaxed) }
        var count: Int { value.load(ordering: .relaxed) }
    }

    @Test func ctrlCBetweenCommandsCancelsNothingAndIsNotRemembered() {
        var interruption = Interruption()
        interruption.request()
        let counter = Counter()
        interruption.begin { counter.increment() }
        let interrupted = interruption.end()
        #expect(!interrupted, "a request before the command does not reach it")
        #expect(counter.count == 0)
    }

    @Test func ctrlCDuringACommandCancelsItOnceAndIsReportedOnce() {
        var interruption = Interruption()
        let counter = Counter()
        interruption.begin { counter.increment() }
        interruption.request()
        #expect(counter.count == 1)
        let interrupted = interruption.end()
        #expect(interrupted)
        interruption.request()
        #expect(counter.count == 1, "the ended command is not cancelled again")
        interruption.begin {}
        let next = interruption.end()
        #expect(!next, "the next command starts uninterrupted")
    }
}

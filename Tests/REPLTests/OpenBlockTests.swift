import Testing

@testable import REPL

/// `ConnectionState.step`: which lines of a MULTI or WATCH block may run when the lines
/// are written to a connection other than the one the block began on.
@Suite struct OpenBlockTests {
    final class Connection: Sendable {}
    let first = Connection()
    let second = Connection()

    /// Runs `lines` through the state machine, each to the connection given; returns
    /// the lines that may run.
    private func running(_ lines: [(String, Connection)]) -> [String] {
        var open: OpenBlock?
        var ran: [String] = []
        for (name, connection) in lines {
            let (runs, next) = ConnectionState.step(open, name, on: connection)
            if runs { ran.append(name) }
            open = next
        }
        return ran
    }

    @Test func aTransactionOnOneConnectionRunsWhole() {
        #expect(running([("MULTI", first), ("INCR", first), ("EXEC", first), ("GET", first)]) == ["MULTI", "INCR", "EXEC", "GET"])
    }

    @Test func theRestOfALostTransactionDoesNotRunThenLinesRunAgain() {
        let lines = [("MULTI", first), ("INCR", first), ("INCR", second), ("EXEC", second), ("GET", second)]
        #expect(running(lines) == ["MULTI", "INCR", "GET"])
    }

    @Test func discardAndResetAlsoEndALostTransaction() {
        #expect(running([("MULTI", first), ("SET", second), ("DISCARD", second), ("SET", second)]) == ["MULTI", "SET"])
        #expect(running([("MULTI", first), ("RESET", second), ("SET", second)]) == ["MULTI", "SET"])
    }

    @Test func unwatchInsideALostTransactionDoesNotEndIt() {
        let lines = [("MULTI", first), ("UNWATCH", second), ("INCR", second), ("EXEC", second)]
        #expect(running(lines) == ["MULTI"])
    }

    @Test func aNewMultiAfterALostTransactionStartsAfresh() {
        let lines = [("MULTI", first), ("INCR", second), ("MULTI", second), ("INCR", second), ("EXEC", second)]
        #expect(running(lines) == ["MULTI", "MULTI", "INCR", "EXEC"])
    }

    @Test func afterALostWatchOrdinaryLinesRunButItsTransactionDoesNot() {
        let lines = [
            ("WATCH", first), ("GET", second), ("MULTI", second), ("SET", second), ("EXEC", second), ("GET", second),
        ]
        #expect(running(lines) == ["WATCH", "GET", "GET"])
    }

    @Test func unwatchLetsALostWatchGo() {
        let lines = [("WATCH", first), ("UNWATCH", second), ("MULTI", second), ("SET", second), ("EXEC", second)]
        #expect(running(lines) == ["WATCH", "UNWATCH", "MULTI", "SET", "EXEC"])
    }
}

import NIOCore
import RESP
import Testing

@testable import REPL

/// The session connection's state as a value: what each reply does to it.
@Suite struct ConnectionStateTests {
    private let ok = RESPValue.simpleString(ByteBuffer(string: "OK"))
    private let refused = RESPValue.error(ByteBuffer(string: "ERR refused"))

    private func command(_ words: String...) -> RESPCommand { RESPCommand(strings: words) }

    @Test func selectAndMultiChangeThePromptOthersDoNot() {
        var state = ConnectionState(database: 0)
        let select = state.track(command("SELECT", "3"), ok)
        #expect(select && state.database == 3)
        let get = state.track(command("GET", "k"), ok)
        #expect(!get)
        let multi = state.track(command("multi"), ok)
        #expect(multi && state.inTransaction, "any letter case")
        let refusedWatch = state.track(command("WATCH", "k"), refused)
        #expect(!refusedWatch && !state.watching, "an error changes nothing")
        let exec = state.track(command("EXEC"), RESPValue.array([]))
        #expect(exec && !state.inTransaction && !state.watching)
    }

    @Test func aRefusedExecStillEndsTheTransaction() {
        var state = ConnectionState(database: 0)
        state.track(command("MULTI"), ok)
        state.track(command("EXEC"), RESPValue.error(ByteBuffer(string: "EXECABORT Transaction discarded")))
        #expect(!state.inTransaction)
    }

    @Test func resetForgetsEverythingAndSelectsZero() {
        var state = ConnectionState(database: 5)
        state.track(command("WATCH", "k"), ok)
        state.track(command("MULTI"), ok)
        state.track(command("RESET"), RESPValue.simpleString(ByteBuffer(string: "RESET")))
        #expect(state == ConnectionState(database: 5).selecting(0))
    }

    @Test func onlyTransactionLinesAndTheWatchedMultiStayOnTheConnection() {
        var state = ConnectionState(database: 0)
        #expect(!state.mustStayOnConnection(command("MULTI")))
        state.track(command("WATCH", "k"), ok)
        #expect(state.mustStayOnConnection(command("MULTI")))
        #expect(state.mustStayOnConnection(command("exec")))
        #expect(!state.mustStayOnConnection(command("GET", "k")))
        state.track(command("MULTI"), ok)
        #expect(state.mustStayOnConnection(command("GET", "k")))
    }

    @Test func droppingSaysWhatWasLost() {
        var state = ConnectionState(database: 2)
        let nothing = state.drop(reason: "x")
        #expect(nothing == nil, "nothing to lose")
        state.track(command("WATCH", "k"), ok)
        state.track(command("MULTI"), ok)
        let notice = state.drop(reason: "the master changed")
        #expect(notice == "-- MULTI and WATCH state was lost (the master changed): start the transaction again")
        #expect(!state.inTransaction && !state.watching)
        #expect(state.database == 2, "the database survives: it is restored on the next connection")
    }
}

extension ConnectionState {
    /// The state after a SELECT of `database` (for comparisons).
    func selecting(_ database: Int) -> ConnectionState {
        var state = self
        state.track(RESPCommand(strings: ["SELECT", String(database)]), .simpleString(ByteBuffer(string: "OK")))
        return state
    }
}

import NIOCore
import RESP
import Testing

@testable import REPL
@testable import SentinelClient

/// The batch pipeline's decisions, without a connection: what is queued, when a chunk
/// goes out, what each reply means, what goes out again, what Ctrl-C leaves.
@Suite struct BatchStateMachineTests {
    final class Connection: Sendable {}
    typealias Machine = BatchStateMachine<Connection, Int>
    let first = Connection()
    let second = Connection()
    let address = ServerAddress(host: "127.0.0.1", port: 6379)
    let ok = RESPValue.simpleString(ByteBuffer(string: "OK"))

    private func bytes(_ line: String) -> [UInt8] { Array(line.utf8) }

    private func machine(_ lines: [String], echo: Bool = false) -> Machine {
        var machine = Machine()
        machine.begin(echo: echo, lines: lines.count)
        for line in lines { enqueue(&machine, line, shown: !echo) }
        return machine
    }

    /// Queues `line`, expecting it to be queued (or, with `runsAlone`, refused as a barrier).
    private func enqueue(
        _ machine: inout Machine, _ line: String, shown: Bool, runsAlone: Bool = false, _ comment: Comment? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let queued = machine.enqueue(SplitLine(bytes(line)), shown: shown)
        #expect(queued == !runsAlone, comment, sourceLocation: sourceLocation)
    }

    private func names(_ commands: [RESPCommand]) -> [String] { commands.map(\.name) }

    private var notSent: SentinelClientError { .commandNotSent(command: "SET", address: address, reason: "closed") }
    private var inDoubt: SentinelClientError { .commandInDoubt(command: "SET", address: address, reason: "closed") }

    @Test func barriersBlankLinesAndSplitErrorsAreClassified() {
        var machine = Machine()
        machine.begin(echo: true, lines: 5)
        enqueue(&machine, "SET a 1", shown: false)
        enqueue(&machine, "  ", shown: false, "a blank pasted line prints its prompt")
        enqueue(&machine, "  ", shown: true, "a blank shown line is dropped")
        enqueue(&machine, "GET \"a", shown: false)
        enqueue(&machine, ":master", shown: false, runsAlone: true, "meta-commands run alone")
        enqueue(&machine, "3 INCR n", shown: false, runsAlone: true, "so do repeats")
        enqueue(&machine, "SUBSCRIBE c", shown: false, runsAlone: true, "and streams")
        let items = machine.queue.map { entry -> String in
            switch entry.item {
            case .command(let c): "command \(c.name)"
            case .output(let text): "output \(text)"
            case .barrier: "barrier"
            case .notRun: "not run"
            }
        }
        #expect(items == ["command SET", "output ", "output Invalid argument(s)\n"])
    }

    @Test func theWindowHoldsFourChunksOnOneConnection() {
        var state = ConnectionState(database: 0)
        var machine = self.machine((0..<(Machine.chunkSize * 5)).map { "SET k \($0)" })
        machine.pumpStarted()
        #expect(machine.nextStep(untilIdle: true) == .write(after: nil), "nothing in flight: the session connection")
        for chunk in 0..<Machine.window {
            let commands = machine.takeChunk(on: first, blocks: &state)
            #expect(commands.count == Machine.chunkSize)
            machine.written(chunk)
            if chunk < Machine.window - 1 { #expect(machine.nextStep(untilIdle: true) == .write(after: first)) }
        }
        #expect(machine.nextStep(untilIdle: true) == .collect(droppingSessionConnection: false), "the window is full")
        #expect(machine.takeOldestChunk().replies == 0, "oldest first")
        #expect(machine.nextStep(untilIdle: true) == .write(after: first))
    }

    @Test func anEchoedBatchGoesOutInSmallerChunks() {
        var state = ConnectionState(database: 0)
        var machine = self.machine((0..<300).map { "SET k \($0)" }, echo: true)
        #expect(machine.takeChunk(on: first, blocks: &state).count == Machine.echoChunkSize)
    }

    @Test func idleWhenNothingIsQueuedAndWithMoreToComeWhileChunksAreInFlight() {
        var state = ConnectionState(database: 0)
        var machine = self.machine(["SET a 1"])
        _ = machine.takeChunk(on: first, blocks: &state)
        machine.written(1)
        #expect(machine.nextStep(untilIdle: false) == .idle, "stdin: more lines follow")
        #expect(machine.nextStep(untilIdle: true) == .collect(droppingSessionConnection: false))
    }

    @Test func linesOfATransactionLostWithItsConnectionAreNotRun() {
        var state = ConnectionState(database: 0)
        var machine = self.machine(["MULTI", "INCR n"])
        #expect(names(machine.takeChunk(on: first, blocks: &state)) == ["MULTI", "INCR"])
        machine.written(1)
        #expect(state.writing == OpenBlock(kind: .transaction, connection: first))
        enqueue(&machine, "INCR n", shown: true)
        enqueue(&machine, "EXEC", shown: true)
        enqueue(&machine, "GET n", shown: true)
        #expect(names(machine.takeChunk(on: second, blocks: &state)) == ["GET"], "the rest of the transaction is not sent")
        machine.written(2)
        _ = machine.takeOldestChunk()
        let chunk = machine.takeOldestChunk()
        let outcomes = chunk.entries.map { Machine.outcome(of: $0, nil, abandoned: machine.abandoned, redirectsRefusedWrites: true) }
        #expect(outcomes.count == 3)
        #expect(outcomes == [.lostBlock, .lostBlock, .nothing], "the rest of the transaction is lost, GET has no reply yet")
        #expect(state.writing == nil)
    }

    @Test func linesInsideATransactionAreMarkedQueuedAndTheirReadonlyStands() {
        var state = ConnectionState(database: 0)
        var machine = self.machine(["MULTI", "SET a 1", "SET b 2"])
        _ = machine.takeChunk(on: first, blocks: &state)
        machine.written(1)
        let chunk = machine.takeOldestChunk()
        #expect(chunk.entries.map(\.sentInTransaction) == [false, true, true])
        let readOnly = RESPValue.error(ByteBuffer(string: "READONLY You can't write against a read only replica."))
        guard case .reply = Machine.outcome(of: chunk.entries[1], .success(readOnly), abandoned: machine.abandoned, redirectsRefusedWrites: true) else {
            Issue.record("a refusal inside MULTI stands")
            return
        }
        var plain = self.machine(["SET a 1"])
        var outside = ConnectionState(database: 0)
        _ = plain.takeChunk(on: first, blocks: &outside)
        plain.written(2)
        let entry = plain.takeOldestChunk().entries[0]
        guard case .runAlone(let message) = Machine.outcome(of: entry, .success(readOnly), abandoned: plain.abandoned, redirectsRefusedWrites: true) else {
            Issue.record("a refused plain write runs again on the new master")
            return
        }
        #expect(message.hasPrefix("READONLY"))
        guard case .reply = Machine.outcome(of: entry, .success(readOnly), abandoned: plain.abandoned, redirectsRefusedWrites: false) else {
            Issue.record("on a replica session READONLY is the answer")
            return
        }
    }

    @Test func repliesPairWithTheLinesThatWereSent() {
        var state = ConnectionState(database: 0)
        var machine = Machine()
        machine.begin(echo: true, lines: 3)
        _ = machine.enqueue(SplitLine(bytes("SET a 1")), shown: false)
        _ = machine.enqueue(SplitLine(bytes("")), shown: false)
        _ = machine.enqueue(SplitLine(bytes("GET a")), shown: false)
        #expect(machine.takeChunk(on: first, blocks: &state).count == 2)
        machine.written(1)
        let chunk = machine.takeOldestChunk()
        let results: [Result<RESPValue, SentinelClientError>] = [.success(ok), .failure(inDoubt)]
        var next = 0
        let answers = chunk.entries.map { Machine.answer(for: $0, in: results, next: &next) }
        #expect(answers.map { $0 == nil } == [false, true, false] && next == 2)
        #expect(
            Machine.outcome(of: chunk.entries[2], answers[2], abandoned: machine.abandoned, redirectsRefusedWrites: true) == .failed,
            "an in-doubt line is reported, not sent again")
        guard case .resendFromHere = Machine.outcome(of: chunk.entries[2], .failure(notSent), abandoned: machine.abandoned, redirectsRefusedWrites: true) else {
            Issue.record("a line never written goes out again")
            return
        }
    }

    @Test func aResendRewindsTheBlockAndPutsEveryLaterLineBackFirst() {
        var state = ConnectionState(database: 0)
        var machine = self.machine(["WATCH k", "GET k", "MULTI", "SET k 1", "EXEC", "GET z"])
        machine.pumpStarted()
        _ = machine.takeChunk(on: first, blocks: &state)
        machine.written(1)
        #expect(state.writing == nil, "EXEC closed the block at the write position")
        let chunk = machine.takeOldestChunk()
        // GET k (position 1) was never written: WATCH went out, the rest goes again.
        machine.resend(from: 1, of: chunk, blocks: &state)
        #expect(state.writing == OpenBlock(kind: .watch, connection: first), "back to what WATCH opened")
        #expect(machine.queue.map { $0.command?.name ?? "" } == ["GET", "MULTI", "SET", "EXEC", "GET"])
        #expect(machine.queue.first?.shown == true)
        #expect(names(machine.takeChunk(on: second, blocks: &state)) == ["GET", "GET"], "the transaction relied on the lost WATCH")
    }

    @Test func ctrlCCountsWhatMayHaveRunAndWhatSurelyDidNot() {
        var state = ConnectionState(database: 0)
        var machine = self.machine(["MULTI", "SET a 1", "SET b 2", "SET c 3"])
        machine.interrupt()
        #expect(!machine.abandoned, "nothing runs: nothing to abandon")
        machine.pumpStarted()
        _ = machine.takeChunk(on: first, blocks: &state)
        machine.written(1)
        enqueue(&machine, "SET d 4", shown: true)
        machine.interrupt()
        #expect(machine.nextStep(untilIdle: true) == .collect(droppingSessionConnection: true))
        let entry = machine.inFlight[0].entries[1]
        guard case .interrupted = Machine.outcome(of: entry, .failure(inDoubt), abandoned: machine.abandoned, redirectsRefusedWrites: true) else {
            Issue.record("a reply cut short by Ctrl-C ends the batch")
            return
        }
        let report = machine.abandon(unanswered: [.success(ok), .failure(inDoubt), .failure(notSent)], blocks: &state)
        #expect(report == Machine.Abandoned(answered: 1, inDoubt: 1, notRun: 2))
        #expect(report.lines.split(separator: "\n").count == 3)
        #expect(machine.queue.isEmpty && machine.inFlight.isEmpty && state.writing == nil, "what follows starts afresh")
        machine.pumpEnded()
        #expect(!machine.abandoned && !machine.running)
    }

    @Test func withNoMasterEveryQueuedLineSaysSo() {
        var machine = self.machine(["SET a 1", "GET a"])
        #expect(machine.connectionFailed().count == 2)
        #expect(machine.queue.isEmpty)
        machine.pumpStarted()
        #expect(machine.nextStep(untilIdle: true) == .idle)
    }

    @Test func aTypedLineLetsTheNextBatchContinueItsBlock() {
        var state = ConnectionState(database: 0)
        state.track(RESPCommand("MULTI"), ok)
        state.writeAfterReplies(on: first)
        var machine = self.machine(["SET a 1", "EXEC"])
        #expect(names(machine.takeChunk(on: first, blocks: &state)) == ["SET", "EXEC"])
        machine.written(1)
        #expect(machine.inFlight[0].entries.map(\.sentInTransaction) == [true, true])
        state.writeAfterReplies(on: nil)
        #expect(state.writing == nil)
    }
}

import DequeModule
import RESP
import SentinelClient

/// Pasted or piped lines: every line runs exactly once, in order, pipelined on
/// the session connection, and yields exactly one reply or one error line.
///
/// Lines are written in chunks; up to `window` chunks are in flight at once, so
/// the server works on one chunk while the replies of the one before it are
/// printed. A chunk's replies are printed in one write.
///
/// Every decision of the pipeline is a synchronous transition here: which step comes
/// next, what a chunk holds, what each reply means, what goes out again after a
/// drop, what Ctrl-C leaves. `BatchPipeline` performs the steps (connections, replies,
/// output); MULTI/WATCH come from `ConnectionState`, passed in. Generic over the
/// connection and its pending replies, so that it is tested without sockets.
struct BatchStateMachine<Connection: AnyObject & Sendable, Replies: Sendable> {
    struct Chunk: Sendable {
        var entries: [BatchEntry]
        var connection: Connection
        var replies: Replies
        /// The block open before the chunk's first line, to rewind to when lines are re-sent.
        var blockBefore: OpenBlock?
    }

    /// What the pipeline does next.
    enum Step: Equatable {
        /// Nothing queued (and, when asked, nothing in flight): the pump returns.
        case idle
        /// Ctrl-C and nothing in flight any more: say what the batch left, forget it.
        case reportAbandoned
        /// Print the oldest chunk's replies; first drop the session connection (Ctrl-C:
        /// what has no reply yet is given up).
        case collect(droppingSessionConnection: Bool)
        /// Write the next chunk: on `connection`, the one chunks are in flight on, if it is
        /// still the session's (else collect first); nil: on the session connection, new
        /// if need be.
        case write(after: Connection?)

        static func == (lhs: Step, rhs: Step) -> Bool {
            switch (lhs, rhs) {
            case (.idle, .idle), (.reportAbandoned, .reportAbandoned): return true
            case (.collect(let l), .collect(let r)): return l == r
            case (.write(let l), .write(let r)): return l === r
            default: return false
            }
        }
    }

    /// Ctrl-C: what became of the lines after the one cut short.
    struct Abandoned: Equatable {
        var answered = 0
        var inDoubt = 0
        var notRun = 0

        var lines: String {
            var out = ""
            if answered > 0 { out += "-- \(answered) later line(s) got replies that are not shown\n" }
            if inDoubt > 0 { out += "-- \(inDoubt) later line(s) were sent and got no reply: they may or may not have run\n" }
            if notRun > 0 { out += "-- \(notRun) later line(s) of the batch were not run\n" }
            return out
        }
    }

    static var chunkSize: Int { 1024 }
    /// A paste's transcript appears a chunk at a time: smaller chunks, so that a slow
    /// or blocking command holds back few of the lines before it.
    static var echoChunkSize: Int { 128 }
    static var window: Int { 4 }

    /// Lines waiting to be written, in order.
    private(set) var queue: Deque<BatchEntry> = []
    /// Chunks written on the session connection, oldest first.
    private(set) var inFlight: [Chunk] = []
    /// Print each line after the prompt before its reply (a paste).
    private(set) var echo = false
    /// Set while lines run, so that Ctrl-C between two chunks is not lost.
    private(set) var running = false
    private(set) var abandoned = false
    /// Taken off the queue, being written (between `takeChunk` and `written`).
    private var unsent: (entries: [BatchEntry], connection: Connection, blockBefore: OpenBlock?)?

    // MARK: Lines in

    /// A batch begins (or, from stdin, goes on): lines are echoed or not.
    mutating func begin(echo: Bool, lines: Int) {
        self.echo = echo
        queue.reserveCapacity(queue.count + lines)
    }

    /// Queues `line`; false when it must run alone (a barrier): every line before it
    /// is answered first, then the caller runs it.
    mutating func enqueue(_ line: SplitLine, shown: Bool) -> Bool {
        if line.isBlank {
            if !shown { queue.append(BatchEntry(line: line.bytes, item: .output(""), shown: false)) }
            return true
        }
        let item = Self.classify(line)
        if case .barrier = item { return false }
        // Only an echo needs the line again.
        queue.append(BatchEntry(line: echo ? line.bytes : [], item: item, shown: shown))
        return true
    }

    static func classify(_ line: SplitLine) -> BatchLine {
        guard let command = line.command else { return .output("Invalid argument(s)\n") }
        guard let first = command.first else { return .barrier }
        // A repeat (`5 INCR n`) runs alone too: one line, several replies.
        return CommandClassifier.kind(of: first).runsAlone || RepeatPrefix(command) != .none
            ? .barrier : .command(command)
    }

    // MARK: The pump

    mutating func pumpStarted() {
        running = true
    }

    mutating func pumpEnded() {
        running = false
        abandoned = false
    }

    /// Ctrl-C: the batch running now, if any, is abandoned.
    mutating func interrupt() {
        if running { abandoned = true }
    }

    mutating func nextStep(untilIdle: Bool) -> Step {
        if queue.isEmpty && (inFlight.isEmpty || !untilIdle) { return .idle }
        if abandoned { return inFlight.isEmpty ? .reportAbandoned : .collect(droppingSessionConnection: true) }
        if !queue.isEmpty && inFlight.count < Self.window { return .write(after: inFlight.last?.connection) }
        return .collect(droppingSessionConnection: false)
    }

    /// No connection for the next chunk (no master within the wait): every queued line
    /// says so, none runs. Returns them, to be printed in order.
    mutating func connectionFailed() -> [BatchEntry] {
        defer { queue = [] }
        return Array(queue)
    }

    /// A chunk's worth of lines waits: it can go out while later lines are still split.
    var hasFullChunk: Bool { queue.count >= (echo ? Self.echoChunkSize : Self.chunkSize) }

    // MARK: Writing

    /// Takes the next chunk off the queue for `connection`; returns the commands to
    /// write, at once (no suspension between the choice of connection and the write),
    /// then `written`. Lines of a block that lost its connection are marked not run.
    mutating func takeChunk(on connection: Connection, blocks: inout ConnectionState) -> [RESPCommand] {
        precondition(unsent == nil, "a chunk is being written")
        let count = min(echo ? Self.echoChunkSize : Self.chunkSize, queue.count)
        let blockBefore = blocks.writing
        var commands: [RESPCommand] = []
        commands.reserveCapacity(count)
        var entries: [BatchEntry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            // Moved off the queue, not copied: a copy would retain every line's words once more.
            var entry = queue.removeFirst()
            switch entry.item {
            case .command(let command):
                let (runs, queued) = blocks.write(command, on: connection)
                entry.sentInTransaction = queued
                if runs {
                    commands.append(command)
                } else {
                    entry.item = .notRun(command)
                }
            case .notRun(let command):
                _ = blocks.write(command, on: connection)
            case .output, .barrier:
                break
            }
            entries.append(entry)
        }
        unsent = (entries, connection, blockBefore)
        return commands
    }

    /// The chunk `takeChunk` returned was written; its replies are pending.
    mutating func written(_ replies: Replies) {
        guard let chunk = unsent else { preconditionFailure("no chunk was taken") }
        unsent = nil
        inFlight.append(Chunk(entries: chunk.entries, connection: chunk.connection, replies: replies, blockBefore: chunk.blockBefore))
    }

    // MARK: Collecting

    mutating func takeOldestChunk() -> Chunk {
        inFlight.removeFirst()
    }

    /// The reply of `entry` among a chunk's `results` (one per line that was sent, in
    /// order): the one at `next`, which moves past it; nil for a line that was not sent.
    static func answer(
        for entry: BatchEntry, in results: [Result<RESPValue, SentinelClientError>], next: inout Int
    ) -> Result<RESPValue, SentinelClientError>? {
        guard case .command = entry.item, next < results.count else { return nil }
        defer { next += 1 }
        return results[next]
    }

    /// What `entry` prints, given its reply. On a master session a write a demoted
    /// master refused runs again alone; inside MULTI the refusal stands (EXEC aborts).
    /// Static: the hot path copies no machine.
    static func outcome(
        of entry: BatchEntry, _ answer: Result<RESPValue, SentinelClientError>?, abandoned: Bool, redirectsRefusedWrites: Bool
    ) -> BatchOutcome {
        switch entry.item {
        case .output: return .text
        case .notRun: return .lostBlock
        case .barrier: return .nothing
        case .command:
            switch answer {
            case nil:
                return .nothing
            case .success(let reply):
                if redirectsRefusedWrites, ResendRule.refusedByDemotedMaster(reply, pinned: entry.sentInTransaction),
                    let message = reply.errorMessage
                {
                    return .runAlone(message: message)
                }
                return .reply
            case .failure where abandoned:
                return .interrupted
            case .failure(let error) where ResendRule.after(error, pinned: false) == .resend:
                return .resendFromHere
            case .failure:
                return .failed
            }
        }
    }

    /// The lines from `position` on were never written, nor was anything after them on
    /// that connection (writes leave in order, and the window holds one connection):
    /// all of it goes out again, first, as if the writing had stopped there. Call once
    /// every chunk in flight has its replies.
    mutating func resend(from position: Int, of chunk: Chunk, blocks: inout ConnectionState) {
        blocks.rewindWriting(to: chunk.blockBefore, over: chunk.entries[..<position].compactMap(\.command), on: chunk.connection)
        var again = Array(chunk.entries[position...])
        again[0].shown = again[0].shown || echo  // its line is on the screen already
        for chunk in inFlight { again += chunk.entries }
        inFlight.removeAll()
        queue.prepend(contentsOf: again)
    }

    /// Ctrl-C: counts what became of the `unanswered` lines (sent after the one cut
    /// short, with every chunk in flight) and of those still queued, and forgets them
    /// all; what follows starts afresh.
    mutating func abandon(unanswered: [Result<RESPValue, SentinelClientError>], blocks: inout ConnectionState) -> Abandoned {
        let answered = unanswered.count { if case .success = $0 { true } else { false } }
        let surelyNotRun = unanswered.count {
            if case .failure(let error) = $0 { ResendRule.after(error, pinned: false) == .resend } else { false }
        }
        let report = Abandoned(
            answered: answered, inDoubt: unanswered.count - answered - surelyNotRun,
            notRun: surelyNotRun + queue.count(where: \.isCommand))
        inFlight.removeAll()
        queue = []
        blocks.cutWriting()
        return report
    }
}

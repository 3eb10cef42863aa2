import DequeModule
import NIOCore
import RESP
import SentinelClient

/// The batch pipeline: the one owner of the batch's queue, its window of chunks
/// in flight and the accounting of lines in doubt or not run. Confined to the
/// session actor, which it is handed as `session` for the connection, rendering
/// and the prompt.
final class BatchPipeline {
    private(set) var batch = BatchState()

    /// Ctrl-C: the batch running now, if any, is abandoned.
    func interrupt() {
        if batch.running { batch.abandoned = true }
    }

    /// A typed line ran: the block a later paste continues is the session's own
    /// (the person has seen any notice about a lost one).
    func continueBlock(_ block: OpenBlock?) {
        batch.openBlock = block
    }

    /// One line of a batch, classified.
    enum BatchLine: Sendable {
        case command(RESPCommand)
        /// Printed at its place without running anything (a split error, a blank line's prompt).
        case output(String)
        /// Runs alone, after every reply before it (meta-commands, SUBSCRIBE, help, quit).
        case barrier
        /// Not sent: its MULTI or WATCH block lost its connection. Prints `LostBlock`.
        case notRun(RESPCommand)
    }

    struct BatchEntry: Sendable {
        var line: [UInt8]
        var item: BatchLine
        /// The line is on the screen already (typed, not pasted; or shown before a resend).
        var shown: Bool
        /// Written between MULTI and EXEC: the server queues it.
        var sentInTransaction = false
        /// The command of a line that is one, sent or not.
        var command: RESPCommand? {
            switch item {
            case .command(let c), .notRun(let c): return c
            case .output, .barrier: return nil
            }
        }
        var isCommand: Bool { command != nil }
    }

    struct InFlightChunk: Sendable {
        var entries: [BatchEntry]
        var connection: RedisConnection
        var replies: PendingReplies
        /// The block open before the chunk's first line, to rewind to when lines are re-sent.
        var blockBefore: OpenBlock?
    }

    /// Runs `lines`; returns true when one of them asked to quit (the rest is not run).
    /// With `echo`, each line is printed after the prompt before its reply, as if typed.
    /// With `more`, the last chunks may stay in flight: more lines follow (stdin);
    /// call `finish` at the end.
    func run(
        _ lines: [[UInt8]], echo: Bool, firstShown: Bool = false, more: Bool = false, session: isolated Session
    ) async -> Bool {
        batch.echo = echo
        batch.queue.reserveCapacity(batch.queue.count + lines.count)
        for (index, line) in lines.enumerated() {
            let shown = !echo || (firstShown && index == 0)
            if Self.isBlank(line) {
                if !shown { batch.queue.append(BatchEntry(line: line, item: .output(""), shown: false)) }
                continue
            }
            let item = Self.classify(line)
            guard case .barrier = item else {
                // Only an echo needs the line again.
                batch.queue.append(BatchEntry(line: echo ? line : [], item: item, shown: shown))
                continue
            }
            guard await pump(untilIdle: true, session: session) else {
                let unqueued = lines[index...].count { !Self.isBlank($0) }
                session.output.write("-- \(unqueued) more line(s) of the batch were not run\n")
                return false
            }
            if !shown { await session.echo(line) }
            if await session.runLine(line) { return true }
        }
        _ = await pump(untilIdle: !more, session: session)
        return false
    }

    /// Waits for every line still in flight and prints its reply.
    func finish(session: isolated Session) async {
        _ = await pump(untilIdle: true, session: session)
    }

    static func isBlank(_ line: [UInt8]) -> Bool {
        line.allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 }
    }

    static func classify(_ line: [UInt8]) -> BatchLine {
        guard let words = try? CommandLineSplitter.split(line) else { return .output("Invalid argument(s)\n") }
        guard let first = words.first else { return .barrier }
        // A repeat (`5 INCR n`) runs alone too: one line, several replies.
        return CommandClassifier.kind(of: first).runsAlone || RepeatPrefix(words) != .none ? .barrier : .command(RESPCommand(arguments: words))
    }

    // MARK: The window

    /// Writes queued lines and prints replies until the queue is empty (and, with
    /// `untilIdle`, nothing is in flight). False when Ctrl-C abandoned the batch.
    private func pump(untilIdle: Bool, session: isolated Session) async -> Bool {
        batch.running = true
        defer {
            batch.running = false
            batch.abandoned = false
        }
        while true {
            if batch.queue.isEmpty && (batch.inFlight.isEmpty || !untilIdle) { return true }
            if batch.abandoned && batch.inFlight.isEmpty {
                await reportAbandoned(unanswered: [], out: Session.interruptedLine, session: session)
                return false
            }
            if batch.abandoned {
                // Ctrl-C between chunks: what has no reply yet is given up.
                await session.dropSessionConnection(error: "interrupted")
            }
            if !batch.abandoned, !batch.queue.isEmpty, batch.inFlight.count < BatchState.window,
                let connection = await connectionForNextChunk(session: session)
            {
                // Ctrl-C while waiting for a master: nothing more goes out.
                if !batch.abandoned { writeNextChunk(on: connection) }
            } else if !batch.inFlight.isEmpty {
                guard await collectOldestChunk(session: session) else { return false }
            }
        }
    }

    /// The connection the next chunk goes to. While chunks are in flight, only theirs,
    /// and only while it is still the session's (nil: collect them first); the window
    /// never spans two connections. Otherwise the session connection, new if need be;
    /// when there is none, every queued line says so (nil).
    private func connectionForNextChunk(session: isolated Session) async -> RedisConnection? {
        if let last = batch.inFlight.last {
            return await session.pinned.usable() === last.connection ? last.connection : nil
        }
        // Waiting for a master (a failover) can take a while: Ctrl-C ends the wait.
        let (outcome, interrupted) = await session.runInterruptibly { [session] () -> Result<RedisConnection, Error> in
            do { return .success(try await session.sessionConnection()) } catch { return .failure(error) }
        }
        if interrupted {
            batch.abandoned = true
            return nil
        }
        switch outcome {
        case .success(let connection):
            return connection
        case .failure(let error):
            // No master within the wait: every queued line says so, none runs.
            var out: [UInt8] = []
            let prompt = batch.echo ? await session.prompt() : ""
            for entry in batch.queue {
                appendEcho(prompt, entry, into: &out)
                if case .output(let text) = entry.item { out += Array(text.utf8) } else { out += session.errorLine(error) }
            }
            batch.queue = []
            session.output.write(out)
            return nil
        }
    }

    /// Takes the next chunk off the queue and writes it; no suspension between the
    /// choice of connection and the write. Lines of a block that lost its connection
    /// are marked not run here.
    private func writeNextChunk(on connection: RedisConnection) {
        let count = min(batch.echo ? BatchState.echoChunkSize : BatchState.chunkSize, batch.queue.count)
        let blockBefore = batch.openBlock
        var commands: [RESPCommand] = []
        commands.reserveCapacity(count)
        for index in batch.queue.startIndex..<(batch.queue.startIndex + count) {
            let command: RESPCommand
            switch batch.queue[index].item {
            case .command(let c): command = c
            case .notRun(let c):
                batch.openBlock = Self.step(batch.openBlock, CommandClassifier.stateCommandName(c), on: connection).open
                continue
            case .output, .barrier: continue
            }
            let name = CommandClassifier.stateCommandName(command)  // a string only for MULTI, EXEC...
            batch.queue[index].sentInTransaction = batch.openBlock?.kind == .transaction && name != "MULTI"
            let (runs, open) = Self.step(batch.openBlock, name, on: connection)
            batch.openBlock = open
            if runs {
                commands.append(command)
            } else {
                batch.queue[index].item = .notRun(command)
            }
        }
        let chunk = Array(batch.queue.prefix(count))
        batch.queue.removeFirst(count)
        batch.inFlight.append(
            InFlightChunk(entries: chunk, connection: connection, replies: connection.submit(commands), blockBefore: blockBefore))
    }

    /// Prints the oldest chunk's replies. Lines the server never saw (a dropped
    /// connection) go back to the front of the queue for the new master; a line in
    /// flight at the drop gets one in-doubt error line and is not run again.
    /// False when Ctrl-C abandoned the batch.
    private func collectOldestChunk(session: isolated Session) async -> Bool {
        let chunk = batch.inFlight.removeFirst()
        let (results, interrupted) = await session.runInterruptibly { await Self.replies(of: chunk) }
        if interrupted { batch.abandoned = true }
        var prompt = batch.echo ? await session.prompt() : ""
        var out: [UInt8] = []
        var replies = results[...]
        for position in chunk.entries.indices {
            let entry = chunk.entries[position]
            appendEcho(prompt, entry, into: &out)
            let command: RESPCommand
            switch entry.item {
            case .command(let c): command = c
            case .output(let text):
                out += Array(text.utf8)
                continue
            case .notRun(let c):
                out += session.errorLine(LostBlock(command: c.name))
                continue
            case .barrier: continue
            }
            // After a drop, later replies of the window come from a connection that is
            // no longer the session's: they tell about its blocks, not the session's state.
            let onSession = session.pinned.isCurrent(chunk.connection)
            switch replies.removeFirst() {
            case .success(let reply):
                // (On a replica session READONLY is the answer itself: shown, not run elsewhere.)
                if ResendRule.refusedByDemotedMaster(reply, pinned: entry.sentInTransaction), let message = reply.errorMessage,
                    session.pinned.target == .master
                {
                    // (Inside MULTI the refusal stands: EXEC will abort the transaction.)
                    let rerun = await rerunRefused(command, message: message, onSession: onSession, session: session)
                    out += rerun.output
                    if rerun.abandoned {
                        await reportAbandoned(unanswered: replies, out: out, session: session)
                        return false
                    }
                } else {
                    // A dropped connection's replies say nothing of the session's state.
                    // The transcript shows the prompt a person would have seen: (TX), [db].
                    if onSession, session.pinned.track(command, reply), batch.echo { prompt = await session.prompt() }
                    session.appendRendered(reply, command, into: &out)
                }
            case .failure where batch.abandoned:
                await session.dropSessionConnection(error: "interrupted")
                out += Session.interruptedLine
                await reportAbandoned(unanswered: replies, out: out, session: session)
                return false
            case .failure(let error) where ResendRule.after(error, pinned: false) == .resend:
                session.output.write(out)
                await requeueNeverSent(from: position, of: chunk, onSession: onSession, session: session)
                return true
            case .failure(let error):
                if onSession { await session.dropSessionConnection(error: "\(error)") }
                out += session.errorLine(error)
            }
        }
        session.output.write(out)
        return true
    }

    /// A write a demoted master refused (READONLY) did not run: it runs alone on the
    /// new master, once the chunks behind it have their replies from the old one.
    /// `abandoned` when Ctrl-C stopped the batch meanwhile.
    private func rerunRefused(
        _ command: RESPCommand, message: String, onSession: Bool, session: isolated Session
    ) async -> (output: [UInt8], abandoned: Bool) {
        await settleWindow()
        if onSession { await session.dropSessionConnection(error: message) }
        if batch.abandoned { return (Session.interruptedLine, true) }
        let output = await runAlone(command, session: session)
        return (output, batch.abandoned)
    }

    private static func replies(of chunk: InFlightChunk) async -> [Result<RESPValue, SentinelClientError>] {
        await chunk.replies.get(cancelReason: "interrupted")
    }

    /// Waits until every chunk in flight has its replies (or errors), so that
    /// dropping their connection changes none of them.
    private nonisolated(nonsending) func settleWindow() async {
        for chunk in batch.inFlight { _ = await Self.replies(of: chunk) }
    }

    /// The lines from `position` on were never written, nor was anything after them on
    /// that connection (writes leave in order, and the window holds one connection):
    /// all of it goes out again, first, as if the writing had stopped there.
    private func requeueNeverSent(
        from position: Int, of chunk: InFlightChunk, onSession: Bool, session: isolated Session
    ) async {
        await settleWindow()
        batch.openBlock = chunk.entries[..<position].reduce(chunk.blockBefore) { open, entry in
            entry.command.map { Self.step(open, CommandClassifier.stateCommandName($0), on: chunk.connection).open } ?? open
        }
        var resend = Array(chunk.entries[position...])
        resend[0].shown = resend[0].shown || batch.echo  // its line is on the screen already
        for chunk in batch.inFlight { resend += chunk.entries }
        batch.inFlight.removeAll()
        batch.queue.prepend(contentsOf: resend)
        if onSession { await session.dropSessionConnection(error: "connection lost before the command was sent") }
        await session.client.reconcile(reason: "a batch lost its connection")
        if batch.echo { session.output.write("-- resending from this line on the new master\n") }
    }

    /// Ctrl-C: says how many later lines of the batch may have run (written, no
    /// reply) and how many surely did not, and forgets them.
    private func reportAbandoned(
        unanswered: ArraySlice<Result<RESPValue, SentinelClientError>>, out: [UInt8], session: isolated Session
    ) async {
        var unanswered = Array(unanswered)
        for chunk in batch.inFlight { unanswered += await Self.replies(of: chunk) }
        let answered = unanswered.count { if case .success = $0 { true } else { false } }
        let surelyNotRun = unanswered.count {
            if case .failure(let error) = $0 { ResendRule.after(error, pinned: false) == .resend } else { false }
        }
        let inDoubt = unanswered.count - answered - surelyNotRun
        let notRun = surelyNotRun + batch.queue.count(where: \.isCommand)
        var out = out
        if answered > 0 { out += Array("-- \(answered) later line(s) got replies that are not shown\n".utf8) }
        if inDoubt > 0 {
            out += Array("-- \(inDoubt) later line(s) were sent and got no reply: they may or may not have run\n".utf8)
        }
        if notRun > 0 { out += Array("-- \(notRun) later line(s) of the batch were not run\n".utf8) }
        let discarded = await session.discardTypeahead()
        if discarded > 0 { out += Array("-- \(discarded) more line(s) typed or pasted meanwhile were discarded\n".utf8) }
        session.output.write(out)
        batch.inFlight.removeAll()
        batch.queue = []
        batch.openBlock = nil  // the stream was cut here: what follows starts afresh
    }

    // MARK: MULTI and WATCH blocks

    /// What one command line does to the block open where lines are written, when it
    /// is to go out on `connection`: whether it may run there, and the block open after
    /// it. A transaction whose first line went to another connection is lost: its lines
    /// up to EXEC or DISCARD do not run (elsewhere they would run one by one); after a
    /// lost WATCH, ordinary lines run but its MULTI ... EXEC does not (it would run
    /// without the WATCH). A new MULTI after a lost transaction starts a new one.
    static func step(
        _ open: OpenBlock?, _ name: String?, on connection: any AnyObject & Sendable
    ) -> (runs: Bool, open: OpenBlock?) {
        guard let open else {
            switch name {
            case "MULTI": return (true, OpenBlock(kind: .transaction, connection: connection))
            case "WATCH": return (true, OpenBlock(kind: .watch, connection: connection))
            default: return (true, nil)
            }
        }
        let lost = open.connection !== connection
        switch (open.kind, name) {
        case (.transaction, "MULTI") where lost: return (true, OpenBlock(kind: .transaction, connection: connection))
        case (.transaction, "EXEC"), (.transaction, "DISCARD"), (.transaction, "RESET"): return (!lost, nil)
        case (.transaction, _): return (!lost, open)
        case (.watch, "MULTI"): return (!lost, OpenBlock(kind: .transaction, connection: open.connection))
        case (.watch, "EXEC"), (.watch, "DISCARD"): return (!lost, nil)
        case (.watch, "UNWATCH"), (.watch, "RESET"): return (true, nil)
        case (.watch, _): return (true, open)
        }
    }

    private func appendEcho(_ prompt: String, _ entry: BatchEntry, into out: inout [UInt8]) {
        guard batch.echo, !entry.shown else { return }
        out += Array(prompt.utf8)
        out += entry.line
        out.append(10)
    }

    /// A refused write, alone on the new master (on the session connection once there
    /// is one for it: a window of refused writes does not open a connection each);
    /// Ctrl-C abandons it.
    private func runAlone(_ command: RESPCommand, session: isolated Session) async -> [UInt8] {
        switch await session.sendOnSession(command) {
        case (.success(let reply), _):
            var out: [UInt8] = []
            session.appendRendered(reply, command, into: &out)
            return out
        case (.failure, true):
            batch.abandoned = true
            return Session.interruptedLine
        case (.failure(let error), false):
            return session.errorLine(error)
        }
    }
}

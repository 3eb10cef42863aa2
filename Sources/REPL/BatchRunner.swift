import DequeModule
import NIOCore
import RESP
import SentinelClient

/// Pasted or piped lines: every line runs exactly once, in order, pipelined on
/// the session connection, and yields exactly one reply or one error line.
///
/// Lines are written in chunks; up to `window` chunks are in flight at once, so
/// the server works on one chunk while the replies of the one before it are
/// printed. A chunk's replies are printed in one write.
struct BatchState {
    /// Lines waiting to be written, in order.
    var queue: Deque<Session.BatchEntry> = []
    /// Chunks written on the session connection, oldest first.
    var inFlight: [Session.InFlightChunk] = []
    /// Print each line after the prompt before its reply (a paste).
    var echo = false
    /// Set while lines run, so that Ctrl-C between two chunks is not lost.
    var running = false
    var abandoned = false

    static let chunkSize = 1024
    static let window = 4
}

extension Session {
    /// One line of a batch, classified.
    enum BatchLine: Sendable {
        case command(RESPCommand)
        /// Printed at its place without running anything (a split error, a blank line's prompt).
        case output(String)
        /// Runs alone, after every reply before it (meta-commands, SUBSCRIBE, help, quit).
        case barrier
    }

    struct BatchEntry: Sendable {
        var line: [UInt8]
        var item: BatchLine
        /// The line is on the screen already (typed, not pasted; or shown before a resend).
        var shown: Bool
        var isCommand: Bool {
            if case .command = item { return true } else { return false }
        }
    }

    struct InFlightChunk: Sendable {
        var entries: [BatchEntry]
        var connection: RedisConnection
        var replies: EventLoopFuture<[Result<RESPValue, Error>]>
    }

    /// Runs `lines`; returns true when one of them asked to quit (the rest is not run).
    /// With `echo`, each line is printed after the prompt before its reply, as if typed.
    /// With `more`, the last chunks may stay in flight: more lines follow (stdin);
    /// call `finishBatch` at the end.
    func runBatch(_ lines: [[UInt8]], echo: Bool, firstShown: Bool = false, more: Bool = false) async -> Bool {
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
            guard await pumpBatch(untilIdle: true) else {
                let unqueued = lines[index...].count { !Self.isBlank($0) }
                output.write("-- \(unqueued) more line(s) of the batch were not run\n")
                return false
            }
            if !shown { output.write(await prompt() + String(decoding: line, as: UTF8.self) + "\n") }
            if await runLine(line) { return true }
        }
        _ = await pumpBatch(untilIdle: !more)
        return false
    }

    /// Waits for every line still in flight and prints its reply.
    func finishBatch() async {
        _ = await pumpBatch(untilIdle: true)
    }

    static func isBlank(_ line: [UInt8]) -> Bool {
        line.allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 }
    }

    static func classify(_ line: [UInt8]) -> BatchLine {
        guard let words = try? CommandLineSplitter.split(line) else { return .output("Invalid argument(s)\n") }
        guard let first = words.first else { return .barrier }
        return isBarrier(first) ? .barrier : .command(RESPCommand(arguments: words))
    }

    /// Meta-commands, quit, exit, help and the streaming commands run alone. Compared
    /// as bytes: this runs for every line of a batch.
    static func isBarrier(_ name: [UInt8]) -> Bool {
        if name.first == UInt8(ascii: ":") { return true }
        guard [4, 7, 9, 10].contains(name.count) else { return false }
        let upper = name.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 }
        return barrierNames.contains(upper)
    }

    private static let barrierNames: Set<[UInt8]> = Set(
        (["QUIT", "EXIT", "HELP"] + CommandPolicy.streamingCommands).map { Array($0.utf8) })

    // MARK: The window

    /// Writes queued lines and prints replies until the queue is empty (and, with
    /// `untilIdle`, nothing is in flight). False when Ctrl-C abandoned the batch.
    private func pumpBatch(untilIdle: Bool) async -> Bool {
        batch.running = true
        defer {
            batch.running = false
            batch.abandoned = false
        }
        while true {
            if batch.queue.isEmpty && (batch.inFlight.isEmpty || !untilIdle) { return true }
            if batch.abandoned && batch.inFlight.isEmpty {
                await reportAbandoned(unanswered: [], out: Array("(interrupted)\n".utf8))
                return false
            }
            if batch.abandoned {
                // Ctrl-C between chunks: what has no reply yet is given up.
                await dropSessionConnection(error: "interrupted")
            }
            if !batch.abandoned, !batch.queue.isEmpty, batch.inFlight.count < BatchState.window,
                let connection = await connectionForNextChunk()
            {
                writeNextChunk(on: connection)
            } else if !batch.inFlight.isEmpty {
                guard await collectOldestChunk() else { return false }
            }
        }
    }

    /// The connection the next chunk goes to. While chunks are in flight, only theirs,
    /// and only while it is still the session's (nil: collect them first); the window
    /// never spans two connections. Otherwise the session connection, new if need be;
    /// when there is none, every queued line says so (nil).
    private func connectionForNextChunk() async -> RedisConnection? {
        if let last = batch.inFlight.last {
            return await currentSessionConnection() === last.connection ? last.connection : nil
        }
        do {
            return try await sessionConnection()
        } catch {
            // No master within the wait: every queued line says so, none runs.
            var out: [UInt8] = []
            let prompt = batch.echo ? await prompt() : ""
            for entry in batch.queue {
                appendEcho(prompt, entry, into: &out)
                if case .output(let text) = entry.item { out += Array(text.utf8) } else { out += errorLine(error) }
            }
            batch.queue = []
            output.write(out)
            return nil
        }
    }

    /// Takes the next chunk off the queue and writes it; no suspension between the
    /// choice of connection and the write.
    private func writeNextChunk(on connection: RedisConnection) {
        if lostBlock != nil { skipRestOfLostBlock() }
        let chunk = Array(batch.queue.prefix(BatchState.chunkSize))
        batch.queue.removeFirst(chunk.count)
        var commands: [RESPCommand] = []
        commands.reserveCapacity(chunk.count)
        for entry in chunk {
            if case .command(let command) = entry.item { commands.append(command) }
        }
        batch.inFlight.append(InFlightChunk(entries: chunk, connection: connection, replies: connection.submit(commands)))
    }

    /// Prints the oldest chunk's replies. Lines the server never saw (a dropped
    /// connection) go back to the front of the queue for the new master; a line in
    /// flight at the drop gets one in-doubt error line and is not run again.
    /// False when Ctrl-C abandoned the batch.
    private func collectOldestChunk() async -> Bool {
        let chunk = batch.inFlight.removeFirst()
        let (results, interrupted) = await runInterruptibly { await Self.replies(of: chunk) }
        if interrupted { batch.abandoned = true }
        let prompt = batch.echo ? await prompt() : ""
        var out: [UInt8] = []
        var replies = results[...]
        for position in chunk.entries.indices {
            let entry = chunk.entries[position]
            appendEcho(prompt, entry, into: &out)
            guard case .command(let command) = entry.item else {
                if case .output(let text) = entry.item { out += Array(text.utf8) }
                continue
            }
            // After a drop, later replies of the window come from a connection that is
            // no longer the session's: they tell about its blocks, not the session's state.
            let onSession = isSessionConnection(chunk.connection)
            switch replies.removeFirst() {
            case .success(let reply):
                let inTransactionThere = onSession ? inTransaction : lostBlock == .transaction
                if let message = reply.errorMessage, message.hasPrefix("READONLY"), !inTransactionThere {
                    // The write was refused, so it did not run: run it alone on the new master,
                    // once the chunks behind it have their replies from the old one.
                    // (Inside MULTI the refusal stands: EXEC will abort the transaction.)
                    await settleWindow()
                    if onSession { await dropSessionConnection(error: message) }
                    if batch.abandoned {
                        out += Array("(interrupted)\n".utf8)
                        await reportAbandoned(unanswered: replies, out: out)
                        return false
                    }
                    out += lostBlock == .transaction ? errorLine(LostBlock(command: command.name)) : await runAlone(command)
                    if batch.abandoned {
                        await reportAbandoned(unanswered: replies, out: out)
                        return false
                    }
                } else {
                    if onSession { trackState(command, reply) } else { followLostBlock(command, ran: !reply.isError) }
                    appendRendered(reply, command, into: &out)
                }
            case .failure where batch.abandoned:
                await dropSessionConnection(error: "interrupted")
                out += Array("(interrupted)\n".utf8)
                await reportAbandoned(unanswered: replies, out: out)
                return false
            case .failure(SentinelClientError.commandNotSent):
                output.write(out)
                await requeueNeverSent(from: chunk.entries[position...], onSession: onSession)
                return true
            case .failure(let error):
                // In doubt: a MULTI or WATCH may have run, an EXEC may have ended its block.
                if onSession { await dropSessionConnection(error: "\(error)") }
                followLostBlock(command, ran: true)
                out += errorLine(error)
            }
        }
        output.write(out)
        return true
    }

    private static func replies(of chunk: InFlightChunk) async -> [Result<RESPValue, Error>] {
        await withTaskCancellationHandler {
            (try? await chunk.replies.get()) ?? []
        } onCancel: {
            chunk.connection.close(reason: "interrupted")
        }
    }

    /// Waits until every chunk in flight has its replies (or errors), so that
    /// dropping their connection changes none of them.
    private func settleWindow() async {
        for chunk in batch.inFlight { _ = await Self.replies(of: chunk) }
    }

    /// `entries` were never written, nor was anything written after them on that
    /// connection (writes leave in order, and the window holds one connection): all
    /// of it goes out again, first.
    private func requeueNeverSent(from entries: ArraySlice<BatchEntry>, onSession: Bool) async {
        await settleWindow()
        var resend = Array(entries)
        resend[0].shown = resend[0].shown || batch.echo  // its line is on the screen already
        for chunk in batch.inFlight { resend += chunk.entries }
        batch.inFlight.removeAll()
        batch.queue.prepend(contentsOf: resend)
        if onSession { await dropSessionConnection(error: "connection lost before the command was sent") }
        await client.reconcile(reason: "a batch lost its connection")
        if batch.echo { output.write("-- resending from this line on the new master\n") }
    }

    /// Ctrl-C: says how many later lines of the batch may have run (written, no
    /// reply) and how many surely did not, and forgets them.
    private func reportAbandoned(unanswered: ArraySlice<Result<RESPValue, Error>>, out: [UInt8]) async {
        var unanswered = Array(unanswered)
        for chunk in batch.inFlight { unanswered += await Self.replies(of: chunk) }
        let answered = unanswered.count { if case .success = $0 { true } else { false } }
        let inDoubt = unanswered.count { if case .failure(SentinelClientError.commandInDoubt) = $0 { true } else { false } }
        let notRun = unanswered.count - answered - inDoubt + batch.queue.count(where: \.isCommand)
        var out = out
        if answered > 0 { out += Array("-- \(answered) later line(s) got replies that are not shown\n".utf8) }
        if inDoubt > 0 {
            out += Array("-- \(inDoubt) later line(s) were sent and got no reply: they may or may not have run\n".utf8)
        }
        if notRun > 0 { out += Array("-- \(notRun) later line(s) of the batch were not run\n".utf8) }
        let discarded = discardTypeahead()
        if discarded > 0 { out += Array("-- \(discarded) more line(s) typed or pasted meanwhile were discarded\n".utf8) }
        output.write(out)
        batch.inFlight.removeAll()
        batch.queue = []
    }

    // MARK: Lost MULTI and WATCH blocks

    /// What the commands of a connection that is no longer the session's did to its
    /// blocks (`ran`: it may have run): a MULTI or WATCH there opens a block that the
    /// following lines must not continue elsewhere; an EXEC, DISCARD... ends it.
    private func followLostBlock(_ command: RESPCommand, ran: Bool) {
        switch command.name {
        case "MULTI" where ran: lostBlock = .transaction
        case "WATCH" where ran: lostBlock = lostBlock ?? .watch
        case let name: endLostBlock(by: name)
        }
    }

    private func endLostBlock(by name: String) {
        switch name {
        case "EXEC", "DISCARD", "RESET": lostBlock = nil
        case "UNWATCH" where lostBlock == .watch: lostBlock = nil  // inside MULTI it is only queued
        default: break
        }
    }

    /// Lines of a transaction whose connection was lost are not run on another: each
    /// says so, up to and including the EXEC or DISCARD that closes it. Running them
    /// elsewhere would run its commands one by one. After a lost WATCH, ordinary lines
    /// run, but its MULTI ... EXEC does not (it would run without the WATCH). Looks at
    /// the lines about to be written only.
    private func skipRestOfLostBlock() {
        var index = batch.queue.startIndex
        let end = min(batch.queue.endIndex, index + BatchState.chunkSize)
        while let kind = lostBlock, index < end {
            if case .command(let command) = batch.queue[index].item {
                let name = command.name
                switch (kind, name) {
                case (.watch, "UNWATCH"), (.watch, "RESET"):
                    lostBlock = nil  // the lost WATCH is let go: nothing depended on it
                case (.watch, "MULTI"), (.watch, "EXEC"), (.watch, "DISCARD"), (.transaction, _):
                    batch.queue[index].item = .output(String(decoding: errorLine(LostBlock(command: name)), as: UTF8.self))
                    if name == "MULTI" { lostBlock = .transaction } else { endLostBlock(by: name) }
                default:
                    break
                }
            }
            index += 1
        }
    }

    private func appendEcho(_ prompt: String, _ entry: BatchEntry, into out: inout [UInt8]) {
        guard batch.echo, !entry.shown else { return }
        out += Array(prompt.utf8)
        out += entry.line
        out.append(10)
    }

    /// A refused write, alone on the new master; Ctrl-C abandons it.
    private func runAlone(_ command: RESPCommand) async -> [UInt8] {
        let (outcome, interrupted) = await runInterruptibly { [client, reselectIfNeeded] in
            do {
                return Result<(RESPValue, LeasedConnection), Error>.success(
                    try await client.send(command, on: nil, prepare: reselectIfNeeded))
            } catch {
                return .failure(error)
            }
        }
        switch outcome {
        case .success(let (reply, lease)):
            adoptSessionLease(lease)
            trackState(command, reply)
            var out: [UInt8] = []
            appendRendered(reply, command, into: &out)
            return out
        case .failure where interrupted:
            batch.abandoned = true
            return Array("(interrupted)\n".utf8)
        case .failure(let error):
            return errorLine(error)
        }
    }
}

/// A line of a MULTI or WATCH block whose connection was lost.
struct LostBlock: Error, CustomStringConvertible {
    enum Kind: Sendable { case transaction, watch }
    var command: String
    var description: String {
        "\(command) was not run: the MULTI or WATCH block it belongs to was lost with its connection"
    }
}

import RESP
import SentinelClient

/// The batch pipeline: performs what its `BatchStateMachine` decides (connections,
/// writes, replies, output) for a host session. Confined to the host's actor, which
/// every call is handed as `host`; it keeps no reference to it.
final class BatchPipeline {
    typealias Machine = BatchStateMachine<RedisConnection, PendingReplies>
    private var machine = Machine()

    /// Lines of a batch run now (a failover report counts them as waiting).
    var isRunning: Bool { machine.running }

    /// Ctrl-C: the batch running now, if any, is abandoned.
    func interrupt() {
        machine.interrupt()
    }

    /// Runs `lines`; returns true when one of them asked to quit (the rest is not run).
    /// With `echo`, each line is printed after the prompt before its reply, as if typed.
    /// With `more`, the last chunks may stay in flight: more lines follow (stdin);
    /// call `finish` at the end.
    func run<Host: BatchHost>(
        _ lines: [SplitLine], echo: Bool, firstShown: Bool = false, more: Bool = false, host: isolated Host
    ) async -> Bool {
        machine.begin(echo: echo, lines: lines.count)
        for (index, line) in lines.enumerated() {
            let shown = !echo || (firstShown && index == 0)
            if machine.enqueue(line, shown: shown) {
                // A full chunk goes out now: the server runs it while the next lines are split.
                if machine.hasFullChunk, !(await pump(untilIdle: false, host: host)) {
                    reportNotRun(lines[(index + 1)...], host: host)
                    return false
                }
                continue
            }
            guard await pump(untilIdle: true, host: host) else {
                reportNotRun(lines[index...], host: host)
                return false
            }
            if !shown { await host.echo(line.bytes) }
            if await host.runLine(line) { return true }
        }
        _ = await pump(untilIdle: !more, host: host)
        return false
    }

    /// Ctrl-C abandoned the batch before `lines` were queued.
    private func reportNotRun<Host: BatchHost>(_ lines: ArraySlice<SplitLine>, host: isolated Host) {
        let unqueued = lines.count { !$0.isBlank }
        host.output.write("-- \(unqueued) more line(s) of the batch were not run\n")
    }

    /// Waits for every line still in flight and prints its reply.
    func finish<Host: BatchHost>(host: isolated Host) async {
        _ = await pump(untilIdle: true, host: host)
    }

    // MARK: The window

    /// Writes queued lines and prints replies until the queue is empty (and, with
    /// `untilIdle`, nothing is in flight). False when Ctrl-C abandoned the batch.
    private func pump<Host: BatchHost>(untilIdle: Bool, host: isolated Host) async -> Bool {
        machine.pumpStarted()
        defer { machine.pumpEnded() }
        while true {
            switch machine.nextStep(untilIdle: untilIdle) {
            case .idle:
                return true
            case .reportAbandoned:
                await reportAbandoned(unanswered: [], out: Session.interruptedLine, host: host)
                return false
            case .collect(let dropping):
                if dropping { await host.dropSessionConnection(error: "interrupted") }
                guard await collectOldestChunk(host: host) else { return false }
            case .write(let inFlightOn):
                if let connection = await connectionForNextChunk(after: inFlightOn, host: host) {
                    // Ctrl-C while waiting for a master: nothing more goes out.
                    if !machine.abandoned { writeNextChunk(on: connection, host: host) }
                } else if !machine.inFlight.isEmpty {
                    guard await collectOldestChunk(host: host) else { return false }
                }
            }
        }
    }

    /// The connection the next chunk goes to: the one chunks are in flight on while it
    /// is still the session's (nil: collect them first; the window never spans two
    /// connections), else the session connection, new if need be. When there is none,
    /// every queued line says so (nil).
    private func connectionForNextChunk<Host: BatchHost>(after inFlightOn: RedisConnection?, host: isolated Host) async -> RedisConnection? {
        if let inFlightOn {
            return await host.usableSessionConnection() === inFlightOn ? inFlightOn : nil
        }
        // Waiting for a master (a failover) can take a while: Ctrl-C ends the wait.
        let (outcome, interrupted) = await host.runInterruptibly { [host] () -> Result<RedisConnection, Error> in
            do { return .success(try await host.sessionConnection()) } catch { return .failure(error) }
        }
        if interrupted {
            machine.interrupt()
            return nil
        }
        switch outcome {
        case .success(let connection):
            return connection
        case .failure(let error):
            let prompt = machine.echo ? Array(await host.prompt().utf8) : []
            var out: [UInt8] = []
            for entry in machine.connectionFailed() {
                appendEcho(prompt, entry, into: &out)
                if case .output(let text) = entry.item { out += Array(text.utf8) } else { out += host.errorLine(error) }
            }
            host.output.write(out)
            return nil
        }
    }

    private func writeNextChunk<Host: BatchHost>(on connection: RedisConnection, host: isolated Host) {
        let commands = host.withConnectionState { machine.takeChunk(on: connection, blocks: &$0) }
        machine.written(connection.submit(commands))
    }

    /// Prints the oldest chunk's replies. Lines the server never saw (a dropped
    /// connection) go back to the front of the queue for the new master; a line in
    /// flight at the drop gets one in-doubt error line and is not run again.
    /// False when Ctrl-C abandoned the batch.
    private func collectOldestChunk<Host: BatchHost>(host: isolated Host) async -> Bool {
        let chunk = machine.takeOldestChunk()
        let (results, interrupted) = await host.runInterruptibly { await Self.replies(of: chunk) }
        if interrupted { machine.interrupt() }
        // As bytes once, not once per echoed line.
        var prompt = machine.echo ? Array(await host.prompt().utf8) : []
        var out: [UInt8] = []
        var next = 0  // the reply of the next line that was sent
        // Where the session is (master or replica) changes only by a line that runs alone.
        let redirectsRefusedWrites = host.redirectsRefusedWrites
        for (position, entry) in chunk.entries.enumerated() {
            appendEcho(prompt, entry, into: &out)
            // After a drop, later replies of the window come from a connection that is
            // no longer the session's: they tell about its blocks, not the session's state.
            let onSession = host.isSessionConnection(chunk.connection)
            let answer = Machine.answer(for: entry, in: results, next: &next)
            let outcome = Machine.outcome(
                of: entry, answer, abandoned: machine.abandoned, redirectsRefusedWrites: redirectsRefusedWrites)
            switch outcome {
            case .nothing:
                continue
            case .text:
                if case .output(let text) = entry.item { out += Array(text.utf8) }
            case .lostBlock:
                out += host.errorLine(LostBlock(command: entry.command?.name ?? ""))
            case .reply:
                guard case .command(let command) = entry.item, case .success(let reply)? = answer else { Self.mismatch(outcome) }
                // The transcript shows the prompt a person would have seen: (TX), [db].
                if onSession, host.track(command, reply), machine.echo { prompt = Array(await host.prompt().utf8) }
                host.appendRendered(reply, command, into: &out)
            case .runAlone(let message):
                guard case .command(let command) = entry.item else { Self.mismatch(outcome) }
                out += await rerunRefused(command, message: message, onSession: onSession, host: host)
                if machine.abandoned {
                    await reportAbandoned(unanswered: Array(results[next...]), out: out, host: host)
                    return false
                }
            case .interrupted:
                await host.dropSessionConnection(error: "interrupted")
                out += Session.interruptedLine
                await reportAbandoned(unanswered: Array(results[next...]), out: out, host: host)
                return false
            case .resendFromHere:
                host.output.write(out)
                await resendNeverSent(from: position, of: chunk, onSession: onSession, host: host)
                return true
            case .failed:
                guard case .failure(let error)? = answer else { Self.mismatch(outcome) }
                if onSession { await host.dropSessionConnection(error: "\(error)") }
                out += host.errorLine(error)
            }
        }
        host.output.write(out)
        return true
    }

    /// `BatchStateMachine.outcome` decides from the line and its reply: they match it.
    private static func mismatch(_ outcome: BatchOutcome) -> Never {
        preconditionFailure("outcome \(outcome) does not match its line and reply")
    }

    /// A write a demoted master refused (READONLY) did not run: it runs alone on the
    /// new master, once the chunks behind it have their replies from the old one.
    private func rerunRefused<Host: BatchHost>(
        _ command: RESPCommand, message: String, onSession: Bool, host: isolated Host
    ) async -> [UInt8] {
        await settleWindow()
        if onSession { await host.dropSessionConnection(error: message) }
        if machine.abandoned { return Session.interruptedLine }
        // On the session connection once there is one for it: a window of refused
        // writes does not open a connection each.
        switch await host.sendOnSession(command) {
        case (.success(let reply), _):
            var out: [UInt8] = []
            host.appendRendered(reply, command, into: &out)
            return out
        case (.failure, true):
            machine.interrupt()
            return Session.interruptedLine
        case (.failure(let error), false):
            return host.errorLine(error)
        }
    }

    private static func replies(of chunk: Machine.Chunk) async -> [Result<RESPValue, SentinelClientError>] {
        await chunk.replies.get(cancelReason: "interrupted")
    }

    /// Waits until every chunk in flight has its replies (or errors), so that
    /// dropping their connection changes none of them.
    private nonisolated(nonsending) func settleWindow() async {
        for chunk in machine.inFlight { _ = await Self.replies(of: chunk) }
    }

    private func resendNeverSent<Host: BatchHost>(
        from position: Int, of chunk: Machine.Chunk, onSession: Bool, host: isolated Host
    ) async {
        await settleWindow()
        host.withConnectionState { machine.resend(from: position, of: chunk, blocks: &$0) }
        if onSession { await host.dropSessionConnection(error: "connection lost before the command was sent") }
        await host.reconcile(reason: "a batch lost its connection")
        if machine.echo { host.output.write("-- resending from this line on the new master\n") }
    }

    /// Ctrl-C: says how many later lines of the batch may have run (written, no
    /// reply) and how many surely did not, and forgets them.
    private func reportAbandoned<Host: BatchHost>(
        unanswered: [Result<RESPValue, SentinelClientError>], out: [UInt8], host: isolated Host
    ) async {
        var unanswered = unanswered
        for chunk in machine.inFlight { unanswered += await Self.replies(of: chunk) }
        let report = host.withConnectionState { machine.abandon(unanswered: unanswered, blocks: &$0) }
        var out = out + Array(report.lines.utf8)
        let discarded = await host.discardTypeahead()
        if discarded > 0 { out += Array("-- \(discarded) more line(s) typed or pasted meanwhile were discarded\n".utf8) }
        host.output.write(out)
    }

    private func appendEcho(_ prompt: [UInt8], _ entry: BatchEntry, into out: inout [UInt8]) {
        guard machine.echo, !entry.shown else { return }
        out += prompt
        out += entry.line
        out.append(10)
    }
}

import NIOCore
import RESP
import SentinelClient

/// Pasted or piped lines: every line runs exactly once, in order, pipelined on
/// the session connection, and yields exactly one reply or one error line.
extension Session {
    /// One line of a batch, classified.
    enum BatchLine {
        case command(RESPCommand)
        /// Printed at its place without running anything (a split error).
        case output(String)
        /// Runs alone, after every reply before it (meta-commands, SUBSCRIBE, help, quit).
        case barrier
    }

    /// Runs `lines`; returns true when one of them asked to quit (the rest is not run).
    /// With `echo`, each line is printed after the prompt before its reply, as if typed.
    func runBatch(_ lines: [[UInt8]], echo: Bool, firstShown: Bool = false) async -> Bool {
        var run: [(line: [UInt8], item: BatchLine, shown: Bool)] = []
        for (index, line) in lines.enumerated() {
            let shown = !echo || (firstShown && index == 0)
            if Self.isBlank(line) {
                if !shown { output.write(await prompt() + "\n") }
                continue
            }
            let item = Self.classify(line)
            if case .barrier = item {
                await flush(run, echo: echo)
                run.removeAll()
                if !shown { output.write(await prompt() + String(decoding: line, as: UTF8.self) + "\n") }
                if await runLine(line) { return true }
            } else {
                run.append((line, item, shown))
            }
        }
        await flush(run, echo: echo)
        return false
    }

    static func isBlank(_ line: [UInt8]) -> Bool {
        line.allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 }
    }

    static func classify(_ line: [UInt8]) -> BatchLine {
        guard let words = try? CommandLineSplitter.split(line) else { return .output("Invalid argument(s)\n") }
        guard let first = words.first else { return .barrier }
        // Barriers are short names; a long first word is an ordinary command.
        if first.count <= 11 {
            let name = String(decoding: first, as: UTF8.self).lowercased()
            if name.hasPrefix(":") || name == "quit" || name == "exit" || name == "help"
                || CommandPolicy.isStreaming(name.uppercased())
            {
                return .barrier
            }
        }
        return .command(RESPCommand(arguments: words))
    }

    /// Writes every command of `run` in one flush on the session connection, then
    /// prints the replies in order. Lines the server never saw (a dropped connection,
    /// a demoted master) are sent again on the new master; a line in flight at the
    /// drop gets one in-doubt error line and is not run again.
    private func flush(_ run: [(line: [UInt8], item: BatchLine, shown: Bool)], echo: Bool) async {
        guard !run.isEmpty else { return }
        var run = run
        let prompt = echo ? await prompt() : ""
        var out: [UInt8] = []
        out.reserveCapacity(run.count * 16)
        var index = 0
        while index < run.count {
            let connection: RedisConnection
            do {
                connection = try await sessionConnection()
            } catch {
                // No master within the wait: every remaining line says so, none runs.
                for entry in run[index...] {
                    appendEcho(prompt, entry.line, !entry.shown, into: &out)
                    if case .output(let text) = entry.item { out += Array(text.utf8) } else { out += errorLine(error) }
                }
                output.write(out)
                return
            }
            let commands = run[index...].compactMap { entry -> RESPCommand? in
                if case .command(let command) = entry.item { return command } else { return nil }
            }
            let (replies, interrupted) = await runInterruptibly { await connection.pipeline(commands) }
            var results = replies[...]
            var resendFrom: Int?
            for position in index..<run.count {
                let entry = run[position]
                appendEcho(prompt, entry.line, !entry.shown, into: &out)
                guard case .command(let command) = entry.item else {
                    if case .output(let text) = entry.item { out += Array(text.utf8) }
                    continue
                }
                switch results.removeFirst() {
                case .success(let reply):
                    if let message = reply.errorMessage, message.hasPrefix("READONLY") {
                        // The write was refused, so it did not run: run it alone on the new master.
                        await dropSessionConnection(error: message)
                        out += await runAlone(command)
                    } else {
                        trackState(command, reply)
                        out += renderBatch(reply, command)
                    }
                case .failure where interrupted:
                    // Ctrl-C: this line was abandoned; the lines after it are not run.
                    await dropSessionConnection(error: "interrupted")
                    out += Array("(interrupted)\n".utf8)
                    let skipped = run[(position + 1)...].filter { if case .command = $0.item { return true } else { return false } }.count
                    if skipped > 0 { out += Array("-- \(skipped) later line(s) of the batch were not run\n".utf8) }
                    output.write(out)
                    return
                case .failure(SentinelClientError.commandNotSent):
                    resendFrom = position
                case .failure(let error):
                    await dropSessionConnection(error: "\(error)")
                    out += errorLine(error)
                }
                if resendFrom != nil { break }
                if out.count > 65536 {
                    output.write(out)
                    out.removeAll(keepingCapacity: true)
                }
            }
            output.write(out)
            out.removeAll(keepingCapacity: true)
            guard let resendFrom else { return }
            // Not sent: the echo for this line was written; it goes out again below.
            await dropSessionConnection(error: "connection lost before the command was sent")
            await client.reconcile(reason: "a batch lost its connection")
            index = resendFrom
            run[resendFrom].shown = true  // its line is on the screen already
            if echo { out = Array("-- resending from this line on the new master\n".utf8) }
        }
    }

    private func appendEcho(_ prompt: String, _ line: [UInt8], _ echo: Bool, into out: inout [UInt8]) {
        guard echo else { return }
        out += Array(prompt.utf8) + line + [10]
    }

    private func runAlone(_ command: RESPCommand) async -> [UInt8] {
        do {
            let (reply, lease) = try await client.send(command, on: nil, prepare: reselectIfNeeded)
            adoptSessionLease(lease)
            trackState(command, reply)
            return renderBatch(reply, command)
        } catch {
            return errorLine(error)
        }
    }
}

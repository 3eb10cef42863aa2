import RESP

/// Where lines come from: one command on the command line, lines of a stdin
/// that is not a terminal, or the prompt. Each mode hands lines and batches to
/// the session (whose actor it runs on) and returns the exit status once the
/// session has given its connection back.
enum InputDriver {
    /// One command from the command line, `repeat` times (`-r`; negative: until Ctrl-C).
    static func oneShot(_ arguments: [String], repeat count: Int, session: isolated Session) async -> Int32 {
        await withEventsOnStderr(session) {
            await session.repeatCommand(RESPCommand(strings: arguments), times: count, line: arguments.joined(separator: " "))
        }
        await session.pinned.release(healthy: true)
        return session.exitStatus
    }

    /// Lines from a stdin that is not a terminal: one reply each, in order, pipelined.
    static func lines(from source: LineSource, session: isolated Session) async -> Int32 {
        await withEventsOnStderr(session) { await runLines(from: source, session: session) }
        source.close()
        await session.pinned.release(healthy: true)
        return session.exitStatus
    }

    /// `--events` outside the prompt: the notices go to stderr while `body` runs.
    private static func withEventsOnStderr(_ session: isolated Session, _ body: () async -> Void) async {
        guard session.options.eventsOnStderr else { return await body() }
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await session.followEvents() }
            await body()
            tasks.cancelAll()
        }
    }

    private static func runLines(from source: LineSource, session: isolated Session) async {
        loop: while true {
            let lines: [[UInt8]]
            switch source.nextIfReady() {
            case .items(let ready): lines = ready
            case .finished: break loop
            case .nothingYet:
                // Input pauses: every reply goes out before waiting (a driver may wait for it).
                await session.pipeline.finish(host: session)
                guard let next = await source.next() else { break loop }
                lines = next
            }
            if await session.pipeline.run(lines.map(SplitLine.init), echo: false, more: true, host: session) { break }
        }
        await session.pipeline.finish(host: session)
    }

    /// The prompt. Returns when the person quits or a signal asks to stop, once the
    /// tasks it started (events, command docs) have ended: nothing of the session
    /// touches the editor after this returns.
    static func interactive(editor: LineEditor, historyFile: String?, session: isolated Session) async -> Int32 {
        session.attach(editor)
        if let historyFile { editor.loadHistory(from: historyFile) }
        let status = await withTaskGroup(of: Void.self) { tasks -> Int32 in
            tasks.addTask { await session.followEvents() }
            tasks.addTask { await session.loadCommandDocs() }
            tasks.addTask { await session.loadDangerousCommands() }
            tasks.addTask { await session.keyCompleter.run(client: session.client) }
            let status = await readEvalPrintLoop(editor, session: session)
            tasks.cancelAll()
            return status
        }
        await session.pinned.release(healthy: true)
        return status
    }

    private static func readEvalPrintLoop(_ editor: LineEditor, session: isolated Session) async -> Int32 {
        await session.refreshPrompt()
        while true {
            switch await editor.readLine() {
            case .endOfInput:
                return 0
            case .interrupted:
                continue
            case .batch(let batch, let firstShown):
                let lines = batch.map(SplitLine.init)
                editor.addHistory(lines.compactMap(historyEntry))
                if lines.count == 1 {
                    // One line typed ahead: run it as if typed now (interruptible, shown first).
                    if !firstShown { await session.echo(batch[0]) }
                    guard await session.confirmed(lines) else { continue }
                    if await session.runLine(lines[0]) { return 0 }
                    session.typedLineRan()
                } else if await session.confirmed(lines) {
                    if await session.pipeline.run(lines, echo: true, firstShown: firstShown, host: session) { return 0 }
                }
                await session.refreshPrompt()
            case .line(let text):
                let line = SplitLine(Array(Array(text.utf8).trimmingSpaces))
                guard !line.bytes.isEmpty else { continue }
                editor.addHistory(historyEntry(line).map { [$0] } ?? [])
                guard await session.confirmed([line]) else { continue }
                if await session.runLine(line) { return 0 }
                session.typedLineRan()
                await session.refreshPrompt()
            }
        }
    }

    /// What history takes of a line, typed or pasted: nothing if it is blank, carries a
    /// secret (AUTH, ...), or cannot be split (it might carry one: `AUTH "pass`).
    private static func historyEntry(_ line: SplitLine) -> String? {
        guard let command = line.command, !command.isEmpty, !CommandClassifier.isSecret(command) else { return nil }
        return String(decoding: line.bytes.trimmingSpaces, as: UTF8.self)
    }
}

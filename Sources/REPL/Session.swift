import NIOCore
import RESP
import SentinelClient
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

public struct SessionOptions: Sendable {
    public var masterName: String
    public var database: Int
    public var mode: ReplyRenderer.Mode
    /// nil: no history file.
    public var historyFile: String?
    /// `-e`: exit 1 when a command got an error reply (non-interactive modes).
    public var exitOnErrorReply = false

    public init(masterName: String, database: Int, mode: ReplyRenderer.Mode, historyFile: String?) {
        self.masterName = masterName
        self.database = database
        self.mode = mode
        self.historyFile = historyFile
    }
}

/// The REPL: reads lines, runs them on a pinned session connection through the
/// Sentinel-aware client, renders replies as redis-cli does, and shows topology
/// changes as they happen. One actor owns the session state.
public actor Session {
    let client: SentinelClient
    let options: SessionOptions
    public nonisolated let output = TerminalOutput()
    static let standardError = TerminalOutput(fd: 2)
    private var editor: LineEditor?
    private var lease: LeasedConnection?
    private var database: Int
    private(set) var inTransaction = false
    private(set) var watching = false
    private var failoverUnderWay = false
    private var masterReachable = true
    /// Cancels the command that runs now; set while one runs.
    private var cancelCurrent: (@Sendable () -> Void)?
    private var interruptRequested = false
    /// Replaced by the server's COMMAND DOCS once they arrive; TAB reads it from the editor thread.
    private nonisolated let sharedTable = SharedCommandTable()
    private var sawErrorReply = false
    var batch = BatchState()

    public init(client: SentinelClient, options: SessionOptions) {
        self.client = client
        self.options = options
        self.database = options.database
    }

    // MARK: Modes

    /// One command from the command line.
    public func runOneShot(_ arguments: [String]) async -> Int32 {
        await execute(arguments.map { Array($0.utf8) }, line: arguments.joined(separator: " "))
        await releaseSession()
        return options.exitOnErrorReply && sawErrorReply ? 1 : 0
    }

    /// Lines from a stdin that is not a terminal: one reply each, in order, pipelined.
    public func runLines(_ source: LineSource) async -> Int32 {
        loop: while true {
            let lines: [[UInt8]]
            switch source.nextIfReady() {
            case .lines(let ready): lines = ready
            case .finished: break loop
            case .nothingYet:
                // Input pauses: every reply goes out before waiting (a driver may wait for it).
                await finishBatch()
                guard let next = await source.next() else { break loop }
                lines = next
            }
            if await runBatch(lines, echo: false, more: true) { break }
        }
        await finishBatch()
        source.close()
        await releaseSession()
        return options.exitOnErrorReply && sawErrorReply ? 1 : 0
    }

    /// The interactive prompt. Returns when the user quits or a signal asks to stop,
    /// once the tasks it started (events, command docs) have ended: nothing of the
    /// session touches the editor after this returns.
    public func runInteractive(editor: LineEditor) async -> Int32 {
        self.editor = editor
        let status = await withTaskGroup(of: Void.self) { tasks -> Int32 in
            tasks.addTask { await self.followEvents() }
            tasks.addTask { await self.loadCommandDocs() }
            let status = await readEvalPrintLoop(editor)
            tasks.cancelAll()
            return status
        }
        await releaseSession()
        return status
    }

    private func readEvalPrintLoop(_ editor: LineEditor) async -> Int32 {
        await refreshPrompt()
        while true {
            switch await editor.readLine() {
            case .endOfInput:
                return 0
            case .interrupted:
                continue
            case .batch(let lines, let firstShown):
                for line in lines { remember(line, in: editor) }
                if lines.count == 1 {
                    // One line typed ahead: run it as if typed now (interruptible, shown first).
                    if !firstShown { output.write(await prompt() + String(decoding: lines[0], as: UTF8.self) + "\n") }
                    if await runLine(lines[0]) { return 0 }
                    syncOpenBlock()
                } else if await runBatch(lines, echo: true, firstShown: firstShown) {
                    return 0
                }
                await refreshPrompt()
            case .line(let text):
                let line = Array(text.trimmingSpaces.utf8)
                guard !line.isEmpty else { continue }
                remember(line, in: editor)
                if await runLine(line) { return 0 }
                syncOpenBlock()
                await refreshPrompt()
            }
        }
    }

    /// History takes a line, typed or pasted, unless it is blank, carries a secret
    /// (AUTH, ...), or cannot be split (it might carry one: `AUTH "pass`).
    private func remember(_ line: [UInt8], in editor: LineEditor) {
        let text = String(decoding: line, as: UTF8.self).trimmingSpaces
        guard !text.isEmpty, let words = try? CommandLineSplitter.split(Array(text.utf8)), !CommandPolicy.isSecret(words)
        else { return }
        editor.addHistory(text)
    }

    /// After Ctrl-C stopped a paste: the rest of it, still unread, is dropped too.
    func discardTypeahead() async -> Int {
        await editor?.discardTypeahead() ?? 0
    }

    /// Saves history; call after the client's shutdown, before closing the editor.
    public func saveHistory() {
        guard let editor, let file = options.historyFile else { return }
        editor.saveHistory(to: file)
    }

    /// SIGINT while a command runs: abandon it (its connection is discarded).
    public func interrupt() {
        if batch.running { batch.abandoned = true }
        guard let cancelCurrent else { return }
        interruptRequested = true
        cancelCurrent()
    }

    /// Runs `operation` as the current command, so that Ctrl-C can cancel it.
    func runInterruptibly<T: Sendable>(_ operation: @escaping @Sendable () async -> T) async -> (T, interrupted: Bool) {
        let task = Task { await operation() }
        interruptRequested = false
        cancelCurrent = { task.cancel() }
        let value = await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
        cancelCurrent = nil
        defer { interruptRequested = false }
        return (value, interruptRequested)
    }

    // MARK: One line

    /// Runs one line; true when it asked to quit.
    func runLine(_ line: [UInt8]) async -> Bool {
        let words: [[UInt8]]
        do {
            words = try CommandLineSplitter.split(line)
        } catch {
            output.write("Invalid argument(s)\n")
            return false
        }
        guard let first = words.first else { return false }
        let name = String(decoding: first, as: UTF8.self).lowercased()
        if name == "quit" || name == "exit" || name == ":quit" { return true }
        if name.hasPrefix(":") {
            await runMetaCommand(name)
            return false
        }
        if name == "help" && options.mode == .tty {
            showHelp(words.dropFirst().map { String(decoding: $0, as: UTF8.self) })
            return false
        }
        await execute(words, line: String(decoding: line, as: UTF8.self))
        return false
    }

    private func execute(_ words: [[UInt8]], line: String) async {
        let command = RESPCommand(arguments: words)
        if CommandPolicy.isStreaming(command.name) {
            await stream(command)
            return
        }
        let started = NIODeadline.now()
        // MULTI or WATCH state lives on this connection: a command of the transaction
        // (or the MULTI and EXEC that rely on a WATCH) runs there or not at all.
        let stayOnPinned = inTransaction || (watching && ["MULTI", "EXEC"].contains(command.name))
        let (outcome, interrupted) = await sendOnSession(command, stayOnPinned: stayOnPinned)
        switch outcome {
        case .success(let reply):
            render(reply, command)
        case .failure(let error):
            await dropSessionConnection(error: "\(error)")
            if interrupted || error is CancellationError {
                output.write(Self.interruptedLine)
            } else {
                reportError(error)
            }
        }
        let elapsed = NIODeadline.now() - started
        if options.mode == .tty, editor != nil, !interrupted, elapsed >= .milliseconds(500) {
            let seconds = Double(elapsed.nanoseconds) / 1e9
            output.write("(\(Self.twoDecimals(seconds))s)\n")
        }
    }

    /// Sends `command` on the session connection (a new one when it is gone or belongs
    /// to an old master, with SELECT restored), under Ctrl-C, and follows its state.
    func sendOnSession(_ command: RESPCommand, stayOnPinned: Bool = false) async -> (Result<RESPValue, Error>, interrupted: Bool) {
        let (outcome, interrupted) = await runInterruptibly { [client, lease, reselectIfNeeded] () -> Result<(RESPValue, LeasedConnection), Error> in
            do {
                return .success(
                    try await client.execute(command, on: lease, prepare: reselectIfNeeded, stayOnPinned: stayOnPinned))
            } catch {
                return .failure(error)
            }
        }
        switch outcome {
        case .success(let (reply, newLease)):
            noteConnectionChange(from: lease, to: newLease)
            lease = newLease
            trackState(command, reply)
            return (.success(reply), interrupted)
        case .failure(let error):
            return (.failure(error), interrupted)
        }
    }

    private func render(_ reply: RESPValue, _ command: RESPCommand) {
        var out: [UInt8] = []
        appendRendered(reply, command, into: &out)
        output.write(out)
    }

    func appendRendered(_ reply: RESPValue, _ command: RESPCommand, into out: inout [UInt8]) {
        if reply.isError { sawErrorReply = true }
        if options.mode == .tty, CommandPolicy.printsRawOnTTY(command) {
            ReplyRenderer.raw(reply, into: &out)
        } else {
            ReplyRenderer.render(reply, mode: options.mode, into: &out)
        }
    }

    private func reportError(_ error: Error) {
        output.write(errorLine(error))
    }

    func errorLine(_ error: Error) -> [UInt8] {
        sawErrorReply = true
        let text = "\(error)"
        return Array((options.mode == .tty ? "(error) \(text)\n" : "\(text)\n").utf8)
    }

    // MARK: The session connection

    /// The pinned connection, replaced (with SELECT restored) when it is gone or
    /// belongs to a master that is no longer the master.
    func sessionConnection() async throws -> RedisConnection {
        if let current = await currentSessionConnection() { return current }
        let fresh = try await client.lease()
        do {
            try await reselectIfNeeded(fresh.connection)
        } catch {
            await client.release(fresh, healthy: false)
            throw error
        }
        await adoptSessionLease(fresh)
        return fresh.connection
    }

    func isSessionConnection(_ connection: RedisConnection) -> Bool {
        lease?.connection === connection
    }

    /// A typed line ran: the block a later paste continues is the session's own
    /// (the person has seen any notice about a lost one).
    private func syncOpenBlock() {
        guard let connection = lease?.connection, inTransaction || watching else {
            batch.openBlock = nil
            return
        }
        batch.openBlock = OpenBlock(kind: inTransaction ? .transaction : .watch, connection: connection)
    }


    /// The pinned connection if it is usable as it is; nil when it must be replaced.
    func currentSessionConnection() async -> RedisConnection? {
        guard let lease, lease.connection.isActive, lease.generation == (await client.generation) else { return nil }
        return lease.connection
    }

    func adoptSessionLease(_ fresh: LeasedConnection) async {
        if let old = lease, old.connection !== fresh.connection { await client.release(old, healthy: false) }
        noteConnectionChange(from: lease, to: fresh)
        lease = fresh
    }

    func dropSessionConnection(error: String) async {
        if let lease { await client.release(lease, healthy: false, error: error) }
        lease = nil
        dropConnectionState(reason: nil).map(report)
    }

    /// Restores the session's SELECT on a new connection.
    nonisolated var reselectIfNeeded: @Sendable (RedisConnection) async throws -> Void {
        { [weak self] connection in
            guard let self else { return }
            let database = await self.database
            guard database != self.options.database else { return }
            let reply = try await connection.send(RESPCommand("SELECT", String(database)))
            if let message = reply.errorMessage { throw SelectRefused(database: database, message: message) }
        }
    }

    /// SUBSCRIBE and MONITOR: print what the server sends until Ctrl-C, then
    /// discard that connection (it is in subscriber mode for good).
    private func stream(_ command: RESPCommand) async {
        if options.mode == .tty, command.name != "MONITOR" {
            output.write("Reading messages... (press Ctrl-C to quit)\n")
        }
        let (error, interrupted) = await runInterruptibly { [client, options, output] () -> Error? in
            let lease: LeasedConnection
            do { lease = try await client.lease() } catch { return error }
            // In subscriber mode for good: the connection is closed, not reused.
            let error = await Self.printStream(command, on: lease.connection, options: options, to: output)
            await client.release(lease, healthy: false)
            return error
        }
        if interrupted {
            output.write(Self.interruptedLine)
        } else if let error {
            reportError(error)
        }
    }

    private nonisolated static func printStream(
        _ command: RESPCommand, on connection: RedisConnection, options: SessionOptions, to output: TerminalOutput
    ) async -> Error? {
        do {
            if options.database != 0 {
                _ = try await connection.send(RESPCommand("SELECT", String(options.database)))
            }
            for try await message in connection.stream(command) {
                try Task.checkCancellation()
                output.write(renderStreamed(message, mode: options.mode))
            }
            return nil
        } catch {
            return error
        }
    }

    nonisolated static func renderStreamed(_ message: RESPValue, mode: ReplyRenderer.Mode) -> [UInt8] {
        if case .simpleString(let text) = message {
            // MONITOR lines are status replies printed as they are.
            return Array(text.readableBytesView) + [10]
        }
        return ReplyRenderer.render(message, mode: mode)
    }

    // MARK: Connection state

    /// Follows SELECT, MULTI/EXEC/DISCARD, WATCH/UNWATCH and RESET for the prompt and
    /// failovers; true when what the prompt shows (database, transaction) changed.
    @discardableResult
    func trackState(_ command: RESPCommand, _ reply: RESPValue) -> Bool {
        guard let name = Self.stateCommandName(command) else { return false }
        let shown = (database, inTransaction)
        applyState(name, command, reply)
        return shown != (database, inTransaction)
    }

    private func applyState(_ name: String, _ command: RESPCommand, _ reply: RESPValue) {
        guard !reply.isError else {
            if name == "EXEC" { inTransaction = false }
            return
        }
        switch name {
        case "SELECT": database = command.argument(1).flatMap { Int($0) } ?? database
        case "MULTI": inTransaction = true
        case "EXEC", "DISCARD":
            inTransaction = false
            watching = false
        case "WATCH": watching = true
        case "UNWATCH": watching = false
        case "RESET":
            inTransaction = false
            watching = false
            database = 0
        default: break
        }
    }

    /// The upper-cased name of a command that may change connection state (SELECT,
    /// MULTI, EXEC, DISCARD, WATCH, UNWATCH, RESET), or nil; no string for other lines.
    static func stateCommandName(_ command: RESPCommand) -> String? {
        command.arguments.first.flatMap(stateCommandNames.match)
    }

    private static let stateCommandNames = CommandNameSet(["SELECT", "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH", "RESET"])

    /// A command ran on a fresh connection: MULTI and WATCH of the old one are gone.
    private func noteConnectionChange(from old: LeasedConnection?, to new: LeasedConnection) {
        guard let old, old.connection !== new.connection else { return }
        dropConnectionState(reason: "the session connection was replaced").map(report)
    }

    /// Forgets MULTI and WATCH; returns the notice that says so, if there was any.
    private func dropConnectionState(reason: String?) -> String? {
        guard inTransaction || watching else { return nil }
        let lost = [inTransaction ? "MULTI" : nil, watching ? "WATCH" : nil].compactMap { $0 }.joined(separator: " and ")
        inTransaction = false
        watching = false
        return "-- \(lost) state was lost\(reason.map { " (\($0))" } ?? ""): start the transaction again"
    }

    /// Writes a notice between replies. Without a terminal, stdout keeps one reply
    /// per input line: the notice goes to stderr.
    private func report(_ notice: String) {
        (editor == nil ? Self.standardError : output).write(notice + "\n")
    }

    /// Awaited, so the connection is back in the pool before the client shuts down.
    private func releaseSession() async {
        let held = lease
        lease = nil
        if let held { await client.release(held, healthy: true) }
    }

    // MARK: Prompt and events

    func prompt() async -> String {
        let name = options.masterName
        guard masterReachable, let master = await client.master else { return "\(name)@(no master)> " }
        let db = database != 0 ? "[\(database)]" : ""
        let tx = inTransaction ? "(TX)" : ""
        let failover = failoverUnderWay ? " (failover)" : ""
        return "\(name)@\(master.address)\(db)\(tx)\(failover)> "
    }

    private func refreshPrompt(notices: [String] = []) async {
        editor?.setPrompt(await prompt(), notices: notices)
    }

    private func followEvents() async {
        for await event in client.topologyEvents() {
            var lost: String?
            switch event {
            case .masterSwitched(let from, _):
                failoverUnderWay = false
                masterReachable = true
                if from != nil, lease != nil { lost = dropConnectionState(reason: "the master changed") }
            case .masterUnreachable: masterReachable = false
            case .masterReachable: masterReachable = true
            case .failoverStarted: failoverUnderWay = true
            default: break
            }
            // The notices and the prompt they change are drawn together.
            await refreshPrompt(notices: [notice(for: event), lost].compactMap { $0 })
        }
    }

    private func notice(for event: TopologyEvent) -> String? {
        switch event {
        case .masterSwitched(nil, _): return nil
        case .masterSwitched(.some(let from), let to):
            return "-- failover: master of \(options.masterName) moved from \(from) to \(to)"
        case .masterUnreachable(let address, let reason):
            return "-- master \(address.map { "\($0)" } ?? "") unreachable (\(reason)); waiting for Sentinel"
        case .masterReachable(let address): return "-- master \(address) reachable again"
        case .failoverStarted(let master, let sentinel):
            return "-- sentinel \(sentinel) reports a failover of \(master.map { "\($0)" } ?? options.masterName) under way"
        case .sentinelDown(let address): return "-- sentinel \(address) is down"
        case .sentinelUp(let address): return "-- sentinel \(address) is up"
        case .sentinelLearned(let address): return "-- learned of sentinel \(address)"
        }
    }

    private func loadCommandDocs() async {
        guard let reply = try? await client.execute(RESPCommand("COMMAND", "DOCS")),
            let table = CommandTable.parse(reply)
        else { return }
        sharedTable.mutex.withLock { $0 = table }
    }

    /// For TAB, called on the editor thread: reads the shared table.
    public nonisolated func completer() -> @Sendable (String) -> Completion {
        let table = sharedTable
        return { text in table.mutex.withLock { $0.complete(text) } }
    }

    private func showHelp(_ words: [String]) {
        if words.isEmpty {
            output.write(
                "sentinel-repl: redis-cli commands run on the master Sentinel names.\n"
                    + "Type \"help <command>\" for a command, \":help\" for the meta-commands.\n")
        } else if let text = sharedTable.mutex.withLock({ $0.help(words) }) {
            output.write(text)
        } else {
            output.write("No help for \(words.joined(separator: " ")) (help needs COMMAND DOCS from Redis 7).\n")
        }
    }

    static func twoDecimals(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

/// The session's database could not be selected on a new connection.
struct SelectRefused: Error, CustomStringConvertible {
    var database: Int
    var message: String
    var description: String { "SELECT \(database) was refused (\(message))" }
}

final class SharedCommandTable: Sendable {
    let mutex = Mutex(CommandTable.builtIn)
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}

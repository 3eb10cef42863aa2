import NIOCore
import RESP
import SentinelClient
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// The REPL: reads lines, runs them on a pinned session connection through the
/// Sentinel-aware client, renders replies as redis-cli does, and shows topology
/// changes as they happen. One actor owns the session state.
package actor Session: BatchHost {
    let client: SentinelClient
    let options: SessionOptions
    package nonisolated let output = TerminalOutput()
    static let standardError = TerminalOutput(fd: 2)
    private(set) var editor: LineEditor?
    /// The pinned connection, its database and MULTI/WATCH: owned there, confined here.
    let pinned: SessionConnection
    private var failoverUnderWay = false
    /// `:events on|raw|off`: Sentinel's events told in plain words, raw, or not at all.
    var narrator: FailoverNarrator
    /// The outage around a failover, for its summary line.
    private var failover = FailoverReport()
    /// Commands sent one at a time and not answered yet (a batch counts as under way while it runs).
    private var commandsUnderWay = 0
    /// Ctrl-C for the command that runs now.
    private var interruption = Interruption()
    /// Replaced by the server's COMMAND DOCS once they arrive; TAB reads it from the editor thread.
    private nonisolated let sharedTable = SharedCommandTable()
    /// Key names for TAB at the prompt.
    nonisolated let keyCompleter = KeyCompleter()
    private var sawErrorReply = false
    /// A command got no reply (in doubt, not run, a malformed reply, no master).
    private var sawMissingReply = false
    /// Outside the prompt the READONLY hint is given once (on stderr).
    private var readOnlyHintGiven = false
    /// `:safe on|off`: dangerous commands ask first at the prompt (off with `--yes`).
    var safe: Bool
    /// Which commands ask first: the server's `@dangerous` `@write` ones once `COMMAND` answers.
    var dangerous = DangerousCommands()
    /// The question that takes the next line, while one is asked: prompt refreshes keep it.
    var askingPrompt: String?
    /// Pasted and piped lines: owned there, confined here.
    let pipeline = BatchPipeline()
    /// How prompts, notices and streamed messages look: pure functions of values.
    let presentation: SessionPresentation

    package init(client: SentinelClient, options: SessionOptions) {
        self.client = client
        self.options = options
        pinned = SessionConnection(client: client, database: options.database)
        narrator = FailoverNarrator(style: options.eventStyle, presentation: SessionPresentation(masterName: options.masterName))
        safe = options.confirmDangerous
        presentation = SessionPresentation(masterName: options.masterName, label: options.promptLabel)
    }

    /// The editor while the prompt runs: notices and the prompt are drawn through it.
    func attach(_ editor: LineEditor) {
        self.editor = editor
    }

    /// The exit status of a non-interactive mode: 1 when a command got no reply (redis-cli's
    /// one-shot exit); with `-e`, also when one got an error reply.
    var exitStatus: Int32 {
        sawMissingReply || (options.exitOnErrorReply && sawErrorReply) ? 1 : 0
    }

    /// Typed and shown at the prompt: the line and its prompt, for a line that ran
    /// without being edited (typed ahead).
    func echo(_ line: [UInt8]) async {
        output.write(await prompt() + String(decoding: line, as: UTF8.self) + "\n")
    }

    /// A typed line ran and was answered: a later paste continues the block the session holds.
    func typedLineRan() {
        pinned.writeAfterReplies()
    }

    /// After Ctrl-C stopped a paste: the rest of it, still unread, is dropped too.
    func discardTypeahead() async -> Int {
        await editor?.discardTypeahead() ?? 0
    }

    /// SIGINT while a command runs: abandon it (its connection is discarded).
    package func interrupt() {
        pipeline.interrupt()
        interruption.request()
    }

    /// Runs `operation` as the current command, so that Ctrl-C can cancel it.
    func runInterruptibly<T: Sendable>(_ operation: @escaping @Sendable () async -> T) async -> (T, interrupted: Bool) {
        let task = Task { await operation() }
        interruption.begin { task.cancel() }
        let value = await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
        return (value, interruption.end())
    }

    // MARK: One line

    /// Runs one line; true when it asked to quit.
    func runLine(_ line: SplitLine) async -> Bool {
        guard let words = line.command else {
            output.write("Invalid argument(s)\n")
            return false
        }
        switch RepeatPrefix(words) {
        case .none: break
        case .invalid:
            output.write("Invalid redis-cli repeat command option value.\n")
            return false
        case .times(let count):
            await repeatCommand(words.droppingFirst(), times: count, line: String(decoding: line.bytes, as: UTF8.self))
            return false
        }
        guard let first = words.first else { return false }
        let arguments = words.dropFirst().map { String(decoding: $0, as: UTF8.self) }
        switch CommandClassifier.kind(of: first) {
        case .quit: return true
        case .meta: await runMeta(String(decoding: first, as: UTF8.self).lowercased(), arguments)
        case .help where options.mode == .tty: showHelp(arguments)
        case .help, .streaming, .command: await execute(words, line: String(decoding: line.bytes, as: UTF8.self))
        }
        return false
    }

    private func runMeta(_ name: String, _ arguments: [String]) async {
        switch name {
        case ":events": output.write(setEvents(arguments))
        case ":use": output.write(await use(arguments))
        case ":safe": output.write(setSafe(arguments))
        case ":failover": output.write(await failover())
        default: output.write(await MetaCommands(client: client, masterName: options.masterName).run(name))
        }
    }

    /// What a command cut short by Ctrl-C prints.
    static let interruptedLine = Array("(interrupted)\n".utf8)

    /// `N command`, or `-r N` on the command line (negative: until Ctrl-C): the
    /// command N times, `-i` seconds apart, one reply each; Ctrl-C ends the run.
    func repeatCommand(_ command: RESPCommand, times count: Int, line: String) async {
        var done = 0
        while count < 0 || done < count {
            if done > 0, options.repeatInterval > 0 {
                let nanoseconds = UInt64(options.repeatInterval * 1e9)
                let (_, interrupted) = await runInterruptibly { try? await Task.sleep(nanoseconds: nanoseconds) }
                if interrupted { return }
            }
            if await execute(command, line: line) { return }
            done += 1
        }
    }

    /// Runs one command; true when Ctrl-C interrupted it.
    @discardableResult
    private func execute(_ command: RESPCommand, line: String) async -> Bool {
        if CommandClassifier.kind(of: command[0]) == .streaming {
            return await stream(command)
        }
        let started = NIODeadline.now()
        let (outcome, interrupted) = await sendOnSession(command)
        switch outcome {
        case .success(let reply):
            render(reply, command)
        case .failure(let error):
            await dropSessionConnection(error: "\(error)")
            if interrupted || error.code == .cancelled {
                output.write(Self.interruptedLine)
            } else {
                reportError(error)
            }
        }
        let elapsed = NIODeadline.now() - started
        if options.mode == .tty, editor != nil, !interrupted, elapsed >= .milliseconds(500) {
            let seconds = Double(elapsed.nanoseconds) / 1e9
            output.write("(\(SessionPresentation.twoDecimals(seconds))s)\n")
        }
        return interrupted
    }

    /// Runs `command` on the session connection, under Ctrl-C; reports what a replaced
    /// connection lost.
    func sendOnSession(_ command: RESPCommand) async -> (Result<RESPValue, SentinelClientError>, interrupted: Bool) {
        await runInterruptibly { [self] in await self.executePinned(command) }
    }

    func executePinned(_ command: RESPCommand) async -> Result<RESPValue, SentinelClientError> {
        commandsUnderWay += 1
        defer { commandsUnderWay -= 1 }
        let (result, notice) = await pinned.execute(command)
        notice.map(report)
        return result
    }

    private func render(_ reply: RESPValue, _ command: RESPCommand) {
        var out: [UInt8] = []
        appendRendered(reply, command, into: &out)
        output.write(out)
    }

    func appendRendered(_ reply: RESPValue, _ command: RESPCommand, into out: inout [UInt8]) {
        // Every reply of a batch passes here: the clock is read only after a failover.
        if failover.awaitsFirstReply, let summary = failover.commandSucceeded(at: .now()) {
            appendNotice(summary, into: &out)
        }
        if reply.isError { sawErrorReply = true }
        if editor != nil { keyCompleter.noteReply(reply, to: command) }
        if options.mode == .tty, CommandClassifier.printsRawOnTTY(command) {
            ReplyRenderer.raw(reply, into: &out)
        } else {
            ReplyRenderer.render(reply, mode: options.mode, into: &out)
        }
        if pinned.target == .replica, reply.errorCode == "READONLY" { appendReadOnlyHint(into: &out) }
    }

    /// After a write refused on a replica session: where the session is and how to write.
    private func appendReadOnlyHint(into out: inout [UInt8]) {
        let where_ = pinned.replicaAddress.map { "replica \($0)" } ?? "a replica"
        let hint = "-- this session is on \(where_), which refuses writes: :use master sends commands to the master"
        if editor != nil {
            out += Array((hint + "\n").utf8)
        } else if !readOnlyHintGiven {
            readOnlyHintGiven = true
            Self.standardError.write(hint + " (or leave out --replica)\n")
        }
    }

    // MARK: Replica sessions

    /// `--replica`: the session starts on a healthy replica, or fails with why.
    func startOnReplica() async throws(SentinelClientError) {
        _ = try await pinned.useReplica(at: nil)
    }

    /// `:use master`, `:use replica [host:port]`; no argument tells where the session is.
    private func use(_ arguments: [String]) async -> String {
        switch (arguments.first?.lowercased(), arguments.count) {
        case (nil, _):
            return pinned.target == .master ? "master\n" : "replica \(pinned.replicaAddress.map { "\($0)" } ?? "(none yet)")\n"
        case ("master", 1):
            return await pinned.useMaster() + "\n"
        case ("replica", 1), ("replica", 2):
            var address: ServerAddress?
            if arguments.count == 2 {
                guard let given = ServerAddress(arguments[1], defaultPort: 6379) else { return "Usage: :use replica [host:port]\n" }
                address = given
            }
            do {
                return try await pinned.useReplica(at: address) + "\n"
            } catch {
                return (options.mode == .tty ? "(error) " : "") + "\(error); the session stays where it was\n"
            }
        default:
            return "Usage: :use master|replica [host:port]\n"
        }
    }

    /// The replica in use went (promoted or down): the session moves to another one now.
    private func moveReplicaNow() async -> String? {
        do {
            return try await pinned.connection().notice
        } catch {
            return "-- the session has no replica now (\(error)); the next command tries again, or :use master"
        }
    }

    private func reportError(_ error: Error) {
        output.write(errorLine(error))
    }

    func errorLine(_ error: Error) -> [UInt8] {
        sawMissingReply = true
        failover.commandFailed(inDoubt: (error as? SentinelClientError)?.code == .commandInDoubt, at: .now())
        let text = "\(error)"
        return Array((options.mode == .tty ? "(error) \(text)\n" : "\(text)\n").utf8)
    }

    // MARK: The session connection (for the batch pipeline)

    /// The pinned connection for pipelined lines, replaced (SELECT restored) when it
    /// is gone or belongs to a master that is no longer the master.
    func sessionConnection() async throws -> RedisConnection {
        let (connection, notice) = try await pinned.connection()
        notice.map(report)
        return connection
    }

    func dropSessionConnection(error: String) async {
        await pinned.drop(error: error).map(report)
    }

    func usableSessionConnection() async -> RedisConnection? {
        await pinned.usable()
    }

    func isSessionConnection(_ connection: RedisConnection) -> Bool {
        pinned.isCurrent(connection)
    }

    func withConnectionState<T>(_ body: (inout ConnectionState) -> T) -> T {
        pinned.withState(body)
    }

    func track(_ command: RESPCommand, _ reply: RESPValue) -> Bool {
        pinned.track(command, reply)
    }

    var redirectsRefusedWrites: Bool { pinned.target == .master }

    func reconcile(reason: String) async {
        await client.reconcile(reason: reason)
    }

    /// SUBSCRIBE and MONITOR: print what the server sends until Ctrl-C, then
    /// discard that connection (it is in subscriber mode for good). True when Ctrl-C ended it.
    private func stream(_ command: RESPCommand) async -> Bool {
        if options.mode == .tty, command.name != "MONITOR" {
            output.write("Reading messages... (press Ctrl-C to quit)\n")
        }
        let replica = pinned.target == .replica ? pinned.replicaAddress ?? pinned.lastReplicaAddress : nil
        let (error, interrupted) = await runInterruptibly { [client, options, output] () -> Error? in
            // In subscriber mode for good: the connection is closed, not reused.
            if let replica {
                let connection: RedisConnection
                do { connection = try await client.connectToReplica(replica) } catch { return error }
                let error = await Self.printStream(command, on: connection, options: options, to: output)
                connection.close(reason: "the stream ended")
                return error
            }
            let lease: LeasedConnection
            do { lease = try await client.lease() } catch { return error }
            let error = await Self.printStream(command, on: lease.connection, options: options, to: output)
            await client.release(lease, healthy: false)
            return error
        }
        if interrupted {
            output.write(Self.interruptedLine)
        } else if let error {
            reportError(error)
        }
        return interrupted
    }

    /// Pub/sub channels and MONITOR know no database: no SELECT is needed.
    private nonisolated static func printStream(
        _ command: RESPCommand, on connection: RedisConnection, options: SessionOptions, to output: TerminalOutput
    ) async -> Error? {
        do {
            for try await message in connection.stream(command) {
                try Task.checkCancellation()
                output.write(SessionPresentation.renderStreamed(message, mode: options.mode))
            }
            return nil
        } catch {
            return error
        }
    }

    /// Writes a notice between replies. Without a terminal, stdout keeps one reply
    /// per input line: the notice goes to stderr.
    private func report(_ notice: String) {
        (editor == nil ? Self.standardError : output).write(notice + "\n")
    }

    // MARK: Prompt and events

    /// The prompt, from one snapshot of the client and the session connection as it is now.
    func prompt() async -> String {
        let topology = await client.topologySnapshot
        return presentation.prompt(
            topology: topology, connection: pinned.state, target: pinned.target, replica: pinned.replicaAddress,
            failoverUnderWay: failoverUnderWay)
    }

    func refreshPrompt(notices: [String] = []) async {
        keyCompleter.database.withLockedValue { $0 = pinned.state.database }
        let prompt = await prompt()
        editor?.setPrompt(askingPrompt ?? prompt, notices: notices)
    }

    func followEvents() async {
        for await event in client.topologyEvents() {
            var lost: String?
            var summary: String?
            switch event {
            case .masterSwitched(let from, let to):
                failoverUnderWay = false
                let change = pinned.masterChanged(to: to)
                if change.replicaPromoted {
                    lost = [change.notice, await moveReplicaNow()].compactMap { $0 }.joined(separator: "\n")
                } else if from != nil {
                    lost = change.notice
                }
                if let from {
                    let waiting = commandsUnderWay > 0 || pipeline.isRunning
                    failover.masterMoved(from: from, to: to, at: .now(), commandsWaiting: waiting)
                    // At an idle prompt the outage ends at the switch: its summary is due now.
                    if !waiting { summary = failover.idleSwitchSummary() }
                }
            case .failoverStarted:
                failoverUnderWay = true
                failover.trouble(at: .now())
            case .masterUnreachable, .commandsHeld:
                failover.trouble(at: .now())
            case .replicationGap(_, _, let bytes):
                failover.writesLost(bytes: bytes)
            case .sentinelEvent(let event) where event.channel == "+sdown" && event.payload.hasPrefix("slave "):
                if let address = SessionPresentation.replicaAddress(inEventPayload: event.payload), pinned.replicaReportedDown(address) {
                    lost = await moveReplicaNow()
                }
            case .sentinelEvent(let event) where FailoverReport.troubleChannels.contains(event.channel):
                // The master itself (`master <name> ...`), or the replica chosen to replace it.
                if event.payload.hasPrefix("master ") || event.channel == "+selected-slave" { failover.trouble(at: .now()) }
            default: break
            }
            let notices = narrator.notices(for: event) + [lost, summary].compactMap { $0 }
            if editor != nil {
                // The notices and the prompt they change are drawn together.
                await refreshPrompt(notices: notices)
            } else if options.eventsOnStderr {
                Self.standardError.write(notices.map { "\(Timestamp.now()) \($0)\n" }.joined())
            }
        }
    }

    /// A notice among replies: in the transcript at the prompt; elsewhere on stderr
    /// with `--events` (stdout keeps one reply per line).
    private func appendNotice(_ notice: String, into out: inout [UInt8]) {
        if editor != nil {
            out += Array((notice + "\n").utf8)
        } else if options.eventsOnStderr {
            Self.standardError.write("\(Timestamp.now()) \(notice)\n")
        }
    }

    func loadCommandDocs() async {
        guard let reply = try? await client.execute(RESPCommand("COMMAND", "DOCS")),
            let table = CommandTable.parse(reply)
        else { return }
        sharedTable.replace(with: table)
        // A line typed meanwhile gets its hint now, not at the next key.
        await refreshPrompt()
    }

    /// For TAB, called on the editor thread: a key name where the command takes a key
    /// (`KeyCompleter`), else a command name from the shared table.
    package nonisolated func completer() -> @Sendable (String) -> Completion {
        let table = sharedTable
        let keys = keyCompleter
        return { text in
            let (completion, keyPosition) = table.read { ($0.complete(text), $0.isKeyPosition(text)) }
            guard keyPosition else { return completion }
            let typed = text.split(separator: " ", omittingEmptySubsequences: false).last.map(String.init) ?? ""
            let found = keys.keys(startingWith: Array(typed.utf8)).map { key in
                key.allSatisfy { $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "'") }
                    ? String(decoding: key, as: UTF8.self) : String(decoding: ReplyRenderer.quoted(key), as: UTF8.self)
            }
            return Completion(replacing: typed.count, candidates: found, caseSensitive: true)
        }
    }

    /// The argument hint after the cursor, called on the editor thread.
    package nonisolated func hinter() -> @Sendable (String) -> String? {
        let table = sharedTable
        return { text in table.read { $0.hint(text) } }
    }

    private func showHelp(_ words: [String]) {
        if words.isEmpty {
            output.write(
                "sentinel-repl: redis-cli commands run on the master Sentinel names.\n"
                    + "Type \"help <command>\" for a command, \":help\" for the meta-commands.\n")
        } else if let text = sharedTable.read({ $0.help(words) }) {
            output.write(text)
        } else {
            output.write("No help for \(words.joined(separator: " ")) (help needs COMMAND DOCS from Redis 7).\n")
        }
    }
}

import DequeModule
import NIOCore
import RESP
import SentinelClient

/// `--pipe`: RESP from standard input to the master, written as it comes and pipelined,
/// with redis-cli's summary. When the master goes away mid-stream (a failover, a lost
/// connection, READONLY, Ctrl-C), it stops there, re-sends nothing, and says how many
/// commands were answered, in doubt and not sent, and where in the input the rest starts.
enum PipeMode {
    /// Chunks written and not answered yet: enough to keep the server busy, few enough to stay small.
    static let window = 8

    static func run(client: SentinelClient, replyTimeout: Int, output: TerminalOutput) async -> Int32 {
        let lease: LeasedConnection
        do {
            lease = try await client.lease()
        } catch {
            Session.standardError.write("sentinel-repl: \(error)\n")
            return 1
        }
        let input = ChunkSource(fd: 0)
        defer { input.close() }
        var pipe = PipeRun(connection: lease.connection, output: output)
        // Ctrl-C wakes a wait for input that may never come (a producer gone quiet).
        let status = await withInterruptFlag(onInterrupt: { input.close() }) { interrupted in
            await pipe.transfer(from: input, interrupted: interrupted, replyTimeout: replyTimeout)
        }
        await client.release(lease, healthy: pipe.tally.stop == nil && lease.connection.isActive)
        return status
    }
}

/// One `--pipe` run: what was split, written and answered so far.
struct PipeRun {
    let connection: RedisConnection
    let output: TerminalOutput
    private(set) var tally = PipeTally()
    private var splitter = RESPInputSplitter()
    /// Input read and not yet a whole command.
    private var partial = ByteBuffer()
    private var inFlight = Deque<(replies: PendingReplies, base: Int, ends: [Int])>()
    /// Bytes at the front of `partial` that make no command (`*0`, empty lines) but were parsed whole.
    private var trailingWhole = 0
    /// Malformed input was met: nothing after it is sent or counted.
    private var inputRefused = false

    init(connection: RedisConnection, output: TerminalOutput) {
        self.connection = connection
        self.output = output
    }

    mutating func transfer(from input: ChunkSource, interrupted: () -> Bool, replyTimeout: Int) async -> Int32 {
        await readAll(input, interrupted)
        if tally.stop == nil { await sendTheLastLine() }
        let finished = tally.stop == nil
        if finished { output.write("All data transferred. Waiting for the last reply...\n") }
        // After Ctrl-C, the replies on their way get 2 s; what is still unanswered then is in doubt.
        let timeout = finished ? replyTimeout : interrupted() ? 2 : 0
        if await settleAll(timeout: timeout) {
            if finished { output.write("Last reply received from server.\n") }
        } else if finished {
            Session.standardError.write("No replies for \(replyTimeout) seconds: exiting.\n")
            tally.errors += 1
            tally.stop = "no reply for \(replyTimeout) seconds (--pipe-timeout)"
        }
        output.write("errors: \(tally.errors), replies: \(tally.replies)\n")
        if let report = tally.stopReport() { Session.standardError.write(report) }
        return tally.errors > 0 || tally.stop != nil ? 1 : 0
    }

    /// Sends the input's commands until its end or a stop; after a stop, only counts
    /// those left in a file (a pipe's writer may never end, and after Ctrl-C nothing more
    /// is read: the rest is then named by its first byte).
    private mutating func readAll(_ input: ChunkSource, _ interrupted: () -> Bool) async {
        while let chunks = await input.next() {
            for chunk in chunks {
                switch chunk {
                case .success(let bytes) where tally.stop == nil: await send(bytes)
                case .success(let bytes): countUnsent(bytes)
                case .failure(let failure):
                    Session.standardError.write("\(failure)\n")
                    if tally.stop == nil { tally.stop = "\(failure)" }
                }
            }
            if interrupted() && tally.stop == nil { tally.stop = "interrupted (Ctrl-C)" }
            if tally.stop != nil && (!input.isFile || interrupted()) { break }
        }
        // Ctrl-C also closes the input (it may have been waiting): what came before was read.
        if interrupted() && tally.stop == nil { tally.stop = "interrupted (Ctrl-C)" }
        if tally.stop != nil && (!input.isFile || interrupted()) {
            tally.restUnreadFrom = splitter.offset + partial.readableBytes
            // A command read in part was not sent: the rest starts with it (or earlier).
            tally.markNotRun(at: splitter.offset)
        }
    }

    /// Writes the whole commands the input holds so far; keeps the rest for the next chunk.
    private mutating func send(_ chunk: ByteBuffer) async {
        append(chunk)
        let base = splitter.offset
        let split = splitCommands()
        if !split.ends.isEmpty {
            let bytes = partial.readSlice(length: split.consumed)!
            inFlight.append((connection.submit(encoded: bytes, commandEnds: split.ends), base, split.ends))
        }
        if let malformed = split.malformed {
            // Not sent: the server would refuse it and close the connection. The rest is not read.
            tally.stop = malformed.description
            tally.markNotRun(at: splitter.offset)  // where the refused command starts
            inputRefused = true
        }
        while inFlight.count > PipeMode.window && tally.stop == nil { await settleOldest() }
    }

    /// Input after what was split so far, kept until it is a whole command.
    private mutating func append(_ chunk: ByteBuffer) {
        guard partial.readableBytes > 0 else {
            partial = chunk
            return
        }
        if partial.readableBytes >= chunk.readableBytes {
            // A command bigger than a read: appended in place, the buffer grows by doubling
            // (a copy per doubling, not a copy of all of it with every read).
            partial.writeImmutableBuffer(chunk)
            return
        }
        // The usual case, the tail of one read before the next: merged at its exact size, so
        // that the commands in flight do not each hold a buffer grown to twice a read.
        var merged = ByteBufferAllocator().buffer(capacity: partial.readableBytes + chunk.readableBytes)
        merged.writeImmutableBuffer(partial)
        merged.writeImmutableBuffer(chunk)
        partial = merged
    }

    private mutating func splitCommands() -> RESPInputSplitter.Split {
        var splitter = self.splitter
        let split = partial.withUnsafeReadableBytes { splitter.split($0) }
        self.splitter = splitter
        trailingWhole = split.scanned - split.consumed
        return split
    }

    /// The input's end ends its last inline command, as redis-cli's closing `\r\n` does;
    /// a RESP command cut short stays unsent.
    private mutating func sendTheLastLine() async {
        guard partial.readableBytes > trailingWhole else { return }
        await send(ByteBuffer(bytes: [13, 10]))
        guard tally.stop == nil else { return }
        let leftover = partial.withUnsafeReadableBytes { $0.dropFirst(trailingWhole).contains { !(($0 >= 9 && $0 <= 13) || $0 == 32) } }
        if leftover {
            tally.stop = "the input ends inside a command (at byte \(splitter.offset + trailingWhole))"
            tally.unsent(1, from: splitter.offset)
        }
    }

    private mutating func settleOldest() async {
        guard let oldest = inFlight.popFirst() else { return }
        record(await oldest.replies.get(cancelReason: "--pipe was stopped"), oldest.base, oldest.ends)
    }

    private mutating func record(_ results: [Result<RESPValue, SentinelClientError>], _ base: Int, _ ends: [Int]) {
        let errors = tally.record(results, base: base, ends: ends, from: connection.address)
        if !errors.isEmpty { Session.standardError.write(errors) }
    }

    /// Waits for every reply, each chunk within `timeout` seconds of the one before (0:
    /// no limit); false when that ran out (the connection is then closed: the rest is in doubt).
    private mutating func settleAll(timeout: Int) async -> Bool {
        var inTime = true
        while let oldest = inFlight.popFirst() {
            let (results, answered) = inTime && timeout > 0
                ? await Self.replies(oldest.replies, within: timeout)
                : (await oldest.replies.get(), true)
            inTime = inTime && answered
            record(results, oldest.base, oldest.ends)
        }
        return inTime
    }

    /// The replies, or after `seconds` without them the connection closed and them failed.
    private static func replies(_ pending: PendingReplies, within seconds: Int) async
        -> ([Result<RESPValue, SentinelClientError>], answered: Bool)
    {
        await withTaskGroup(of: [Result<RESPValue, SentinelClientError>]?.self) { race in
            race.addTask { await pending.get(cancelReason: "no reply within \(seconds) seconds") }
            race.addTask {
                try? await Task.sleep(nanoseconds: UInt64(seconds) * 1_000_000_000)
                return nil
            }
            let first = await race.next()!
            race.cancelAll()  // the sleep, or the wait: cancelling it closes the connection
            if let first { return (first, true) }
            return ((await race.next()!) ?? [], false)
        }
    }

    /// After a stop: the commands of a chunk that will not be sent, counted.
    private mutating func countUnsent(_ chunk: ByteBuffer) {
        guard !inputRefused else { return }  // past malformed input nothing can be counted
        append(chunk)
        let from = splitter.offset
        let split = splitCommands()
        partial.moveReaderIndex(forwardBy: split.consumed)
        tally.unsent(split.ends.count, from: from)
        inputRefused = split.malformed != nil
    }
}

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
        let status = await withInterruptFlag { interrupted in
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

    init(connection: RedisConnection, output: TerminalOutput) {
        self.connection = connection
        self.output = output
    }

    mutating func transfer(from input: ChunkSource, interrupted: () -> Bool, replyTimeout: Int) async -> Int32 {
        await readAll(input, interrupted)
        if tally.stop == nil { await sendTheLastLine() }
        let finished = tally.stop == nil
        if finished { output.write("All data transferred. Waiting for the last reply...\n") }
        if await settleAll(timeout: finished ? replyTimeout : 0) {
            if finished { output.write("Last reply received from server.\n") }
        } else {
            Session.standardError.write("No replies for \(replyTimeout) seconds: exiting.\n")
            tally.errors += 1
            if tally.stop == nil { tally.stop = "no reply for \(replyTimeout) seconds (--pipe-timeout)" }
        }
        output.write("errors: \(tally.errors), replies: \(tally.replies)\n")
        if let report = tally.stopReport() { Session.standardError.write(report) }
        return tally.errors > 0 || tally.stop != nil ? 1 : 0
    }

    /// Sends the input's commands until its end or a stop; after a stop, only counts
    /// those left in a file (a pipe's writer may never end: its rest is not read).
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
            if tally.stop != nil && !input.isFile {
                tally.restUnreadFrom = splitter.offset + partial.readableBytes
                return
            }
        }
    }

    /// Writes the whole commands the input holds so far; keeps the rest for the next chunk.
    private mutating func send(_ chunk: ByteBuffer) async {
        append(chunk)
        let base = splitter.offset
        let split: RESPInputSplitter.Split
        do {
            split = try splitCommands()
        } catch {
            tally.stop = error.description
            tally.unsent(0, from: error.offset)
            return
        }
        guard !split.ends.isEmpty else { return }
        let bytes = partial.readSlice(length: split.consumed)!
        inFlight.append((connection.submit(encoded: bytes, commandEnds: split.ends), base, split.ends))
        while inFlight.count > PipeMode.window && tally.stop == nil { await settleOldest() }
    }

    private mutating func append(_ chunk: ByteBuffer) {
        guard partial.readableBytes > 0 else {
            partial = chunk
            return
        }
        // A copy, not a write into `partial`: its storage is shared with slices in flight.
        var merged = ByteBufferAllocator().buffer(capacity: partial.readableBytes + chunk.readableBytes)
        merged.writeImmutableBuffer(partial)
        merged.writeImmutableBuffer(chunk)
        partial = merged
    }

    private mutating func splitCommands() throws(RESPInputSplitter.Malformed) -> RESPInputSplitter.Split {
        var splitter = self.splitter
        let result = partial.withUnsafeReadableBytes { bytes in Result { () throws(RESPInputSplitter.Malformed) in try splitter.split(bytes) } }
        self.splitter = splitter
        return try result.get()
    }

    /// The input's end ends its last inline command, as redis-cli's closing `\r\n` does;
    /// a RESP command cut short stays unsent.
    private mutating func sendTheLastLine() async {
        guard partial.readableBytes > 0 else { return }
        await send(ByteBuffer(bytes: [13, 10]))
        let leftover = partial.withUnsafeReadableBytes { $0.contains { !(($0 >= 9 && $0 <= 13) || $0 == 32) } }
        if tally.stop == nil && leftover {
            tally.stop = "the input ends inside a command (at byte \(splitter.offset))"
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
            race.addTask { await pending.get(cancelReason: "no reply for \(seconds) seconds (--pipe-timeout)") }
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
        append(chunk)
        let from = splitter.offset
        guard let split = try? splitCommands() else { return }  // malformed: the report names the byte
        partial.moveReaderIndex(forwardBy: split.consumed)
        tally.unsent(split.ends.count, from: from)
    }
}

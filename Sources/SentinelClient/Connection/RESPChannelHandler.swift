import NIOCore
import RESP

/// Commands written together in one buffer, and who waits for their replies.
struct OutboundRequest: Sendable {
    var bytes: ByteBuffer
    var commands: [CommandInfo]
    var delivery: ReplyDelivery = .each([])
    /// Set by `stream(_:)`: from now on every reply goes here, unpaired
    /// (SUBSCRIBE, MONITOR: the server sends many replies to one command).
    var stream: AsyncThrowingStream<RESPValue, Error>.Continuation? = nil
}

/// What the handler knows of one command it waits a reply for.
struct CommandInfo: Sendable {
    /// The command's first word as sent; turned into a name only for an error.
    var nameBytes: ArraySlice<UInt8>
    var name: String { String(decoding: nameBytes, as: UTF8.self).uppercased() }
    /// Blocking commands (BLPOP k 0) may legitimately wait forever.
    var mayBlock: Bool
    /// Where the command's bytes end in the request's buffer: commands are written in
    /// segments, so a connection lost half-way through tells which went out whole.
    var end: Int
}

/// How the replies of one write reach the caller.
enum ReplyDelivery: Sendable {
    /// One promise per command (`send`, `write`).
    case each([EventLoopPromise<RESPValue>])
    /// One promise for the whole write (`pipeline`): one wake-up, no per-command future.
    case all(EventLoopPromise<[Result<RESPValue, SentinelClientError>]>)

    /// Completes every command with an error (the request never reached the socket).
    func failAll(_ commands: [CommandInfo], _ error: (CommandInfo) -> SentinelClientError) {
        switch self {
        case .each(let promises):
            for (command, promise) in zip(commands, promises) { promise.fail(error(command)) }
        case .all(let promise):
            promise.succeed(commands.map { .failure(error($0)) })
        }
    }
}

/// Why a connection ended, for the errors of the commands still pending on it.
enum CloseReason: Sendable {
    case peerClosed
    case timedOut(milliseconds: Int)
    case malformed(String, RESPDecodingError? = nil)
    case byClient(String)
    case error(String)

    var text: String {
        switch self {
        case .peerClosed: return "the server closed the connection"
        case .timedOut(let ms): return "no reply within \(ms) ms"
        case .malformed(let m, _): return m
        case .byClient(let why): return why
        case .error(let e): return e
        }
    }
}

/// Pairs replies with commands in order. Confined to its channel's event loop.
///
/// It decodes the bytes itself (no message per reply through the pipeline) and
/// keeps one entry per write, not per command. A command whose bytes the socket
/// accepted and that got no reply is reported in doubt; one that was never
/// written is reported not sent.
final class RESPChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = OutboundRequest
    typealias OutboundOut = ByteBuffer

    /// One write's commands, answered front to back.
    private final class PendingWrite {
        let commands: [CommandInfo]
        private let delivery: ReplyDelivery
        /// The write sequence of the first command's segment; the others follow one by one.
        let firstSequence: UInt64
        private(set) var answered = 0
        private var results: [Result<RESPValue, SentinelClientError>] = []

        init(_ request: OutboundRequest, firstSequence: UInt64) {
            commands = request.commands
            delivery = request.delivery
            self.firstSequence = firstSequence
            if case .all = delivery { results.reserveCapacity(commands.count) }
        }

        var current: CommandInfo { commands[answered] }
        /// The current command's segment: its write sequence and how many commands it holds.
        var currentSegment: (sequence: UInt64, size: Int) {
            let index = answered / RESPChannelHandler.segmentSize
            let size = min(RESPChannelHandler.segmentSize, commands.count - index * RESPChannelHandler.segmentSize)
            return (firstSequence + UInt64(index), size)
        }
        var isComplete: Bool { answered == commands.count }

        func complete(_ result: Result<RESPValue, SentinelClientError>) {
            answered += 1
            switch delivery {
            case .all(let promise):
                results.append(result)
                if answered == commands.count { promise.succeed(results) }
            case .each(let promises):
                promises[answered - 1].completeWith(result.mapError { $0 })
            }
        }
    }

    private let address: ServerAddress
    private let commandTimeout: TimeAmount?
    private var decoder = RESPDecoder()
    /// Bytes received and not decoded yet (a reply split across reads).
    private var inbound: ByteBuffer?
    private var pending = CircularBuffer<PendingWrite>(initialCapacity: 8)
    private var writeSequence: UInt64 = 0
    private var writtenSequence: UInt64 = 0
    private var lastProgress = NIODeadline.uptimeNanoseconds(0)
    private var watchdog: Scheduled<Void>?
    private var closeReason: CloseReason?
    private var isClosed = false
    private var stream: AsyncThrowingStream<RESPValue, Error>.Continuation?
    /// Receives pub/sub messages and RESP3 pushes.
    private let onPush: (@Sendable (RESPValue) -> Void)?

    init(address: ServerAddress, commandTimeout: TimeAmount?, onPush: (@Sendable (RESPValue) -> Void)?) {
        self.address = address
        self.commandTimeout = commandTimeout
        self.onPush = onPush
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if isClosed {
            let reason = closeReason?.text ?? "connection closed"
            let address = self.address
            request.delivery.failAll(request.commands) {
                SentinelClientError.commandNotSent(command: $0.name, address: address, reason: reason)
            }
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        if pending.isEmpty { lastProgress = context.eventLoop.now }
        if let stream = request.stream { self.stream = stream }
        guard !request.commands.isEmpty else {
            // A stream's own commands (SUBSCRIBE, UNSUBSCRIBE) get no reply of their own: not counted.
            context.write(wrapOutboundOut(request.bytes), promise: promise)
            return
        }
        pending.append(PendingWrite(request, firstSequence: writeSequence + 1))
        var start = request.bytes.readerIndex
        let count = request.commands.count
        for first in stride(from: 0, to: count, by: Self.segmentSize) {
            let end = request.commands[min(first + Self.segmentSize, count) - 1].end
            writeSegment(request.bytes.getSlice(at: start, length: end - start)!, context: context)
            start = end
        }
        // The commands are ours now: whatever becomes of the writes, each one's fate is
        // told through its reply promise, in doubt or not sent (a failed write promise
        // here would make the caller call them all not sent, answered ones included).
        promise?.succeed(())
        armWatchdog(context: context)
    }

    /// Commands per socket write. A connection lost mid-write may have delivered a
    /// prefix of the first unfinished segment, so its commands are reported in doubt;
    /// later segments surely never left. Small enough to bound that doubt, large
    /// enough that a 100k-line pipeline is not 100k writes.
    static let segmentSize = 16

    /// Writes one segment; once the socket took all of it, its commands are in flight.
    private func writeSegment(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        writeSequence += 1
        let sequence = writeSequence
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenSuccess { [self] in writtenSequence = max(writtenSequence, sequence) }
        context.write(wrapOutboundOut(bytes), promise: written)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if var held = inbound, held.readableBytes > 0 {
            inbound = nil  // `held` alone owns the bytes: appended to in place
            held.writeBuffer(&buffer)
            buffer = held
        }
        if !pending.isEmpty { lastProgress = context.eventLoop.now }
        // Decoded in locals: a class property passed inout is checked at run time, per reply.
        var decoder = self.decoder
        do {
            while !isClosed, let value = try decoder.decode(&buffer) {
                deliver(value, context: context)
            }
        } catch {
            errorCaught(context: context, error: error)
            return
        }
        self.decoder = decoder
        if buffer.readerIndex > 65536 { buffer.discardReadBytes() }
        inbound = buffer.readableBytes > 0 ? buffer : nil
    }

    private func deliver(_ value: RESPValue, context: ChannelHandlerContext) {
        if isPush(value) {
            onPush?(value)
            return
        }
        guard let head = pending.first else {
            if let stream {
                stream.yield(value)
                return
            }
            // A reply nobody asked for: the stream is out of step; stop trusting it.
            fail(context: context, reason: .malformed("unexpected reply with no command pending"))
            return
        }
        // Off the queue before completing: a callback may close the channel and fail what is left.
        if head.answered + 1 == head.commands.count { pending.removeFirst() }
        head.complete(.success(value))
    }

    /// RESP3 out-of-band data (tracking invalidations); pub/sub in RESP3 goes to the stream.
    private func isPush(_ value: RESPValue) -> Bool {
        // Never paired with a command: a push is not a reply (CLIENT TRACKING invalidations).
        guard stream == nil, case .push = value else { return false }
        return true
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let decoding = error as? RESPDecodingError {
            fail(context: context, reason: .malformed(decoding.description, decoding))
        } else {
            fail(context: context, reason: .error("\(error)"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(reason: closeReason ?? .peerClosed)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let close = event as? ClientCloseRequest {
            fail(context: context, reason: .byClient(close.reason))
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func fail(context: ChannelHandlerContext, reason: CloseReason) {
        if closeReason == nil { closeReason = reason }
        failAll(reason: reason)
        context.close(promise: nil)
    }

    private func failAll(reason: CloseReason) {
        isClosed = true
        if let stream {
            if case .byClient = reason { stream.finish() } else { stream.finish(throwing: StreamEnded(reason: reason.text)) }
            self.stream = nil
        }
        watchdog?.cancel()
        watchdog = nil
        // Only the head's reply was malformed: the commands behind it lost their replies
        // with the connection (in doubt), or were never written (not sent).
        var head = true
        while let write = pending.popFirst() {
            while !write.isComplete {
                let error = error(for: write.current, segment: write.currentSegment, reason: reason, isHead: head)
                write.complete(.failure(error))
                head = false
            }
        }
    }

    private func error(
        for command: CommandInfo, segment: (sequence: UInt64, size: Int), reason: CloseReason, isHead: Bool
    ) -> SentinelClientError {
        // Write promises complete in order: only the first unfinished segment can be partly out,
        // and a lone command partly out cannot have run.
        let surelyUnsent = segment.sequence > writtenSequence + 1 || (segment.sequence == writtenSequence + 1 && segment.size == 1)
        var reasonText = reason.text
        if case .malformed(let description, let decoding) = reason {
            if isHead { return .malformedReply(address: address, description: description, underlying: decoding) }
            reasonText = "the connection was closed after an earlier reply that was not valid RESP"
        }
        if !surelyUnsent {
            return .commandInDoubt(command: command.name, address: address, reason: reasonText)
        } else {
            return .commandNotSent(command: command.name, address: address, reason: reasonText)
        }
    }

    /// One timer per connection: it fires when no reply arrived for a whole
    /// timeout while a non-blocking command waits at the head of the queue.
    private func armWatchdog(context: ChannelHandlerContext) {
        guard let timeout = commandTimeout, watchdog == nil else { return }
        watchdog = context.eventLoop.assumeIsolated().scheduleTask(deadline: lastProgress + timeout) { [self] in
            watchdog = nil
            guard let head = pending.first, !isClosed else { return }
            if !head.current.mayBlock, context.eventLoop.now >= lastProgress + timeout {
                fail(context: context, reason: .timedOut(milliseconds: Int(timeout.nanoseconds / 1_000_000)))
            } else {
                if head.current.mayBlock { lastProgress = context.eventLoop.now }
                armWatchdog(context: context)
            }
        }
    }
}

/// Sent through the pipeline to close a connection with a reason for its pending commands.
struct ClientCloseRequest: Sendable {
    var reason: String
}

import NIOCore
import RESP

/// Adapts the streaming `RESPDecoder` to a NIO pipeline.
struct RESPFrameDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = RESPValue
    var decoder = RESPDecoder()

    mutating func decode(buffer: inout ByteBuffer) throws -> RESPValue? {
        try decoder.decode(&buffer)
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> RESPValue? {
        try decoder.decode(&buffer)
    }
}

/// Commands written together in one buffer; each has its own reply promise.
struct OutboundRequest: Sendable {
    var bytes: ByteBuffer
    var commands: [PendingCommand]
    /// Set by `stream(_:)`: from now on every reply goes here, unpaired
    /// (SUBSCRIBE, MONITOR: the server sends many replies to one command).
    var stream: AsyncThrowingStream<RESPValue, Error>.Continuation? = nil
}

struct PendingCommand: Sendable {
    /// The command's first word as sent; turned into a name only for an error.
    var nameBytes: [UInt8]
    var name: String { String(decoding: nameBytes, as: UTF8.self).uppercased() }
    var promise: EventLoopPromise<RESPValue>
    /// Blocking commands (BLPOP k 0) may legitimately wait forever.
    var mayBlock: Bool
}

/// Why a connection ended, for the errors of the commands still pending on it.
enum CloseReason: Sendable {
    case peerClosed
    case timedOut(milliseconds: Int)
    case malformed(String)
    case byClient(String)
    case error(String)

    var text: String {
        switch self {
        case .peerClosed: return "the server closed the connection"
        case .timedOut(let ms): return "no reply within \(ms) ms"
        case .malformed(let m): return m
        case .byClient(let why): return why
        case .error(let e): return e
        }
    }
}

/// Pairs replies with commands in order. Confined to its channel's event loop.
///
/// A command whose bytes the socket accepted and that got no reply is reported
/// in doubt; one that was never written is reported not sent.
final class RESPChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = OutboundRequest
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var command: PendingCommand
        var writeSequence: UInt64
    }

    private let address: ServerAddress
    private let commandTimeout: TimeAmount?
    private var pending = CircularBuffer<Pending>(initialCapacity: 16)
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
            for command in request.commands {
                command.promise.fail(
                    SentinelClientError.commandNotSent(command: command.name, address: address, reason: reason))
            }
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        writeSequence += 1
        let sequence = writeSequence
        if pending.isEmpty { lastProgress = context.eventLoop.now }
        if let stream = request.stream { self.stream = stream }
        for command in request.commands {
            pending.append(Pending(command: command, writeSequence: sequence))
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenComplete { [self] result in
            if case .success = result { writtenSequence = max(writtenSequence, sequence) }
            promise?.completeWith(result)
        }
        context.write(wrapOutboundOut(request.bytes), promise: written)
        armWatchdog(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        if isPush(value) {
            onPush?(value)
            return
        }
        guard let head = pending.popFirst() else {
            if let stream {
                stream.yield(value)
                return
            }
            // A reply nobody asked for: the stream is out of step; stop trusting it.
            fail(context: context, reason: .malformed("unexpected reply with no command pending"))
            return
        }
        lastProgress = context.eventLoop.now
        head.command.promise.succeed(value)
    }

    /// RESP3 out-of-band data (tracking invalidations); pub/sub in RESP3 goes to the stream.
    private func isPush(_ value: RESPValue) -> Bool {
        // Never paired with a command: a push is not a reply (CLIENT TRACKING invalidations).
        guard stream == nil, case .push = value else { return false }
        return true
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let decoding = error as? RESPDecodingError {
            fail(context: context, reason: .malformed(decoding.description))
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
        while let entry = pending.popFirst() {
            let name = entry.command.name
            let error: SentinelClientError
            if case .malformed(let description) = reason {
                error = .malformedReply(address: address, description: description)
            } else if entry.writeSequence <= writtenSequence {
                error = .commandInDoubt(command: name, address: address, reason: reason.text)
            } else {
                error = .commandNotSent(command: name, address: address, reason: reason.text)
            }
            entry.command.promise.fail(error)
        }
    }

    /// One timer per connection: it fires when no reply arrived for a whole
    /// timeout while a non-blocking command waits at the head of the queue.
    private func armWatchdog(context: ChannelHandlerContext) {
        guard let timeout = commandTimeout, watchdog == nil else { return }
        watchdog = context.eventLoop.assumeIsolated().scheduleTask(deadline: lastProgress + timeout) { [self] in
            watchdog = nil
            guard let head = pending.first, !isClosed else { return }
            if !head.command.mayBlock, context.eventLoop.now >= lastProgress + timeout {
                fail(context: context, reason: .timedOut(milliseconds: Int(timeout.nanoseconds / 1_000_000)))
            } else {
                if head.command.mayBlock { lastProgress = context.eventLoop.now }
                armWatchdog(context: context)
            }
        }
    }
}

/// A streaming command's connection ended for another reason than the client closing it.
public struct StreamEnded: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { "the stream ended: \(reason)" }
}

/// Sent through the pipeline to close a connection with a reason for its pending commands.
struct ClientCloseRequest: Sendable {
    var reason: String
}

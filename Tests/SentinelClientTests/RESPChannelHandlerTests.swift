import NIOCore
import NIOEmbedded
import Testing

@testable import RESP
@testable import SentinelClient

/// The handler's bookkeeping on an embedded channel: no sockets, exact control.
@Suite struct RESPChannelHandlerTests {
    let address = ServerAddress(host: "127.0.0.1", port: 6379)

    private func makeChannel(timeout: TimeAmount? = nil, stall: WriteStaller? = nil) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        if let stall { try channel.pipeline.syncOperations.addHandler(stall) }
        try channel.pipeline.syncOperations.addHandler(
            RESPChannelHandler(address: address, commandTimeout: timeout, onPush: nil))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379)).wait()
        return channel
    }

    /// Requests go through `RedisConnection`, over the embedded channel, as in use.
    private func connection(_ channel: EmbeddedChannel) -> RedisConnection {
        RedisConnection(address: address, channel: channel, protocolVersion: .resp2)
    }

    private func request(_ channel: EmbeddedChannel, _ names: [String], mayBlock: Bool = false) -> [EventLoopFuture<RESPValue>] {
        connection(channel).write(names.map { RESPCommand($0) }, mayBlock: mayBlock)
    }

    private func pipeline(_ channel: EmbeddedChannel, _ names: [String]) -> EventLoopFuture<[Result<RESPValue, SentinelClientError>]> {
        connection(channel).submitFuture(names.map { RESPCommand($0) })
    }

    private func failure(_ future: EventLoopFuture<RESPValue>) -> SentinelClientError? {
        do {
            _ = try future.wait()
            return nil
        } catch {
            return error as? SentinelClientError
        }
    }

    @Test func repliesArePairedInOrder() throws {
        let channel = try makeChannel()
        let futures = request(channel, ["PING", "ECHO"])
        try channel.writeInbound(ByteBuffer(string: "+PONG\r\n$2\r\nhi\r\n"))
        #expect(try futures[0].wait() == .simpleString(ByteBuffer(string: "PONG")))
        #expect(try futures[1].wait() == .bulkString(ByteBuffer(string: "hi")))
    }

    @Test func aRESP3PushIsNeverTakenForAReply() throws {
        let channel = try makeChannel()
        let futures = request(channel, ["GET"])
        try channel.writeInbound(ByteBuffer(string: ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n$1\r\nv\r\n"))
        #expect(try futures[0].wait() == .bulkString(ByteBuffer(string: "v")))
        #expect(channel.isActive)
    }

    @Test func writtenButUnansweredIsInDoubt() throws {
        let channel = try makeChannel()
        let futures = request(channel, ["INCR", "INCR"])
        try channel.writeInbound(ByteBuffer(string: ":1\r\n"))
        channel.pipeline.fireChannelInactive()
        #expect(try futures[0].wait() == .integer(1))
        guard let error = failure(futures[1]), error.code == .commandInDoubt else {
            Issue.record("expected in doubt")
            return
        }
        #expect(error.command == "INCR")
    }

    @Test func neverWrittenIsNotSent() throws {
        let channel = try makeChannel()
        channel.pipeline.fireChannelInactive()
        let futures = request(channel, ["SET"])
        guard failure(futures[0])?.code == .commandNotSent else {
            Issue.record("expected not sent")
            return
        }
    }

    @Test func malformedReplyFailsEverythingAndCloses() throws {
        let channel = try makeChannel()
        let futures = request(channel, ["GET"])
        _ = try? channel.writeInbound(ByteBuffer(string: "?garbage\r\n"))
        guard failure(futures[0])?.code == .malformedReply else {
            Issue.record("expected malformed")
            return
        }
        #expect(!channel.isActive)
    }

    @Test func anUnaskedReplyClosesTheConnection() throws {
        let channel = try makeChannel()
        try channel.writeInbound(ByteBuffer(string: "+OK\r\n"))
        #expect(!channel.isActive)
    }

    @Test func noProgressWithinTheTimeoutFailsInDoubt() throws {
        let channel = try makeChannel(timeout: .seconds(1))
        let futures = request(channel, ["GET"])
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1100))
        guard let error = failure(futures[0]), error.code == .commandInDoubt,
            case .connectionLost(let reason) = error.reason
        else {
            Issue.record("expected timeout in doubt")
            return
        }
        #expect(reason.contains("1000 ms"))
    }

    @Test func blockingCommandsDoNotTimeOut() throws {
        let channel = try makeChannel(timeout: .seconds(1))
        let futures = request(channel, ["BLPOP"], mayBlock: true)
        channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        try channel.writeInbound(ByteBuffer(string: "*-1\r\n"))
        #expect(try futures[0].wait() == .array(nil))
    }

    @Test func aPipelineGetsAllItsRepliesInOneResultInOrder() throws {
        let channel = try makeChannel()
        let replies = pipeline(channel, ["PING", "ECHO", "GET"])
        try channel.writeInbound(ByteBuffer(string: "+PONG\r\n$2\r\nhi\r\n"))
        try channel.writeInbound(ByteBuffer(string: "$-1\r\n"))
        let results = try replies.wait().map { try $0.get() }
        #expect(results == [.simpleString(ByteBuffer(string: "PONG")), .bulkString(ByteBuffer(string: "hi")), .bulkString(nil)])
    }

    /// 40 commands leave in segments of 16, 16 and 8. The socket took only the first
    /// segment when the connection dropped: the second may have gone out in part,
    /// the third surely never left.
    @Test func aDropMidPipelineSplitsInDoubtFromNotSentBySegment() throws {
        let stall = WriteStaller(passing: 1)
        let channel = try makeChannel(stall: stall)
        // Through RedisConnection.submit, as a batch does: its fallback for requests the
        // handler never saw must not override the handler's answers.
        let replies = pipeline(channel, Array(repeating: "INCR", count: 40))
        try channel.writeInbound(ByteBuffer(string: ":1\r\n:2\r\n:3\r\n"))
        stall.failHeld()
        channel.pipeline.fireChannelInactive()
        let results = try replies.wait()
        #expect(results.count == 40)
        #expect(try results[0..<3].map { try $0.get() } == [.integer(1), .integer(2), .integer(3)])
        func kind(_ result: Result<RESPValue, SentinelClientError>) -> String {
            switch result {
            case .failure(let error) where error.code == .commandInDoubt: return "in doubt"
            case .failure(let error) where error.code == .commandNotSent: return "not sent"
            default: return "other"
            }
        }
        #expect(results[3..<32].allSatisfy { kind($0) == "in doubt" })
        #expect(results[32..<40].allSatisfy { kind($0) == "not sent" })
    }

    /// A lone command the socket did not take whole cannot have run.
    @Test func aSingleUnwrittenCommandIsNotSent() throws {
        let stall = WriteStaller(passing: 0)
        let channel = try makeChannel(stall: stall)
        let futures = request(channel, ["INCR"])
        stall.failHeld()
        channel.pipeline.fireChannelInactive()
        guard failure(futures[0])?.code == .commandNotSent else {
            Issue.record("expected not sent")
            return
        }
    }
}

/// Lets the first `passing` writes through and holds the rest, as a full socket would.
final class WriteStaller: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    private var passing: Int
    private var held: [EventLoopPromise<Void>] = []

    init(passing: Int) { self.passing = passing }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if passing > 0 {
            passing -= 1
            context.write(data, promise: promise)
        } else if let promise {
            held.append(promise)
        }
    }

    /// The connection is lost: the held writes fail, in order.
    func failHeld() {
        for promise in held { promise.fail(ChannelError.ioOnClosedChannel) }
        held.removeAll()
    }
}

/// Which commands get no reply timeout.
struct MayBlockTests {
    @Test(arguments: [
        (["BLPOP", "k", "0"], true), (["blpop", "k", "0"], true), (["WAIT", "1", "0"], true), (["subscribe", "c"], true),
        (["XREAD", "BLOCK", "0", "STREAMS", "s", "$"], true), (["xreadgroup", "GROUP", "g", "c", "block", "0"], true),
        (["XREAD", "STREAMS", "s", "0"], false), (["GET", "BLOCK"], false), (["BLPOPX"], false), (["SET", "k", "v"], false),
    ])
    func asTheCommandSays(words: [String], blocks: Bool) {
        #expect(RedisConnection.mayBlock(RESPCommand(strings: words)) == blocks, "\(words)")
    }
}

import NIOCore
import NIOEmbedded
import Testing

@testable import RESP
@testable import SentinelClient

/// The handler's bookkeeping on an embedded channel: no sockets, exact control.
@Suite struct RESPChannelHandlerTests {
    let address = ServerAddress(host: "127.0.0.1", port: 6379)

    private func makeChannel(timeout: TimeAmount? = nil) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPFrameDecoder()))
        try channel.pipeline.syncOperations.addHandler(
            RESPChannelHandler(address: address, commandTimeout: timeout, onPush: nil))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379)).wait()
        return channel
    }

    private func request(_ channel: EmbeddedChannel, _ names: [String], mayBlock: Bool = false) -> [EventLoopFuture<RESPValue>] {
        var bytes = ByteBuffer()
        var commands: [PendingCommand] = []
        for name in names {
            RESPCommand(name).encode(into: &bytes)
            commands.append(
                PendingCommand(nameBytes: Array(name.utf8), promise: channel.eventLoop.makePromise(), mayBlock: mayBlock))
        }
        channel.writeAndFlush(OutboundRequest(bytes: bytes, commands: commands), promise: nil)
        return commands.map(\.promise.futureResult)
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
        guard case .commandInDoubt(let name, _, _) = failure(futures[1]) else {
            Issue.record("expected in doubt")
            return
        }
        #expect(name == "INCR")
    }

    @Test func neverWrittenIsNotSent() throws {
        let channel = try makeChannel()
        channel.pipeline.fireChannelInactive()
        let futures = request(channel, ["SET"])
        guard case .commandNotSent = failure(futures[0]) else {
            Issue.record("expected not sent")
            return
        }
    }

    @Test func malformedReplyFailsEverythingAndCloses() throws {
        let channel = try makeChannel()
        let futures = request(channel, ["GET"])
        _ = try? channel.writeInbound(ByteBuffer(string: "?garbage\r\n"))
        guard case .malformedReply = failure(futures[0]) else {
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
        guard case .commandInDoubt(_, _, let reason) = failure(futures[0]) else {
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
}

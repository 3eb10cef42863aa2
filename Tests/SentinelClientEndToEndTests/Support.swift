import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RESP
import TestTopology

@testable import SentinelClient

/// Remembers every log record, so a test can say nothing was logged at error level.
final class RecordingLogs: Sendable {
    private let records = NIOLockedValueBox<[(Logger.Level, String)]>([])

    var all: [(Logger.Level, String)] { records.withLockedValue { $0 } }
    var errors: [String] { all.filter { $0.0 >= .error }.map(\.1) }

    func logger() -> Logger {
        var logger = Logger(label: "test") { _ in Handler(records: self.records) }
        logger.logLevel = .trace
        return logger
    }

    private struct Handler: LogHandler {
        let records: NIOLockedValueBox<[(Logger.Level, String)]>
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            records.withLockedValue { $0.append((event.level, "\(event.message) \(event.metadata ?? [:])")) }
        }
    }
}

extension Topology {
    var sentinelAddresses: [ServerAddress] { sentinelPorts.map { ServerAddress(host: host, port: $0) } }

    /// A test that reads `lastDiscoveryAttempts` asks for a long `reconcileInterval`:
    /// a reconcile overwrites them.
    func configuration(
        sentinels: [ServerAddress]? = nil, clientName: String = "sr-test-\(UInt32.random(in: 0...UInt32.max))",
        reconcileInterval: TimeAmount = .seconds(1)
    ) -> SentinelClientConfiguration {
        var configuration = SentinelClientConfiguration(sentinels: sentinels ?? sentinelAddresses, masterName: masterName)
        configuration.clientName = clientName
        configuration.dataCredentials = dataPassword.map { Credentials(password: $0) }
        configuration.sentinelCredentials = sentinelPassword.map { Credentials(password: $0) }
        configuration.reconcileInterval = reconcileInterval
        return configuration
    }
}

/// A client on `configuration`, logging to stdout at info level as the tests always did.
func makeClient(_ configuration: SentinelClientConfiguration, logger: Logger = Logger(label: "sentinel-client")) -> SentinelClient {
    SentinelClient(configuration: configuration, logger: logger)
}

/// Runs `client` as a service (`run()` in a child task) while `body` uses it, then
/// shuts it down, whatever `body` did; `run()` has returned when this returns.
@discardableResult
func running<T: Sendable>(_ client: SentinelClient, _ body: () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await client.run() }
        let outcome: Result<T, Error>
        do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
        await client.shutdown()
        try await group.waitForAll()
        return try outcome.get()
    }
}

/// Adapts the streaming `RESPDecoder` to a NIO pipeline (the fake server's side).
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

/// A tiny RESP server for cases a real server will not produce: a lying
/// sentinel, a malformed reply. `answer` maps a command's words to raw bytes.
final class FakeServer: Sendable {
    let channel: Channel
    let group: MultiThreadedEventLoopGroup
    let address: ServerAddress

    /// `closeAfter`: whether to close the connection once the answer to those words is written.
    init(
        answer: @escaping @Sendable ([String]) -> String, closeAfter: @escaping @Sendable ([String]) -> Bool = { _ in false }
    ) async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPFrameDecoder()))
                    try child.pipeline.syncOperations.addHandler(FakeServerHandler(answer: answer, closeAfter: closeAfter))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        address = ServerAddress(host: "127.0.0.1", port: channel.localAddress?.port ?? 0)
    }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
    /// A bulk string, as an answer is written.
    static func bulk(_ text: String) -> String { "$\(text.utf8.count)\r\n\(text)\r\n" }

    /// A Pub/Sub message on `channel`.
    static func message(_ channel: String, _ payload: String) -> String {
        "*3\r\n" + bulk("message") + bulk(channel) + bulk(payload)
    }
}

private final class FakeServerHandler: ChannelInboundHandler {
    typealias InboundIn = RESPValue
    typealias OutboundOut = ByteBuffer
    let answer: @Sendable ([String]) -> String
    let closeAfter: @Sendable ([String]) -> Bool

    init(answer: @escaping @Sendable ([String]) -> String, closeAfter: @escaping @Sendable ([String]) -> Bool) {
        self.answer = answer
        self.closeAfter = closeAfter
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let words = (unwrapInboundIn(data).elements ?? []).compactMap(\.string)
        let written = context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer(words))))
        if closeAfter(words) {
            let context = NIOLoopBound(context, eventLoop: context.eventLoop)
            written.whenComplete { _ in context.value.close(promise: nil) }
        }
    }
}

/// Counts what happened to each command of a write loop.
actor Outcomes {
    var acknowledged = 0
    var inDoubt = 0
    var notRun = 0
    var other: [String] = []
    var lastValue: Int64 = 0
    var values: [Int64] = []
    var stopped = false
    func stop() { stopped = true }

    func record(_ result: Result<RESPValue, Error>) {
        switch result {
        case .success(let value) where !value.isError:
            acknowledged += 1
            lastValue = value.integer ?? 0
            values.append(lastValue)
        case .success(let value): other.append(value.errorMessage ?? "")
        case .failure(let error as SentinelClientError):
            if error.code == .commandInDoubt { inDoubt += 1 } else if error.certainlyNotRun { notRun += 1 } else {
                other.append("\(error)")
            }
        case .failure(let error): other.append("\(error)")
        }
    }
}

actor EventRecorder {
    var events: [TopologyEvent] = []
    func append(_ event: TopologyEvent) { events.append(event) }
}

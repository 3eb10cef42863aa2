import NIOCore
import RESP

/// A REPLCONF option a node refused (an older server); the snapshot comes without it.
public struct RefusedOption: Sendable, Hashable {
    public var option: String
    public var message: String
}

/// A snapshot (RDB) coming from one node, read piece by piece with `next()`.
public struct SnapshotStream {
    /// The node it comes from.
    public let node: ServerAddress
    /// The payload's size as the node announced it, or nil when the node streams it
    /// (diskless) and marks its end.
    public let announcedSize: Int?
    public let refusedOptions: [RefusedOption]
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var parser: RDBPayloadParser
    private var first: [UInt8]

    init(
        node: ServerAddress, refusedOptions: [RefusedOption], inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
        parser: RDBPayloadParser, first: [UInt8]
    ) {
        self.node = node
        self.refusedOptions = refusedOptions
        self.inbound = inbound
        self.parser = parser
        self.first = first
        if case .size(let size) = parser.header { announcedSize = size } else { announcedSize = nil }
    }

    /// Payload bytes received so far.
    public var received: Int { parser.delivered }

    /// The next piece of the payload, or nil after its last byte. Throws `snapshotFailed`
    /// when the node ends the connection first.
    public mutating func next() async throws(SentinelClientError) -> [UInt8]? {
        if !first.isEmpty {
            defer { first = [] }
            return first
        }
        while !parser.finished {
            let piece = try await Self.read(&inbound, parser, node)
            do {
                let payload = try parser.feed(piece)
                if !payload.isEmpty { return payload }
            } catch {
                throw .snapshotFailed("\(error)", address: node)
            }
        }
        return nil
    }

    fileprivate static func read(
        _ inbound: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, _ parser: RDBPayloadParser, _ node: ServerAddress
    ) async throws(SentinelClientError) -> [UInt8] {
        let what = parser.header == nil ? "before the snapshot's header" : "after \(parser.delivered) bytes of the snapshot"
        let step = parser.header == nil ? "SYNC" : nil  // no header yet: SYNC itself got no answer
        do {
            guard let buffer = try await inbound.next() else {
                throw SentinelClientError.snapshotFailed("the connection was closed \(what)", address: node, command: step, reason: .connectionLost("closed"))
            }
            return Array(buffer.readableBytesView)
        } catch let error as SentinelClientError {
            throw error
        } catch {
            throw .snapshotFailed("the connection was lost \(what): \(error)", address: node, command: step, reason: .connectionLost("\(error)"))
        }
    }
}

extension SentinelClient {
    /// Fetches a snapshot of the dataset (an RDB file's bytes) as a replica would receive
    /// it (`REPLCONF capa eof`, `REPLCONF rdb-only 1`, `SYNC`), from the least lagging
    /// healthy replica by default, so that the master forks nothing; `functionsOnly` asks
    /// for the functions alone (`REPLCONF rdb-filter-only functions`, Redis 7). `body`
    /// reads the payload; the connection is closed when it returns.
    nonisolated public func fetchRDB<T: Sendable>(
        from source: ScanSource = .replica, functionsOnly: Bool = false,
        _ body: (inout SnapshotStream) async throws -> T
    ) async throws -> T {
        let connection = try await connectForScan(source, avoiding: [])
        let refused: [RefusedOption]
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            refused = try await Self.askForASnapshot(on: connection, functionsOnly: functionsOnly)
            channel = try await Self.takeRawBytes(of: connection)
        } catch {
            connection.close(reason: "the snapshot was not fetched")
            throw error
        }
        let node = connection.address
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: "SYNC\r\n"))
            var stream = try await Self.readHeader(from: inbound.makeAsyncIterator(), node: node, refused: refused)
            return try await body(&stream)
        }
    }

    /// Reads up to the end of SYNC's header line (past the keep-alives).
    private static func readHeader(
        from inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, node: ServerAddress, refused: [RefusedOption]
    ) async throws(SentinelClientError) -> SnapshotStream {
        var iterator = inbound
        var parser = RDBPayloadParser()
        var first: [UInt8] = []
        while parser.header == nil {
            let piece = try await SnapshotStream.read(&iterator, parser, node)
            do {
                first = try parser.feed(piece)
            } catch .refused(let message) {
                throw .snapshotFailed("it refused SYNC: \(message)", address: node, command: "SYNC", reason: .errorReply(message))
            } catch {
                throw .snapshotFailed("\(error)", address: node, command: "SYNC")
            }
        }
        return SnapshotStream(node: node, refusedOptions: refused, inbound: iterator, parser: parser, first: first)
    }

    /// The REPLCONF steps; refused ones are returned, except the functions filter, which is required.
    private static func askForASnapshot(on connection: RedisConnection, functionsOnly: Bool) async throws(SentinelClientError) -> [RefusedOption] {
        var options = [("capa", "eof"), ("rdb-only", "1")]
        if functionsOnly { options.append(("rdb-filter-only", "functions")) }
        var refused: [RefusedOption] = []
        for (option, value) in options {
            let reply = try await connection.send(RESPCommand("REPLCONF", option, value))
            guard let message = reply.errorMessage else { continue }
            if option == "rdb-filter-only" {
                throw .snapshotFailed(
                    "it cannot send the functions alone: \(message)", address: connection.address,
                    command: "REPLCONF \(option) \(value)", reason: .errorReply(message))
            }
            refused.append(RefusedOption(option: option, message: message))
        }
        return refused
    }

    /// From here on the connection carries raw bytes: the RESP handler leaves the
    /// pipeline (it has no reply pending) and an async channel reads what comes.
    private static func takeRawBytes(of connection: RedisConnection) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        let channel = connection.channel
        return try await channel.eventLoop.flatSubmit {
            let pipeline = channel.pipeline.syncOperations
            do {
                let handler = try pipeline.handler(type: RESPChannelHandler.self)
                return pipeline.removeHandler(handler).flatMapThrowing {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }.get()
    }
}

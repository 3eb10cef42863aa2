import NIOCore
import NIOPosix
import RESP

/// One TCP connection to a Redis server or sentinel speaking RESP.
/// Safe to share: every piece of state lives on the channel's event loop.
public final class RedisConnection: Sendable, CustomStringConvertible {
    public let address: ServerAddress
    /// The protocol agreed in the handshake.
    public let protocolVersion: RESPProtocolVersion
    let channel: Channel

    init(address: ServerAddress, channel: Channel, protocolVersion: RESPProtocolVersion) {
        self.address = address
        self.channel = channel
        self.protocolVersion = protocolVersion
    }

    public var description: String { "connection to \(address)" }
    public var isActive: Bool { channel.isActive }

    /// Returns once the connection is closed.
    public func waitUntilClosed() async {
        try? await channel.closeFuture.get()
    }

    /// Connects and runs the handshake (HELLO or AUTH, CLIENT SETNAME, SELECT). The
    /// connection is `address`'s (in errors, in TLS's name check); the socket goes to
    /// `target` when an address map says so.
    static func connect(
        to address: ServerAddress,
        via target: ServerAddress? = nil,
        on group: any EventLoopGroup,
        handshake: HandshakeSettings,
        connectTimeout: TimeAmount,
        commandTimeout: TimeAmount?,
        onPush: (@Sendable (RESPValue) -> Void)? = nil
    ) async throws(SentinelClientError) -> RedisConnection {
        let tls = TLSConnectionSettings(handshake.tls, for: address, dialling: target)
        let eventLoop = group.next()
        let tlsHandshake = tls.map { _ in eventLoop.makePromise(of: Void.self) }
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(connectTimeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls, let tlsHandshake { try tls.addHandlers(to: channel, handshake: tlsHandshake) }
                        try channel.pipeline.syncOperations.addHandler(
                            RESPChannelHandler(address: address, commandTimeout: commandTimeout, onPush: onPush))
                    }
                }
                .dial(target ?? address).get()
        } catch {
            tlsHandshake?.fail(error)
            throw .connectFailed(address: address, reason: Self.classify(error, connectTimeout), underlying: error)
        }
        if let tls, let tlsHandshake {
            try await waitForTLSHandshake(tlsHandshake, on: channel, address: address, dialled: target ?? address, tls, group, connectTimeout)
        }
        let connection = RedisConnection(address: address, channel: channel, protocolVersion: handshake.protocolVersion)
        do {
            return try await connection.runHandshake(handshake)
        } catch {
            connection.close(reason: "handshake failed")
            // TLS 1.3 refuses a missing client certificate after the handshake, at the first
            // read: the server ends the connection. A try cut short by its deadline is not that.
            if tls != nil, !Task.isCancelled, error.code == .commandInDoubt || error.code == .commandNotSent {
                throw .connectFailed(address: address, reason: .tls(.closedAfterHandshake), underlying: error)
            }
            throw error
        }
    }

    /// Waits for the TLS handshake (within `timeout`); a failure closes the channel and
    /// throws `connectFailed` with the `TLSFailure` it stands for.
    private static func waitForTLSHandshake(
        _ handshake: EventLoopPromise<Void>, on channel: any Channel, address: ServerAddress, dialled: ServerAddress,
        _ tls: TLSConnectionSettings, _ group: any EventLoopGroup, _ timeout: TimeAmount
    ) async throws(SentinelClientError) {
        let timedOut = TLSFailure.handshakeTimedOut(milliseconds: Int(timeout.nanoseconds / 1_000_000))
        let deadline = channel.eventLoop.scheduleTask(in: timeout) { handshake.fail(timedOut) }
        defer { deadline.cancel() }
        do {
            // A try cut short by its own deadline (the same length) is this timeout too.
            try await withTaskCancellationHandler {
                try await handshake.futureResult.get()
            } onCancel: {
                handshake.fail(timedOut)
            }
        } catch {
            channel.close(promise: nil)
            var failure = TLSFailure.classify(error)
            if failure == nil {
                failure = await TLSFailure.diagnose(error, address: address, dialled: dialled, settings: tls, on: group, timeout: timeout)
            }
            throw .connectFailed(address: address, reason: .tls(failure ?? .closedDuringHandshake), underlying: error)
        }
    }

    /// Why a connect failed, from the error's type and errno.
    static func classify(_ error: any Error, _ timeout: TimeAmount) -> FailureReason {
        if case ChannelError.connectTimeout = error {
            return .timedOut(milliseconds: Int(timeout.nanoseconds / 1_000_000))
        }
        if let io = error as? IOError, io.errnoCode == ECONNREFUSED { return .connectionRefused }
        if let multi = error as? NIOConnectionError {
            let errnos = multi.connectionErrors.compactMap { ($0.error as? IOError)?.errnoCode }
            if errnos.contains(ECONNREFUSED) { return .connectionRefused }
            // The resolver's own error names its Swift type: the host says it all.
            if multi.connectionErrors.isEmpty, multi.dnsAAAAError ?? multi.dnsAError != nil {
                return .other("cannot resolve \(Printable.escaped(multi.host))")
            }
        }
        return .other("\(error)")
    }

    private func runHandshake(_ settings: HandshakeSettings) async throws(SentinelClientError) -> RedisConnection {
        var negotiated = settings.protocolVersion
        if settings.protocolVersion == .resp3 {
            var hello = ["HELLO", "3"]
            if let credentials = settings.credentials {
                hello += ["AUTH", credentials.user ?? "default", credentials.password]
            }
            if let name = settings.clientName { hello += ["SETNAME", name] }
            let reply = try await send(RESPCommand(strings: hello))
            if let message = reply.errorMessage {
                if Self.isAuthError(reply) { throw authError(message) }
                negotiated = .resp2  // HELLO refused (Redis < 6 or NOPROTO): fall back.
            }
        }
        var setup: [RESPCommand] = []
        if negotiated == .resp2 {
            if let credentials = settings.credentials {
                setup.append(RESPCommand(strings: ["AUTH"] + [credentials.user].compactMap { $0 } + [credentials.password]))
            }
            if let name = settings.clientName { setup.append(RESPCommand("CLIENT", "SETNAME", name)) }
        }
        if settings.database != 0 { setup.append(RESPCommand("SELECT", String(settings.database))) }
        for (command, result) in zip(setup, await pipeline(setup)) {
            let reply = try result.get()
            guard let message = reply.errorMessage else { continue }
            // Any refusal of AUTH is about the credentials, whatever its text.
            if Self.isAuthError(reply) || command.name == "AUTH" { throw authError(message) }
            throw .connectFailed(address: address, reason: .errorReply("\(command.name) refused: \(message)"))
        }
        if negotiated == protocolVersion { return self }
        return RedisConnection(address: address, channel: channel, protocolVersion: negotiated)
    }

    /// Error codes that mean the credentials were refused or lack a permission.
    static func isAuthError(_ reply: RESPValue) -> Bool {
        guard let code = reply.errorCode else { return false }
        return code == "WRONGPASS" || code == "NOAUTH" || code == "NOPERM"
    }

    private func authError(_ message: String) -> SentinelClientError {
        .connectFailed(address: address, reason: .authenticationFailed(message))
    }

    /// Commands that may wait on the server as long as they like: no reply timeout for them.
    public static func mayBlock(_ command: RESPCommand) -> Bool {
        guard let name = command.first else { return false }
        if blockingNames.contains(name) { return true }
        return streamReadNames.contains(name) && command.dropFirst().contains { blockOption.contains($0) }
    }

    private static let blockingNames = CommandNameSet(
        ["BLPOP", "BRPOP", "BLMOVE", "BRPOPLPUSH", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP", "WAIT", "WAITAOF"]
            + CommandNameSet.streamingNames)
    private static let streamReadNames = CommandNameSet(["XREAD", "XREADGROUP"])
    private static let blockOption = CommandNameSet(["BLOCK"])

    /// Sends one command and waits for its reply (an error reply is a value, not a throw).
    /// Cancelling the task closes the connection: the reply will never be read.
    public func send(_ command: RESPCommand, mayBlock: Bool? = nil) async throws(SentinelClientError) -> RESPValue {
        let future = write([command], mayBlock: mayBlock)[0]
        do {
            return try await withTaskCancellationHandler {
                try await future.get()
            } onCancel: {
                self.close(reason: "the command was cancelled")
            }
        } catch {
            throw .wrapping(error, address: address)
        }
    }

    /// Writes every command in one flush; replies come back in order, one result each.
    /// Cancelling the task closes the connection: the unread replies fail in doubt.
    /// One wake-up for the whole pipeline, not one per reply.
    public func pipeline(_ commands: [RESPCommand]) async -> [Result<RESPValue, SentinelClientError>] {
        guard !commands.isEmpty else { return [] }
        return await submit(commands).get(cancelReason: "the pipeline was cancelled")
    }

    /// Low-level pipelining: writes the commands in one flush and returns at once,
    /// so that more can be submitted while the server works on these.
    public func submit(_ commands: [RESPCommand]) -> PendingReplies {
        PendingReplies(connection: self, future: submitFuture(commands))
    }

    /// `submit` as a future that gives one result per command, in order, and never fails.
    func submitFuture(_ commands: [RESPCommand]) -> EventLoopFuture<[Result<RESPValue, SentinelClientError>]> {
        guard !commands.isEmpty else { return channel.eventLoop.makeSucceededFuture([]) }
        let promise = channel.eventLoop.makePromise(of: [Result<RESPValue, SentinelClientError>].self)
        enqueue(commands, delivery: .all(promise), mayBlock: nil)
        return promise.futureResult
    }

    /// Writes commands already in RESP, as they are (a file of them, as `redis-cli --pipe`
    /// sends it): `bytes` holds whole commands, the i-th ending `commandEnds[i]` bytes
    /// after its reader index. One result per command, as `submit(_:)` gives them: a
    /// reply, or a failure that says whether the command was in doubt or not sent (its
    /// command name is not known, so the error names none).
    public func submit(encoded bytes: ByteBuffer, commandEnds: [Int]) -> PendingReplies {
        guard !commandEnds.isEmpty else {
            return PendingReplies(connection: self, future: channel.eventLoop.makeSucceededFuture([]))
        }
        let promise = channel.eventLoop.makePromise(of: [Result<RESPValue, SentinelClientError>].self)
        let start = bytes.readerIndex
        let infos = commandEnds.map { CommandInfo(nameBytes: [], mayBlock: false, end: start + $0) }
        writeRequest(OutboundRequest(bytes: bytes, commands: infos, delivery: .all(promise)))
        return PendingReplies(connection: self, future: promise.futureResult)
    }

    /// Queues the commands in one write and flush, and returns one future per reply.
    func write(_ commands: [RESPCommand], mayBlock: Bool? = nil) -> [EventLoopFuture<RESPValue>] {
        let promises = commands.map { _ in channel.eventLoop.makePromise(of: RESPValue.self) }
        enqueue(commands, delivery: .each(promises), mayBlock: mayBlock)
        return promises.map(\.futureResult)
    }

    private func enqueue(_ commands: [RESPCommand], delivery: ReplyDelivery, mayBlock: Bool?) {
        var size = 0
        for command in commands { size += command.encodedSize }
        var bytes = channel.allocator.buffer(capacity: size)
        var infos: [CommandInfo] = []
        infos.reserveCapacity(commands.count)
        for command in commands {
            command.encode(into: &bytes)
            infos.append(
                CommandInfo(
                    nameBytes: command.first ?? [], mayBlock: mayBlock ?? Self.mayBlock(command),
                    end: bytes.writerIndex))
        }
        writeRequest(OutboundRequest(bytes: bytes, commands: infos, delivery: delivery))
    }

    private func writeRequest(_ request: OutboundRequest) {
        let address = self.address
        channel.writeAndFlush(request).whenFailure { error in
            // The channel was gone before the handler saw the request.
            let reason = (error as? ChannelError) == .ioOnClosedChannel ? "the connection was closed" : "\(error)"
            request.delivery.failAll(request.commands) {
                SentinelClientError.commandNotSent(command: $0.name, address: address, reason: reason)
            }
        }
    }

    /// Sends a command that makes the server talk on its own (SUBSCRIBE, PSUBSCRIBE,
    /// SSUBSCRIBE, MONITOR): every reply from now on, confirmations included, comes
    /// through the stream. The connection is for nothing else afterwards.
    public func stream(_ command: RESPCommand) -> AsyncThrowingStream<RESPValue, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: RESPValue.self)
        var bytes = channel.allocator.buffer(capacity: 64)
        command.encode(into: &bytes)
        channel.writeAndFlush(OutboundRequest(bytes: bytes, commands: [], stream: continuation)).whenFailure { error in
            continuation.finish(throwing: error)
        }
        continuation.onTermination = { [weak channel] termination in
            if case .cancelled = termination { channel?.close(promise: nil) }
        }
        return stream
    }

    /// Writes a further command on a streaming connection (UNSUBSCRIBE); its replies join the stream.
    public func writeToStream(_ command: RESPCommand) {
        var bytes = channel.allocator.buffer(capacity: 64)
        command.encode(into: &bytes)
        channel.writeAndFlush(OutboundRequest(bytes: bytes, commands: []), promise: nil)
    }

    /// Closes the connection; commands still pending fail with `reason`.
    public func close(reason: String = "closed by the client") {
        let channel = self.channel
        channel.eventLoop.execute {
            channel.pipeline.fireUserInboundEventTriggered(ClientCloseRequest(reason: reason))
            channel.close(promise: nil)
        }
    }

    /// Closes and waits until the socket is closed.
    public func closeAndWait(reason: String = "closed by the client") async {
        close(reason: reason)
        await waitUntilClosed()
    }

    /// Waits up to `grace` for the connection to close by itself, then closes it;
    /// returns once it is closed.
    func closeAndWait(after grace: TimeAmount, reason: String) async {
        let deadline = channel.eventLoop.scheduleTask(in: grace) { self.close(reason: reason) }
        await waitUntilClosed()
        deadline.cancel()
    }
}

extension ClientBootstrap {
    /// An IP address is dialled as it is: no resolver thread and no Happy Eyeballs race,
    /// which one address does not need. A host name goes through both.
    fileprivate func dial(_ server: ServerAddress) -> EventLoopFuture<any Channel> {
        if let ip = try? SocketAddress(ipAddress: server.host, port: server.port) { return connect(to: ip) }
        return connect(host: server.host, port: server.port)
    }
}

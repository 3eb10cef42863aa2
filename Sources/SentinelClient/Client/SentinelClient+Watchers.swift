import NIOCore
import RESP

/// One subscription to Sentinel's events per watched sentinel; each message is an
/// input of the state machine.
extension SentinelClient {
    /// Keeps one subscription on `sentinel`, re-subscribing with backoff when the link drops.
    func watch(_ sentinel: ServerAddress) async {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2))
        var everConnected = false
        while !Task.isCancelled, state.isRunning {
            do {
                let connection = try await dial(
                    sentinel, configuration.sentinelHandshake, configuration.sentinelTryTimeout,
                    commandTimeout: .some(configuration.sentinelTryTimeout))
                guard !Task.isCancelled, state.watcherConnected(sentinel, connection) else {
                    connection.close(reason: "the client is shutting down")
                    return
                }
                let messages = connection.stream(RESPCommand(strings: ["SUBSCRIBE"] + SentinelMessage.channels))
                var confirmed = 0
                for try await message in messages {
                    guard let kind = message.elements?.first?.string else { continue }
                    if kind == "subscribe" {
                        confirmed += 1
                        guard confirmed == SentinelMessage.channels.count else { continue }
                        perform(state.watcherLink(sentinel, subscribed: true))
                        backoff.reset()
                        if everConnected {
                            // Messages sent while the link was down are lost: look again.
                            perform(state.requestReconcile(reason: "sentinel \(sentinel) link re-established", waiter: nil))
                        }
                        everConnected = true
                    } else if kind == "message" {
                        handle(message, from: sentinel)
                    } else if kind == "unsubscribe", message.elements?.last?.integer == 0 {
                        connection.close(reason: "unsubscribed")
                    }
                }
            } catch {
                logger.debug("sentinel watcher link failed", metadata: ["sentinel": "\(sentinel)", "error": "\(error)"])
            }
            perform(state.watcherLink(sentinel, subscribed: false))
            guard !Task.isCancelled, state.isRunning else { return }
            try? await Task.sleep(nanoseconds: UInt64(backoff.next().nanoseconds))
        }
    }

    private func handle(_ message: RESPValue, from sentinel: ServerAddress) {
        guard let items = message.elements, items.count >= 3, let channel = items[1].string,
            let payload = items[2].string
        else { return }
        logger.debug("sentinel event", metadata: ["sentinel": "\(sentinel)", "channel": "\(channel)", "payload": "\(payload)"])
        perform(state.sentinelMessage(channel: channel, payload: payload, from: sentinel, now: .now()))
    }
}

import NIOConcurrencyHelpers
import RESP
import SentinelClient
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// `--stat`: redis-cli's rolling line of INFO figures, every `-i` seconds (1 by
/// default), on the master Sentinel names. At a failover a mark line names the old and
/// the new master and the time, the header comes again and the figures restart there.
enum StatMode {
    static func run(client: SentinelClient, interval: Double, output: TerminalOutput) async -> Int32 {
        let period = interval > 0 ? interval : 1
        return await untilCtrlC {
            var lines = 0
            var requests = 0
            var follower = MasterFollower()
            while !Task.isCancelled {
                let answer: (ServerAddress, RESPValue)
                do {
                    answer = try await client.withConnection { connection in (connection.address, try await connection.send(RESPCommand("INFO"))) }
                } catch {
                    if Task.isCancelled { break }  // Ctrl-C, not the master
                    if let notice = follower.failed(error) { output.write(notice) }
                    await sleepCancellably(period)
                    continue
                }
                if let message = answer.1.errorMessage {
                    Session.standardError.write("ERROR: \(message)\n")
                    return 1
                }
                if let mark = follower.answered(by: answer.0) {
                    output.write(mark)
                    lines = 0
                    requests = 0
                }
                if lines % 20 == 0 { output.write(header) }
                lines += 1
                output.write(line(Array(answer.1.bytes?.readableBytesView ?? []), requests: &requests))
                await sleepCancellably(period)
            }
            return 0
        }
    }

    static let header = """
        ------- data ------ --------------------- load -------------------- - child -
        keys       mem      clients blocked requests            connections          

        """

    /// One line of figures as `statMode` prints it; `requests` is the last total seen.
    static func line(_ info: [UInt8], requests: inout Int) -> String {
        let keys = (0..<20).compactMap { InfoField.long(info, "db\($0):keys") }.reduce(0, +)
        var text = CFormat.padded(String(keys), -11)
        text += CFormat.padded(bytesToHuman(InfoField.long(info, "used_memory") ?? Int.min), -8)
        text += " " + CFormat.padded(String(InfoField.long(info, "connected_clients") ?? Int.min), -8)
        text += CFormat.padded(String(InfoField.long(info, "blocked_clients") ?? Int.min), -8)
        let total = InfoField.long(info, "total_commands_processed") ?? Int.min
        text += CFormat.padded("\(total) (+\(requests == 0 ? 0 : total &- requests))", -19)
        requests = total
        text += " " + CFormat.padded(String(InfoField.long(info, "total_connections_received") ?? Int.min), -12)
        let child = (InfoField.long(info, "bgsave_in_progress") ?? Int.min)
            | ((InfoField.long(info, "aof_rewrite_in_progress") ?? Int.min) << 1)
            | ((InfoField.long(info, "loading") ?? Int.min) << 2)
        text += [1: "SAVE", 2: "AOF", 3: "SAVE+AOF", 4: "LOAD"][child] ?? ""
        return text + "\n"
    }

    /// redis-cli's `bytesToHuman`.
    static func bytesToHuman(_ bytes: Int) -> String {
        let sign = bytes < 0 ? "-" : ""
        let n = bytes == Int.min ? Int.max : abs(bytes)
        let units: [(Int, String)] = [(1 << 10, "K"), (1 << 20, "M"), (1 << 30, "G")]
        if n < 1024 { return "\(sign)\(n)B" }
        for (scale, unit) in units where n < scale * 1024 {
            return sign + CFormat.number("%.2f", Double(n) / Double(scale)) + unit
        }
        return sign
    }
}

/// Which master the following modes last measured, and the lines they print when it
/// changes or none answers (once, not once per retry).
struct MasterFollower {
    private var master: ServerAddress?
    private var unreachableNoted = false

    /// `node` answered: the mark line when it is another master than the last one.
    mutating func answered(by node: ServerAddress) -> String? {
        defer { master = node }
        unreachableNoted = false
        guard let previous = master, previous != node else { return nil }
        return "-- master \(previous) -> \(node) at \(Self.clock()) (a failover; the figures restart on the new master)\n"
    }

    /// No master answered: the notice, the first time in a row.
    mutating func failed(_ error: any Error) -> String? {
        defer { unreachableNoted = true }
        return unreachableNoted ? nil : "-- no master reachable at \(Self.clock()) (\(error)); waiting for Sentinel to name one\n"
    }

    /// HH:MM:SS, local time.
    static func clock() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        return CFormat.number("%02d", parts.tm_hour) + ":" + CFormat.number("%02d", parts.tm_min) + ":" + CFormat.number("%02d", parts.tm_sec)
    }
}

/// Runs `body` until it returns or SIGINT cancels it (then 0, as redis-cli's modes end).
func untilCtrlC(_ body: @escaping @Sendable () async -> Int32) async -> Int32 {
    let signals = await UnixSignalsSequence(trapping: .sigint)
    return await withTaskGroup(of: Int32?.self) { tasks in
        tasks.addTask { await body() }
        tasks.addTask {
            for await _ in signals { return 0 }
            return nil
        }
        var status: Int32 = 0
        for await result in tasks {
            if let result {
                status = result
                tasks.cancelAll()
                break
            }
        }
        return status
    }
}

/// A sleep that cancellation ends early.
func sleepCancellably(_ seconds: Double) async {
    try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
}

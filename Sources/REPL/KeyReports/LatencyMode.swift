import NIOCore
import RESP
import SentinelClient

#if canImport(Glibc)
    import Glibc
#endif

/// `--latency` and `--latency-history`: PING every 10 ms on the master Sentinel names,
/// min, max and average in whole milliseconds as redis-cli prints them. At a failover a
/// mark line names the old and the new master and the figures restart there.
enum LatencyMode {
    struct Figures {
        var min = 0, max = 0, total = 0, count = 0

        mutating func add(_ latency: Int) {
            count += 1
            if count == 1 {
                (min, max, total) = (latency, latency, latency)
            } else {
                min = Swift.min(min, latency)
                max = Swift.max(max, latency)
                total += latency
            }
        }

        var average: Double { count > 0 ? Double(total) / Double(count) : 0 }
    }

    /// `history`: `--latency-history`; `interval`: `-i` seconds (0: redis-cli's defaults).
    static func run(client: SentinelClient, history: Bool, interval: Double, mode: ReplyRenderer.Mode, output: TerminalOutput) async -> Int32 {
        let historyPeriod = interval > 0 ? Int(interval * 1000) : 15000
        let onePass = interval > 0 ? Int(interval * 1000) : 1000
        return await untilCtrlC {
            var figures = Figures()
            var follower = MasterFollower()
            var historyStart = milliseconds()
            while !Task.isCancelled {
                let ping = await Self.ping(client, &follower) { output.write((mode == .tty ? "\n" : "") + $0) }
                guard let ping else {
                    await sleepCancellably(Double(historyPeriod) / 1000)
                    continue
                }
                let latency = ping.end / 1000 - ping.start / 1000  // as redis-cli: mstime() - mstime()
                if let mark = ping.mark {
                    output.write((mode == .tty ? "\n" : "") + mark)
                    figures = Figures()
                    historyStart = milliseconds()
                }
                figures.add(latency)
                if mode == .tty {
                    output.write("\u{1b}[0G\u{1b}[2K" + print(figures, mode))
                } else if history {
                    output.write(print(figures, mode))
                } else if milliseconds() - historyStart > onePass {
                    output.write(print(figures, mode))
                    return 0
                }
                if history && milliseconds() - historyStart > historyPeriod {
                    output.write(" -- " + CFormat.number("%.2f", Double(Float(milliseconds() - historyStart) / 1000)) + " seconds range\n")
                    historyStart = milliseconds()
                    figures = Figures()
                }
                await sleepCancellably(0.01)
            }
            return 0
        }
    }

    /// One PING on the master in use: when it started and ended (µs), and the mark line when
    /// another master answered it than the last one; nil when none answered (`notice` gets
    /// the notice once per outage) or on Ctrl-C.
    static func ping(
        _ client: SentinelClient, _ follower: inout MasterFollower, notice: (String) -> Void
    ) async -> (start: Int, end: Int, mark: String?)? {
        do {
            // Timed around the PING alone, as redis-cli times its command: not the pool's lease.
            let (start, end, node) = try await client.withConnection { connection in
                let start = microseconds()
                _ = try await connection.send(RESPCommand("PING"))
                return (start, microseconds(), connection.address)
            }
            return (start, end, follower.answered(by: node))
        } catch {
            if !Task.isCancelled, let text = follower.failed(error) { notice(text) }  // Ctrl-C is not a lost master
            return nil
        }
    }

    /// `latencyModePrint`.
    static func print(_ figures: Figures, _ mode: ReplyRenderer.Mode) -> String {
        let (min, max, count) = (figures.min, figures.max, figures.count)
        let average = CFormat.number("%.2f", figures.average)
        switch mode {
        case .tty: return "min: \(min), max: \(max), avg: \(average) (\(count) samples)"
        case .csv: return "\(min),\(max),\(average),\(count)\n"
        case .json, .quotedJSON: return "{\"min\": \(min), \"max\": \(max), \"avg\": \(average), \"count\": \(count)}\n"
        default: return "\(min) \(max) \(average) \(count)\n"
        }
    }

    /// redis-cli's `mstime()`: wall-clock milliseconds.
    static func milliseconds() -> Int { microseconds() / 1000 }

    /// redis-cli's `ustime()`: wall-clock microseconds.
    static func microseconds() -> Int {
        var now = timeval()
        gettimeofday(&now, nil)
        return Int(now.tv_sec) * 1_000_000 + Int(now.tv_usec)
    }
}

import NIOConcurrencyHelpers
import NIOCore
import RESP
import SentinelClient
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// What a keyspace scan mode was asked for (`--pattern`, `--count`, `--cursor`, `--master`, `-i`).
package struct ScanOptions: Sendable {
    /// What the scan reports: the keys (`--scan`), or redis-cli's `--bigkeys` or
    /// `--memkeys [--memkeys-samples N]` report.
    package enum Report: Sendable, Equatable {
        case keys, bigKeys, hotKeys
        case memKeys(samples: Int)
        /// `--keystats`: MEMORY USAGE's SAMPLES (nil: the server's default) and `--top`.
        case keyStats(samples: Int?, top: Int)
    }

    package var report = Report.keys
    package var match: [UInt8]?
    package var count: Int?
    package var cursor = "0"
    /// `--master`: scan the master instead of a healthy replica.
    package var onMaster = false
    /// `-i`: seconds to sleep after each page.
    package var interval: Double = 0

    package init() {}

    var source: ScanSource { onMaster ? .master : .replica }

    /// `--memkeys`' samples (0: MEMORY USAGE's default); nil for the other reports.
    var memkeys: Int? {
        if case .memKeys(let samples) = report { samples } else { nil }
    }
}

/// `--scan`: every key (matching `--pattern`), one a line, as redis-cli prints them
/// (quoted on a terminal, raw otherwise), read from a healthy replica unless `--master`.
/// Ctrl-C ends it after the page under way and says the cursor that resumes it.
enum ScanMode {
    static func run(client: SentinelClient, options: ScanOptions, quoted: Bool, output: TerminalOutput) async -> Int32 {
        var scan = client.scan(source: options.source, match: options.match, count: options.count, from: options.cursor)
        defer { scan.close() }
        return await withInterruptFlag { interrupted -> Int32 in
            do throws(SentinelClientError) {
                while let page = try await scan.next() {
                    output.write(lines(page.keys, quoted: quoted))
                    if interrupted() && !scan.finished {
                        ResumeNotice.write(cursor: scan.cursor, node: scan.node, to: output)
                        break
                    }
                    if options.interval > 0 { try? await Task.sleep(nanoseconds: UInt64(options.interval * 1e9)) }
                }
            } catch {
                Session.standardError.write("sentinel-repl: \(error)\(hint(for: error, options))\n")
                return 1
            }
            for move in scan.moves { Session.standardError.write(ResumeNotice.moved(move)) }
            return 0
        }
    }

    /// One key a line: `sdscatrepr` on a terminal (`--no-raw`), else the bytes up to a NUL as redis-cli's `printf("%s")`.
    static func lines(_ keys: [ByteBuffer], quoted: Bool) -> [UInt8] {
        var out: [UInt8] = []
        for key in keys {
            let bytes = Array(key.readableBytesView)
            out += quoted ? ReplyRenderer.quoted(bytes) : Array(bytes.prefix { $0 != 0 })
            out.append(10)
        }
        return out
    }

    static func hint(for error: SentinelClientError, _ options: ScanOptions) -> String {
        hint(for: error, onMaster: options.onMaster)
    }

    static func hint(for error: SentinelClientError, onMaster: Bool) -> String {
        error.code == .noHealthyReplica && !onMaster ? " (--master reads the master instead)" : ""
    }
}

/// Runs `body` with SIGINT trapped; `body` asks `interrupted()` between pages and stops
/// there, as redis-cli's scans stop after the page under way. `onInterrupt` runs at each
/// SIGINT (to wake a `body` that waits for input).
func withInterruptFlag(
    onInterrupt: @escaping @Sendable () -> Void = {}, _ body: (_ interrupted: @escaping @Sendable () -> Bool) async -> Int32
) async -> Int32 {
    let flag = NIOLockedValueBox(false)
    let signals = await UnixSignalsSequence(trapping: .sigint)
    return await withTaskGroup(of: Void.self) { tasks -> Int32 in
        tasks.addTask {
            for await _ in signals {
                flag.withLockedValue { $0 = true }
                onInterrupt()
            }
        }
        defer { tasks.cancelAll() }
        return await body { flag.withLockedValue { $0 } }
    }
}

/// What a scan says beside its output: where to resume, and that it moved.
enum ResumeNotice {
    /// On the terminal: on stdout when it is one, else on the controlling terminal, so
    /// that a key list piped to a file stays a key list.
    static func write(cursor: String, node: ServerAddress?, to output: TerminalOutput) {
        let on = node.map { " on \($0)" } ?? ""
        let line = "-- interrupted: --cursor \(cursor) resumes the scan\(on) (a cursor means something on that server only)\n"
        if isatty(1) == 1 {
            output.write(line)
        } else {
            let tty = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC)
            guard tty >= 0 else { return }
            defer { close(tty) }
            TerminalOutput(fd: tty).write(line)
        }
    }

    static func moved(_ move: ScanMove) -> String {
        "sentinel-repl: the scan \(move) (a cursor is one server's): the keys of its \(move.pagesBefore) pages before the move may be listed twice\n"
    }
}

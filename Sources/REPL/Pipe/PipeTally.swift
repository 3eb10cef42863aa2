import RESP
import SentinelClient

/// What became of the commands `--pipe` sent: counted reply by reply, in order.
package struct PipeTally: Equatable {
    /// Commands answered, error replies included (redis-cli's `replies`).
    package var replies = 0
    /// Error replies (redis-cli's `errors`).
    package var errors = 0
    /// Error replies that say the node is no longer the master: those commands did not run.
    package var readOnly = 0
    /// Written, not answered: they may have run.
    package var inDoubt = 0
    /// Never written.
    package var notSent = 0
    /// Why the stream stopped short, at the first reply or failure that says so.
    package var stop: String?
    /// Where in the input the first command that surely did not run starts (refused with
    /// READONLY, or not sent): from there on is what is left to send.
    package var resumeOffset: Int?
    /// After a stop on an input that is not a file: the byte from which it was not read.
    package var restUnreadFrom: Int?

    package init() {}

    /// Counts one chunk's results (the chunk starts at byte `base` of the input, its
    /// commands end at `ends` from there); returns the error replies' text, one a line,
    /// as redis-cli prints them.
    package mutating func record(
        _ results: [Result<RESPValue, SentinelClientError>], base: Int, ends: [Int], from address: ServerAddress
    ) -> [UInt8] {
        var errorLines: [UInt8] = []
        for (index, result) in results.enumerated() {
            let start = base + (index == 0 ? 0 : ends[index - 1])
            switch result {
            case .success(let reply):
                replies += 1
                guard Self.isError(reply), let message = reply.errorMessage else { continue }
                errors += 1
                errorLines += Array(message.utf8) + [10]
                if reply.errorCode == "READONLY" {
                    readOnly += 1
                    markNotRun(at: start)
                    if stop == nil { stop = "\(address) is no longer the master (READONLY)" }
                }
            case .failure(let error):
                // Only a command surely never written is not sent; any other failure (a
                // reply that could not be read, say) may have run.
                if error.code == .commandNotSent {
                    notSent += 1
                    markNotRun(at: start)
                } else {
                    inDoubt += 1
                }
                if stop == nil { stop = "the connection to \(address) was lost (\(error.reason.map { "\($0)" } ?? "\(error)"))" }
            }
        }
        return errorLines
    }

    /// Without building the message: most replies are not errors.
    private static func isError(_ reply: RESPValue) -> Bool {
        switch reply {
        case .error, .blobError: true
        case .attribute(_, let value): isError(value)
        default: false
        }
    }

    /// Commands of the input never handed to the connection (after the stop, or after malformed input).
    package mutating func unsent(_ count: Int, from offset: Int) {
        notSent += count
        if count > 0 { markNotRun(at: offset) }
    }

    /// The earliest wins: chunks still in flight are counted after the input read past
    /// them, so the first command not run is not always the first one counted.
    package mutating func markNotRun(at offset: Int) {
        resumeOffset = min(resumeOffset ?? offset, offset)
    }

    /// Every command accounted for once: the lines `--pipe` ends with when it stopped short.
    package func stopReport() -> String? {
        guard let stop else { return nil }
        var text = "sentinel-repl: --pipe stopped: \(stop). Of \(replies + inDoubt + notSent) commands: \(replies) answered"
        if readOnly > 0 { text += " (\(readOnly) of them refused with READONLY: not run)" }
        text += ", \(inDoubt) in doubt (written, not answered: they may have run), \(notSent) not sent"
        if let restUnreadFrom { text += ", and the input from byte \(restUnreadFrom) on not read" }
        text += "; none was sent twice.\n"
        if let resumeOffset {
            text += "sentinel-repl: what is left to send starts at byte \(resumeOffset) of the input, with the first command that did not run"
            text += " (tail -c +\(resumeOffset + 1) FILE | sentinel-repl ... --pipe)"
            text += inDoubt == 0 ? ".\n" : readOnly > 0 ? "; the \(inDoubt) in doubt follow it.\n" : "; the \(inDoubt) in doubt come just before it.\n"
        }
        return text
    }
}

import DequeModule
import NIOCore
import RESP
import SentinelClient

/// Pasted or piped lines: every line runs exactly once, in order, pipelined on
/// the session connection, and yields exactly one reply or one error line.
///
/// Lines are written in chunks; up to `window` chunks are in flight at once, so
/// the server works on one chunk while the replies of the one before it are
/// printed. A chunk's replies are printed in one write.
struct BatchState {
    /// Lines waiting to be written, in order.
    var queue: Deque<BatchPipeline.BatchEntry> = []
    /// Chunks written on the session connection, oldest first.
    var inFlight: [BatchPipeline.InFlightChunk] = []
    /// Print each line after the prompt before its reply (a paste).
    var echo = false
    /// Set while lines run, so that Ctrl-C between two chunks is not lost.
    var running = false
    var abandoned = false
    /// The MULTI or WATCH block open where lines are being written, and the connection
    /// its first line went to (see `BatchPipeline.step`).
    var openBlock: OpenBlock?

    static let chunkSize = 1024
    /// A paste's transcript appears a chunk at a time: smaller chunks, so that a slow
    /// or blocking command holds back few of the lines before it.
    static let echoChunkSize = 128
    static let window = 4
}

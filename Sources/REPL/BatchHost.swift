import RESP
import SentinelClient

/// What the batch pipeline needs of the session it runs in, and nothing more: the
/// session connection, the state on it, rendering and the prompt. `Session` is the
/// one host; the pipeline keeps no reference to it.
protocol BatchHost: Actor {
    nonisolated var output: TerminalOutput { get }

    // The session connection.
    /// The connection for pipelined lines, new (SELECT restored) when need be.
    func sessionConnection() async throws -> RedisConnection
    /// The session connection if it can serve as it is.
    func usableSessionConnection() async -> RedisConnection?
    func isSessionConnection(_ connection: RedisConnection) -> Bool
    func dropSessionConnection(error: String) async
    /// Runs `command` alone on the session connection, under Ctrl-C.
    func sendOnSession(_ command: RESPCommand) async -> (Result<RESPValue, SentinelClientError>, interrupted: Bool)
    /// MULTI/WATCH and the database on the session connection (`ConnectionState`, the one owner).
    func withConnectionState<T>(_ body: (inout ConnectionState) -> T) -> T
    /// A reply on the session connection: its state follows; true when the prompt changed.
    func track(_ command: RESPCommand, _ reply: RESPValue) -> Bool
    /// True on a master session: a write a demoted master refused runs again on the new one.
    var redirectsRefusedWrites: Bool { get }
    /// Asks Sentinel again (a batch lost its connection).
    func reconcile(reason: String) async

    // Lines that run alone, and Ctrl-C.
    func runLine(_ line: SplitLine) async -> Bool
    func runInterruptibly<T: Sendable>(_ operation: @escaping @Sendable () async -> T) async -> (T, interrupted: Bool)
    func discardTypeahead() async -> Int

    // The transcript.
    func prompt() async -> String
    func echo(_ line: [UInt8]) async
    func appendRendered(_ reply: RESPValue, _ command: RESPCommand, into out: inout [UInt8])
    func errorLine(_ error: Error) -> [UInt8]
}

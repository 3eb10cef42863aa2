/// What one line of a collected chunk prints or asks for (`BatchStateMachine.outcome`).
/// Payload-free: the pipeline reads the line and its reply where they are (the hot path
/// copies no reply).
enum BatchOutcome: Equatable {
    /// Printed as it is (`BatchLine.output`).
    case text
    /// Its MULTI or WATCH block was lost: `LostBlock`.
    case lostBlock
    /// A barrier (it ran alone), or a line with no reply to show.
    case nothing
    case reply
    /// A write a demoted master refused (READONLY, `message`): it runs alone on the new master.
    case runAlone(message: String)
    /// Ctrl-C cut the reply short: the batch is abandoned here.
    case interrupted
    /// Never written (the connection dropped before it): it and all after it go out again.
    case resendFromHere
    /// The error its reply is.
    case failed
}

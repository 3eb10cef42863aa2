/// Ctrl-C for the command that runs now: the one place that says what it cancels and
/// whether it came. A batch also hears of it (`BatchPipeline.interrupt`), between chunks.
struct Interruption {
    /// Cancels the command that runs now; set while one runs.
    private var cancelCurrent: (@Sendable () -> Void)?
    private var requested = false

    /// A command starts; `cancel` stops it.
    mutating func begin(cancel: @escaping @Sendable () -> Void) {
        requested = false
        cancelCurrent = cancel
    }

    /// Ctrl-C: cancels the command that runs now, if any.
    mutating func request() {
        guard let cancelCurrent else { return }
        requested = true
        cancelCurrent()
    }

    /// The command ended; true when Ctrl-C cut it short.
    mutating func end() -> Bool {
        defer {
            cancelCurrent = nil
            requested = false
        }
        return requested
    }
}

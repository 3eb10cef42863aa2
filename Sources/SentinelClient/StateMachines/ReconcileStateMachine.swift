/// When to ask Sentinel again, as a plain state machine: the client's reconcile
/// loop performs the runs it asks for and resumes the waiters it hands back.
///
/// A request made while a run is under way is served by a later run, never by
/// the one already running (which may have read the topology before the event
/// that prompted the request). Requests that arrive meanwhile share that one
/// later run.
struct ReconcileStateMachine<Waiter> {
    enum RequestAction: Equatable {
        /// Nothing runs: start a run now.
        case startRun
        /// A run is under way; another follows it.
        case queued
    }

    enum FinishAction {
        /// Requests came during the run: run again; resume these now.
        case runAgain(resume: [Waiter])
        /// Settled: resume these; the loop waits for the next request.
        case settled(resume: [Waiter])
    }

    private enum State { case idle, running(again: Bool) }
    private var state = State.idle
    /// Waiting for the run under way to end.
    private var current: [Waiter] = []
    /// Waiting for the run after it.
    private var next: [Waiter] = []

    var isRunning: Bool {
        if case .running = state { return true }
        return false
    }

    /// Someone wants the topology checked; `waiter` (if any) is resumed when a run that
    /// started after this request has ended.
    mutating func request(_ waiter: Waiter?) -> RequestAction {
        switch state {
        case .idle:
            state = .running(again: false)
            current += waiter.map { [$0] } ?? []
            return .startRun
        case .running:
            state = .running(again: true)
            next += waiter.map { [$0] } ?? []
            return .queued
        }
    }

    mutating func runFinished() -> FinishAction {
        let done = current
        guard case .running(again: true) = state else {
            state = .idle
            current = []
            return .settled(resume: done)
        }
        state = .running(again: false)
        current = next
        next = []
        return .runAgain(resume: done)
    }

    /// Shutdown: nothing more runs; every waiter is resumed.
    mutating func stop() -> [Waiter] {
        defer {
            current = []
            next = []
            state = .idle
        }
        return current + next
    }
}

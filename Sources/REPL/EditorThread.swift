import CLibedit
import DequeModule
import Dispatch
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// State only the editor thread touches.
final class EditorThreadState: @unchecked Sendable {
    var el: OpaquePointer?
    var history: OpaquePointer?
    var promptBuffer: UnsafeMutablePointer<CChar>?
    var interrupted = false
    var endOfInput = false
    /// The terminal as it was before the editor touched it, restored at close.
    var originalSettings: termios?
    var buffer = [UInt8](repeating: 0, count: 65536)
    var bufferStart = 0
    var bufferEnd = 0
    /// The last line taken ended in CR at the end of what had arrived: an LF may follow.
    var lineEndedInCR = false
    /// The last byte libedit read.
    var lastByteRead: UInt8?
    /// An argument hint is drawn after the cursor (erased before the next key).
    var hintShown = false
    var hintsOff = false
    /// The text and candidate count TAB listed last (listed once).
    var listedFor: String?
}

/// One dedicated OS thread running submitted jobs in order.
final class EditorThread: Sendable {
    /// Runs `body` once on a detached thread of its own.
    static func detached(_ body: @escaping @Sendable () -> Void) {
        let thread = EditorThread()
        thread.run(body)
        thread.stop()
    }

    /// A deque: a paste queues a job per line faster than they run, and an array's
    /// removeFirst moved all the waiting ones each time (callgrind: half of a pasted line's cost).
    private let jobs = NIOLockedValueBox<Deque<(@Sendable () -> Void)?>>([])
    private let available = DispatchSemaphore(value: 0)

    init() {
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        pthread_create(&thread, nil, { context in
            let owner = Unmanaged<EditorThread>.fromOpaque(context!).takeRetainedValue()
            owner.loop()
            return nil
        }, context)
        pthread_detach(thread)
    }

    func run(_ job: @escaping @Sendable () -> Void) {
        jobs.withLockedValue { $0.append(job) }
        available.signal()
    }

    func runAndWait(_ job: @escaping @Sendable () -> Void) {
        let done = DispatchSemaphore(value: 0)
        run {
            job()
            done.signal()
        }
        done.wait()
    }

    /// Ends the loop after the jobs already submitted.
    func stop() {
        jobs.withLockedValue { $0.append(nil) }
        available.signal()
    }

    private func loop() {
        while true {
            available.wait()
            let job = jobs.withLockedValue { $0.removeFirst() }
            guard let job else { return }
            job()
        }
    }
}

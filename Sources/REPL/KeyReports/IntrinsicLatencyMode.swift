import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// `--intrinsic-latency SECONDS`: how long this machine keeps a process from running
/// (redis-cli's `intrinsicLatencyMode`): the same small computation over and over, the
/// longest gap printed as it grows. It measures where it runs; it asks no server.
enum IntrinsicLatencyMode {
    static func run(seconds: Int, output: TerminalOutput) async -> Int32 {
        await withInterruptFlag { interrupted in
            // A thread of its own: the loop spins for the whole run.
            await withCheckedContinuation { done in
                EditorThread.detached {
                    measure(seconds: seconds, interrupted: interrupted, output: output)
                    done.resume()
                }
            }
            return 0
        }
    }

    private static func measure(seconds: Int, interrupted: () -> Bool, output: TerminalOutput) {
        let runTime = seconds * 1_000_000
        let end = LatencyMode.microseconds() + runTime
        var maxLatency = 0
        var runs = 0
        var sink = 0
        while true {
            let start = LatencyMode.microseconds()
            sink &+= computeSomethingFast()
            let now = LatencyMode.microseconds()
            let latency = now - start
            runs += 1
            if latency <= 0 { continue }
            if latency > maxLatency {
                maxLatency = latency
                output.write("Max latency so far: \(maxLatency) microseconds.\n")
            }
            if interrupted() || now > end { break }
        }
        let averageMicroseconds = Double(runTime) / Double(runs)
        output.write(
            "\n\(runs) total runs (avg latency: \(CFormat.number("%.4f", averageMicroseconds)) microseconds / "
                + "\(CFormat.number("%.2f", averageMicroseconds * 1e3)) nanoseconds per run).\n"
                + "Worst run took \(CFormat.number("%.0f", Double(maxLatency) / averageMicroseconds))x longer than the average latency.\n")
        if sink == 42 { output.write("") }  // keeps the computation from being optimised away
    }

    /// `compute_something_fast`: an RC4-like shuffle, about a microsecond.
    @inline(never)
    static func computeSomethingFast() -> Int {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { s in
            for k in 0..<256 { s[k] = UInt8(k) }
            var i: UInt8 = 0, j: UInt8 = 0
            var output = 0
            for _ in 0..<1000 {
                i &+= 1
                j &+= s[Int(i)]
                s.swapAt(Int(i), Int(j))
                output &+= Int(s[Int(s[Int(i)] &+ s[Int(j)])])
            }
            return output
        }
    }
}

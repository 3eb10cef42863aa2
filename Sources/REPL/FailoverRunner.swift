import NIOCore
import SentinelClient
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// `--failover` on the command line: the plan, the question (unless `--yes`), the
/// coordinated failover with Ctrl-C heeded, the summary. Exit 0 when it is done.
enum FailoverRunner {
    static func fromCommandLine(client: SentinelClient, assumeYes: Bool, output: TerminalOutput) async -> Int32 {
        let plan: FailoverPlan
        do {
            plan = try await client.failoverPlan()
        } catch {
            Session.standardError.write("sentinel-repl: \(error)\n")
            return 1
        }
        output.write(FailoverPresentation.plan(plan))
        if !assumeYes {
            guard isatty(0) == 1 else {
                Session.standardError.write(FailoverPresentation.pipedRefusal)
                return 1
            }
            output.write(FailoverPresentation.question)
            guard confirmed(Swift.readLine()) else {
                output.write(FailoverPresentation.notConfirmed)
                return 1
            }
        }
        return await runStoppedByCtrlC(plan, client: client, output: output)
    }

    static func confirmed(_ answer: String?) -> Bool {
        ["yes", "y"].contains(answer?.trimmingSpaces.lowercased() ?? "")
    }

    /// SIGINT or SIGTERM cancels the failover: before `SENTINEL FAILOVER` writes resume
    /// and nothing changes; after it, the switch runs to its end.
    private static func runStoppedByCtrlC(_ plan: FailoverPlan, client: SentinelClient, output: TerminalOutput) async -> Int32 {
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        return await withTaskGroup(of: Int32?.self) { tasks in
            tasks.addTask {
                do {
                    output.write(FailoverPresentation.summary(try await client.coordinatedFailover(plan)))
                    return 0
                } catch {
                    Session.standardError.write("sentinel-repl: \(error)\n")
                    return 1
                }
            }
            tasks.addTask {
                for await _ in signals { return nil }
                return nil
            }
            var status: Int32 = 1
            for await result in tasks {
                tasks.cancelAll()
                if let result {
                    status = result
                    break
                }
            }
            return status
        }
    }
}

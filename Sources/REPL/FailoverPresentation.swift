import NIOCore
import SentinelClient

/// How a coordinated failover's plan and outcome read, in the style of `:master`.
enum FailoverPresentation {
    static func plan(_ plan: FailoverPlan) -> String {
        var lines = ["failover of \(plan.masterName) (\(plan.server))"]
        lines.append("master      \(plan.master), offset \(plan.masterOffset)")
        for replica in plan.replicas {
            let lag = replica.lagBytes.map { "\($0) bytes behind" } ?? "lag unknown"
            let fit = replica.healthy ? "" : " (not eligible: \(replica.flags))"
            lines.append("replica     \(replica.address), \(lag)\(fit)")
        }
        if plan.replicas.isEmpty { lines.append("replica     none: there is nothing to promote") }
        lines.append("quorum      \(plan.quorum.map { "\($0)" } ?? "could not be checked")")
        lines.append("method      \(plan.method)")
        return lines.joined(separator: "\n") + "\n"
    }

    static func summary(_ outcome: FailoverOutcome) -> String {
        var parts = ["-- failover done: \(outcome.oldMaster) -> \(outcome.newMaster) in \(seconds(outcome.total)) s"]
        if let held = outcome.writesHeld {
            parts.append("writes held \(held.nanoseconds / 1_000_000) ms")
        } else {
            parts.append("writes held by the server (COORDINATED)")
        }
        if let master = outcome.masterOffset, let promoted = outcome.promotedOffset {
            let match = promoted >= master ? "offsets matched" : "OFFSETS DIFFER"
            parts.append("\(match) (master \(master), promoted replica \(promoted))")
        }
        return parts.joined(separator: "; ") + "\n"
    }

    static let question = "Run this failover? Writes pause for a moment and the master moves. (yes/no) "
    static let notConfirmed = "-- no failover: it was not confirmed\n"
    static let pipedRefusal = "-- no failover: piped input never answers the question (sentinel-repl --failover --yes runs one without asking)\n"

    private static func seconds(_ amount: TimeAmount) -> String {
        SessionPresentation.twoDecimals(Double(amount.nanoseconds) / 1e9)
    }
}

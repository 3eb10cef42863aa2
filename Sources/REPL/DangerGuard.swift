import RESP

/// The question asked before lines that destroy data or read a huge key, as text:
/// pure, so that what a person reads is tested without a terminal.
package struct DangerQuestion: Sendable, Equatable {
    /// One dangerous line of what is about to run.
    package struct Found: Sendable, Equatable {
        /// 1-based, within the lines about to run.
        package var line: Int
        package var danger: DangerousCommands.Danger
        /// What the question shows about the target: `db 0, 1,204,332 keys`.
        package var context: String
    }

    /// A line printed above the question (a paste), or nil.
    package var heading: String?
    /// The question itself, as the prompt that takes the answer.
    package var prompt: String
    /// What is printed when the answer is not yes.
    package var declined: String

    package init(found: [Found], lineCount: Int, target: String) {
        let names = found.map(\.danger.name)
        let listed = Self.unique(names).joined(separator: ", ")
        let context = found.first.map { " (\($0.context))" } ?? ""
        if lineCount == 1 {
            heading = nil
            prompt = "\(listed) on \(target)\(context): type yes to run: "
            declined = "-- not run: \(listed)\n"
        } else {
            let placed = found.map { "\($0.danger.name) (line \($0.line))" }.joined(separator: ", ")
            heading = "-- these \(lineCount) lines hold \(placed): none of them runs unless you answer yes"
            prompt = "\(listed) on \(target)\(context): type yes to run all \(lineCount) lines: "
            declined = "-- not run: all \(lineCount) lines\n"
        }
    }

    /// Whether `answer` says to run.
    package static func isYes(_ answer: String) -> Bool {
        answer.trimmingSpaces.lowercased() == "yes"
    }

    /// The names once each, in order of first appearance.
    private static func unique(_ names: [String]) -> [String] {
        var seen: Set<String> = []
        return names.filter { seen.insert($0).inserted }
    }
}

/// Ctrl-C ended a lookup the question needed: nothing runs.
struct LookupInterrupted: Error {}

/// What the question counts, from `INFO keyspace`: the keys of one database or of all.
package enum KeyspaceCount {
    /// `db0:keys=12,expires=0,avg_ttl=0` lines: keys per database.
    package static func keys(inInfo info: String) -> [Int: Int] {
        var counts: [Int: Int] = [:]
        for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix("db") {
            let parts = line.dropFirst(2).split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let db = Int(parts[0]),
                let keys = parts[1].split(separator: ",").first(where: { $0.hasPrefix("keys=") }).flatMap({ Int($0.dropFirst(5)) })
            else { continue }
            counts[db] = keys
        }
        return counts
    }
}

extension Session {
    /// Before `lines` run at the prompt: when one destroys data or changes the deployment,
    /// or reads a database or key past the size limit, names the target and asks once.
    /// True to run them all; otherwise none runs and it says so. `:safe off` and `--yes`
    /// skip the question; one-shot and piped input never come here.
    private static let selectName = CommandNameSet(["SELECT"])

    func confirmed(_ lines: [SplitLine]) async -> Bool {
        guard safe, editor != nil else { return true }
        var found: [DangerQuestion.Found] = []
        // A SELECT earlier in the lines moves the later ones to its database.
        var database = pinned.state.database
        for (index, line) in lines.enumerated() {
            guard var words = line.command else { continue }
            if case .times = RepeatPrefix(words) { words = words.droppingFirst() }
            if words.count == 2, Self.selectName.contains(words[0]),
                let selected = Int(String(decoding: words[1], as: UTF8.self))
            {
                database = selected
            }
            guard let danger = dangerous.danger(of: words) else { continue }
            do {
                guard let context = try await context(for: danger, database: database) else { continue }
                found.append(DangerQuestion.Found(line: index + 1, danger: danger, context: context))
            } catch {
                // Ctrl-C while the size was asked (a master gone, a failover under way).
                output.write(Self.interruptedLine)
                output.write("-- not run: \(lines.count == 1 ? danger.name : "all \(lines.count) lines")\n")
                return false
            }
        }
        guard !found.isEmpty else { return true }
        let target = String(await prompt().dropLast(2))
        let question = DangerQuestion(found: found, lineCount: lines.count, target: target)
        if let heading = question.heading { output.write(heading + "\n") }
        let answer = await ask(question.prompt)
        if case .line(let text)? = answer, DangerQuestion.isYes(text) { return true }
        output.write(question.declined + Self.linesInPlaceOfAnswer(answer))
        return false
    }

    /// What the question says about the target, or nil when a read is within the limit.
    private func context(for danger: DangerousCommands.Danger, database: Int) async throws(LookupInterrupted) -> String? {
        let state = pinned.state
        if state.inTransaction {
            // Anything sent now would be queued: nothing is counted, and reads are not sized.
            guard case .destroys = danger else { return nil }
            return "db \(database), queued in a transaction: it runs at EXEC"
        }
        switch danger {
        case .destroys(_, _, let scope):
            guard let counts = try await keyCounts() else { return "db \(database), key count unknown" }
            if scope == .everyDatabase { return "every database, \(counts.values.reduce(0, +).grouped) keys" }
            return "db \(database), \((counts[database] ?? 0).grouped) keys"
        case .readsDatabase:
            let keys = try await keyCounts().map { $0[database] ?? 0 }
            if let keys, keys <= options.confirmAbove { return nil }
            return "db \(database), \(keys?.grouped ?? "unknown") keys; the limit is \(options.confirmAbove.grouped)"
        case .readsKey(_, let key, let sizeCommand):
            // Sized only in the session's database (a SELECT earlier in a paste has not run yet).
            let size = database == state.database ? try await lookUp(RESPCommand(arguments: [Array(sizeCommand.utf8), key]))?.integer : nil
            if let size, size <= options.confirmAbove { return nil }
            let name = String(decoding: key, as: UTF8.self).debugDescription
            return "key \(name), \(size.map { Int($0).grouped } ?? "unknown") elements; the limit is \(options.confirmAbove.grouped)"
        }
    }

    /// Keys per database on the session's server (`INFO keyspace`), or nil when it did not answer.
    private func keyCounts() async throws(LookupInterrupted) -> [Int: Int]? {
        guard let info = try await lookUp(RESPCommand("INFO", "keyspace"))?.string else { return nil }
        return KeyspaceCount.keys(inInfo: info)
    }

    /// A lookup for the question, under Ctrl-C as any command is; nil when it got no reply.
    private func lookUp(_ command: RESPCommand) async throws(LookupInterrupted) -> RESPValue? {
        let (outcome, interrupted) = await sendOnSession(command)
        switch outcome {
        case .success(let reply): return reply.isError ? nil : reply
        case .failure(let error):
            await dropSessionConnection(error: "\(error)")
            if interrupted || error.code == .cancelled { throw LookupInterrupted() }
            return nil
        }
    }

    /// `:safe on|off`: whether the prompt asks before dangerous commands.
    func setSafe(_ arguments: [String]) -> String {
        switch arguments.first?.lowercased() {
        case "on": safe = true
        case "off": safe = false
        case nil: break
        default: return "Usage: :safe on|off\n"
        }
        return "safe \(safe ? "on: dangerous commands ask first" : "off: nothing asks")\n"
    }

    /// The server's `@dangerous` `@write` commands, from `COMMAND` (Redis 7.0's list until then).
    func loadDangerousCommands() async {
        guard let reply = try? await client.execute(RESPCommand("COMMAND")),
            let marked = DangerousCommands(commandReply: reply)
        else { return }
        dangerous = marked
    }
}

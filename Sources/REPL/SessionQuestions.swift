import SentinelClient

/// The prompt's questions and the meta-commands that change how the session talks:
/// `:failover` (a plan, a question, the run), `:events on|raw|off`.
extension Session {
    /// Asks `question` at the prompt and reads the answer; nil without a prompt. Prompt
    /// refreshes meanwhile (a failover's notices) keep the question.
    func ask(_ question: String) async -> EditorInput? {
        guard let editor else { return nil }
        askingPrompt = question
        editor.setPrompt(question, notices: [])
        let answer = await editor.readLine()
        // Lines typed before the question was drawn come back at once: show what they replaced.
        if case .batch(_, firstShown: false) = answer { output.write(question + "\n") }
        askingPrompt = nil
        await refreshPrompt()
        return answer
    }

    /// Lines that arrived in place of an answer (typed ahead or pasted) answer nothing
    /// and run nothing: says so, or "" for any other answer.
    static func linesInPlaceOfAnswer(_ answer: EditorInput?) -> String {
        guard case .batch(let lines, _)? = answer else { return "" }
        return "-- not run either: \(lines.count) more line(s) that arrived in place of an answer\n"
    }

    /// `:failover`: the plan, a question at the prompt, the coordinated failover under
    /// Ctrl-C, the summary. Without a prompt nobody can answer: nothing runs.
    func failover() async -> String {
        let plan: FailoverPlan
        do { plan = try await client.failoverPlan() } catch { return (options.mode == .tty ? "(error) " : "") + "\(error)\n" }
        output.write(FailoverPresentation.plan(plan))
        guard let answer = await ask(FailoverPresentation.question) else { return FailoverPresentation.pipedRefusal }
        guard case .line(let text) = answer, FailoverRunner.confirmed(text) else {
            return FailoverPresentation.notConfirmed + Self.linesInPlaceOfAnswer(answer)
        }
        let (result, _) = await runInterruptibly { [client] () -> Result<FailoverOutcome, SentinelClientError> in
            do throws(SentinelClientError) { return .success(try await client.coordinatedFailover(plan)) } catch { return .failure(error) }
        }
        switch result {
        case .success(let outcome): return FailoverPresentation.summary(outcome)
        case .failure(let error): return "(error) \(error)\n"
        }
    }

    /// `:events on|raw|off`: Sentinel's events in plain words, as published, or not at
    /// all; no argument tells which.
    func setEvents(_ arguments: [String]) -> String {
        switch arguments.first?.lowercased() {
        case "on": narrator.style = .plain
        case "raw": narrator.style = .raw
        case "off": narrator.style = .off
        case nil: break
        default: return "Usage: :events on|raw|off\n"
        }
        return "events \(narrator.style == .plain ? "on" : narrator.style.rawValue)\n"
    }
}

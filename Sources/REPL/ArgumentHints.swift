import RESP

/// One argument of a command as `COMMAND DOCS` describes it.
package struct CommandArgument: Sendable, Equatable {
    package var name: String
    /// `key`, `string`, `integer`, `pattern`, `pure-token`, `oneof`, `block`...
    package var type: String
    package var token: String?
    package var optional = false
    package var multiple = false
    package var children: [CommandArgument] = []

    package init(name: String, type: String, token: String? = nil, optional: Bool = false, multiple: Bool = false, children: [CommandArgument] = []) {
        self.name = name
        self.type = type
        self.token = token
        self.optional = optional
        self.multiple = multiple
        self.children = children
    }

    static func parse(_ value: RESPValue) -> CommandArgument {
        let fields = value.fieldMap
        let flags = Set((fields["flags"]?.elements ?? []).compactMap(\.string))
        return CommandArgument(
            name: fields["name"]?.string ?? "arg", type: fields["type"]?.string ?? "", token: fields["token"]?.string,
            optional: flags.contains("optional"), multiple: flags.contains("multiple"),
            children: (fields["arguments"]?.elements ?? []).map(parse))
    }

    /// As redis-cli's help and hints show it: `[EX seconds|PX milliseconds]`, `key [key ...]`.
    package var syntax: String {
        let text = bareSyntax
        return optional ? "[\(text)]" : text
    }

    private var bareSyntax: String {
        var text: String
        switch type {
        case "oneof": text = children.map(\.syntax).joined(separator: "|")
        case "block": text = children.map(\.syntax).joined(separator: " ")
        case "pure-token": text = token ?? name
        default: text = name
        }
        if type != "pure-token", let token { text = "\(token) \(text)" }
        return multiple ? "\(text) [\(text) ...]" : text
    }

    /// After one of several: `[key ...]`.
    var repeatedSyntax: String {
        var once = self
        once.multiple = false
        once.optional = false
        return "[\(once.bareSyntax) ...]"
    }

    /// Whether only a token can start this argument (then it never takes just any word).
    var startsWithToken: Bool {
        switch type {
        case _ where token != nil: true
        case "block": children.first(where: { !$0.optional }).map(\.startsWithToken) ?? false
        case "oneof": children.allSatisfy(\.startsWithToken)
        default: false
        }
    }

    /// What is left of this argument to type once `word` starts it; nil when `word`
    /// does not (with `byTokenOnly`, only a token starts it).
    func rest(after word: String, byTokenOnly: Bool) -> [CommandArgument]? {
        if let token, type != "pure-token" {
            // `LIMIT offset count`, `STREAMS key [key ...] ID [ID ...]`, `EX seconds`.
            guard token.uppercased() == word.uppercased() else { return nil }
            var value = self
            value.token = nil
            value.optional = false
            value.multiple = false
            return type == "block" ? children : [value]
        }
        switch type {
        case "pure-token":
            return token?.uppercased() == word.uppercased() ? [] : nil
        case "oneof":
            // A choice its token names before a choice that takes any word (CLIENT KILL's old form).
            for child in children where child.startsWithToken {
                if let rest = child.rest(after: word, byTokenOnly: true) { return rest }
            }
            guard !byTokenOnly else { return nil }
            for child in children where !child.startsWithToken {
                if let rest = child.rest(after: word, byTokenOnly: false) { return rest }
            }
            return nil
        case "block":
            // Its optional first parts may be left out (XPENDING's IDLE).
            for (index, child) in children.enumerated() {
                if let rest = child.rest(after: word, byTokenOnly: byTokenOnly) { return rest + children.dropFirst(index + 1) }
                if !child.optional { return nil }
            }
            return nil
        default:
            return byTokenOnly ? nil : []
        }
    }
}

/// The hint shown after the cursor as arguments are typed (redis-cli's, from
/// `COMMAND DOCS`): what the syntax still offers once the words typed so far are matched
/// against it, left to right. Required arguments take words in order; an optional one
/// takes a word that is its token (SET's `EX`), in any order; the argument a token
/// starts must be finished first.
struct ArgumentHint {
    private struct Slot {
        var argument: CommandArgument
        var repeated = false
        var text: String { repeated ? argument.repeatedSyntax : argument.syntax }
    }

    private var pending: [Slot] = []
    private var remaining: [Slot]
    /// After `numkeys`: how many of the next words are keys (EVAL, FCALL, ZUNION...).
    private var keysLeft: Int?

    init(_ arguments: [CommandArgument]) {
        remaining = arguments.map { Slot(argument: $0) }
    }

    /// The hint after `words`; nil when they do not fit the syntax.
    static func text(for arguments: [CommandArgument], after words: [String]) -> String? {
        var hint = ArgumentHint(arguments)
        for word in words { guard hint.consume(word) else { return nil } }
        let text = (hint.pending + hint.remaining).map(\.text).joined(separator: " ")
        return text.isEmpty ? nil : text
    }

    /// The argument the next word fills after `words` (the first of a block); nil when
    /// the words do not fit, or the next word may be any of several.
    static func next(for arguments: [CommandArgument], after words: [String]) -> CommandArgument? {
        var hint = ArgumentHint(arguments)
        for word in words { guard hint.consume(word) else { return nil } }
        let required = hint.remaining.firstIndex { !$0.argument.optional && !$0.repeated }
        let slot = hint.pending.first
            // More keys before a last argument (BLPOP key [key ...] timeout).
            ?? hint.repeatedBefore(required).map { hint.remaining[$0] }
            ?? required.map { hint.remaining[$0] }
            ?? hint.remaining.first { !$0.argument.startsWithToken }
        var argument = slot?.argument
        while let block = argument, block.type == "block", block.token == nil { argument = block.children.first }
        return argument
    }

    /// A repeated slot without a token just before `required`, when `required` is the
    /// last slot: it takes words until the last one (BLPOP's keys before the timeout).
    private func repeatedBefore(_ required: Int?) -> Int? {
        guard let required, required == remaining.count - 1, required > 0 else { return nil }
        let before = remaining[required - 1]
        return before.repeated && !before.argument.startsWithToken ? required - 1 : nil
    }

    /// The argument `word` fills, and what is left of it; false when none takes it.
    private mutating func consume(_ word: String) -> Bool {
        if !pending.isEmpty {
            if Self.fill(&pending, word) { return countKey(word) }
            // What is left of the started argument is optional: the word is the next one's.
            guard pending.allSatisfy({ $0.argument.optional || $0.repeated }) else { return false }
            pending = []
        }
        var firstRequired: Int?
        for (index, slot) in remaining.enumerated() {
            let optional = slot.argument.optional || slot.repeated
            if optional, let rest = slot.argument.rest(after: word, byTokenOnly: true) { return take(index, rest, word) }
            if optional { continue }
            firstRequired = index
            if let repeated = repeatedBefore(index), !slot.argument.startsWithToken {
                return take(repeated, [], word)
            }
            if let rest = slot.argument.rest(after: word, byTokenOnly: false) { return take(index, rest, word) }
            break
        }
        // An optional argument without a token takes the word (SPOP's count), before the next required one.
        let end = firstRequired ?? remaining.count
        for index in remaining.indices.prefix(end) {
            if let rest = remaining[index].argument.rest(after: word, byTokenOnly: false) { return take(index, rest, word) }
        }
        return false
    }

    /// The first of `slots` that takes `word`, optional ones before it skipped; what is
    /// left of it goes first, and a repeatable one stays for more.
    private static func fill(_ slots: inout [Slot], _ word: String) -> Bool {
        for (index, slot) in slots.enumerated() {
            if let rest = slot.argument.rest(after: word, byTokenOnly: false) {
                var after = Array(slots[(index + 1)...])
                if slot.argument.multiple || slot.repeated { after.insert(Slot(argument: slot.argument, repeated: true), at: 0) }
                slots = rest.map { Slot(argument: $0) } + after
                return true
            }
            if !(slot.argument.optional || slot.repeated) { return false }
        }
        return false
    }

    private mutating func take(_ index: Int, _ rest: [CommandArgument], _ word: String) -> Bool {
        let taken = remaining[index]
        if taken.argument.multiple || taken.repeated {
            remaining[index].repeated = true
        } else {
            remaining.remove(at: index)
        }
        // A required argument filled: the optional ones before it can no longer come (ZADD's flags).
        if !taken.argument.optional && !taken.repeated {
            let before = remaining.prefix(index).filter { !($0.argument.optional || $0.repeated) }
            remaining = before + remaining.dropFirst(index)
        }
        pending = rest.map { Slot(argument: $0) }
        if taken.argument.name == "numkeys", let count = Int(word) { keysLeft = count }
        return countKey(word, taken.argument)
    }

    /// Counts a key against `numkeys`; once they are all given, the key slots go.
    private mutating func countKey(_ word: String, _ argument: CommandArgument? = nil) -> Bool {
        guard let left = keysLeft else { return true }
        if argument?.type == "key" { keysLeft = left - 1 }
        if keysLeft ?? 0 <= 0 { remaining.removeAll { $0.argument.type == "key" } }
        return true
    }
}

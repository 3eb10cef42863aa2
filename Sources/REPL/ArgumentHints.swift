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
        default: text = token.map { "\($0) \(name)" } ?? name
        }
        return multiple ? "\(text) [\(text) ...]" : text
    }

    /// After one of several: `[key ...]`.
    var repeatedSyntax: String {
        var once = self
        once.multiple = false
        once.optional = false
        return "[\(once.bareSyntax) ...]"
    }

    /// What is left of this argument to type once `word` starts it; nil when `word`
    /// does not (with `byTokenOnly`, an argument without a token takes no word).
    func rest(after word: String, byTokenOnly: Bool) -> [CommandArgument]? {
        let upper = word.uppercased()
        switch type {
        case "pure-token":
            return token?.uppercased() == upper ? [] : nil
        case "oneof":
            for child in children { if let rest = child.rest(after: word, byTokenOnly: byTokenOnly) { return rest } }
            return nil
        case "block":
            guard let first = children.first, let rest = first.rest(after: word, byTokenOnly: byTokenOnly) else { return nil }
            return rest + children.dropFirst()
        default:
            if let token {
                guard token.uppercased() == upper else { return nil }
                var value = self
                value.token = nil
                value.optional = false
                value.multiple = false
                return [value]
            }
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
        let slot = hint.pending.first
            ?? hint.remaining.first { !$0.argument.optional && !$0.repeated }
            ?? hint.remaining.first { $0.argument.token == nil && $0.argument.type != "oneof" }
        var argument = slot?.argument
        while let block = argument, block.type == "block" { argument = block.children.first }
        return argument
    }

    /// The argument `word` fills, and what is left of it; false when none takes it.
    private mutating func consume(_ word: String) -> Bool {
        if !pending.isEmpty {
            let slot = pending.removeFirst()
            guard let rest = slot.argument.rest(after: word, byTokenOnly: false) else { return false }
            pending = rest.map { Slot(argument: $0) } + pending
            return true
        }
        var firstRequired: Int?
        for (index, slot) in remaining.enumerated() {
            let optional = slot.argument.optional || slot.repeated
            if optional, let rest = slot.argument.rest(after: word, byTokenOnly: true) { return take(index, rest) }
            if optional { continue }
            firstRequired = index
            if let rest = slot.argument.rest(after: word, byTokenOnly: false) { return take(index, rest) }
            break
        }
        // An optional argument without a token takes the word (SPOP's count), before the next required one.
        let end = firstRequired ?? remaining.count
        for index in remaining.indices.prefix(end) {
            if let rest = remaining[index].argument.rest(after: word, byTokenOnly: false) { return take(index, rest) }
        }
        return false
    }

    private mutating func take(_ index: Int, _ rest: [CommandArgument]) -> Bool {
        if remaining[index].argument.multiple {
            remaining[index].repeated = true
        } else {
            remaining.remove(at: index)
        }
        pending = rest.map { Slot(argument: $0) }
        return true
    }
}

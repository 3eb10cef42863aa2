import Testing

@testable import REPL

/// The TOML the deployments file uses, read strictly: values with their lines, and
/// the rest of TOML an error at its line, never a misreading.
@Suite struct ConfigTextTests {
    private func parse(_ text: String) throws -> ConfigText { try ConfigText(parsing: text) }

    private func failure(_ text: String) -> ConfigSyntaxError? {
        do {
            _ = try ConfigText(parsing: text)
            return nil
        } catch { return error }
    }

    @Test func readsEachKindOfValueWithItsLine() throws {
        let text = """
            # deployments
            [prod]   # the one that matters
            master = "my\\"master\\u00e9"
            literal = 'C:\\path'
            "quoted key" = true
            db = 1_000
            hex = 0xff
            negative = -3
            timeout = 1.5
            exponent = 2e3
            off = false
            sentinels = [
              "a:1",  # first
              'b:2',
            ]
            empty = []

            ['other one']
            nested = [[1, 2], ["x"]]
            """
        let config = try parse(text)
        #expect(config.tables.map(\.name) == ["prod", "other one"])
        let prod = config.tables[0]
        #expect(prod.keys == ["master", "literal", "quoted key", "db", "hex", "negative", "timeout", "exponent", "off", "sentinels", "empty"])
        #expect(prod["master"] == .string("my\"masteré"))
        #expect(prod["literal"] == .string("C:\\path"))
        #expect(prod["quoted key"] == .boolean(true))
        #expect(prod["db"] == .integer(1000) && prod["hex"] == .integer(255) && prod["negative"] == .integer(-3))
        #expect(prod["timeout"] == .float(1.5) && prod["exponent"] == .float(2000) && prod["off"] == .boolean(false))
        #expect(prod["sentinels"] == .array([.string("a:1"), .string("b:2")]) && prod["empty"] == .array([]))
        #expect(prod.line == 2 && prod.line(of: "master") == 3 && prod.line(of: "sentinels") == 12 && prod.line(of: "nope") == 2)
        #expect(config.tables[1]["nested"] == .array([.array([.integer(1), .integer(2)]), .array([.string("x")])]))
        #expect(config.tables[1].line == 18)
    }

    @Test func escapesAndNumberFormsReadAsTOMLMeansThem() throws {
        let config = try parse("[a]\ns = \"\\b\\t\\n\\f\\r\\\\\\U0001F600\"\no = 0o17\nb = 0b101\nmin = -9223372036854775808\ni = inf\nt = \"tab\there\"\n")
        let table = try #require(config.tables.first)
        #expect(table["s"] == .string("\u{8}\t\n\u{C}\r\\😀"))
        #expect(table["o"] == .integer(15) && table["b"] == .integer(5) && table["min"] == .integer(Int.min))
        #expect(table["i"] == .float(.infinity) && table["t"] == .string("tab\there"))
    }

    @Test func keysBeforeTheFirstTableAreKeptApart() throws {
        let config = try parse("name = \"x\"\r\n[a]\r\nk = 1\r\n")
        #expect(config.topLevel.keys == ["name"] && config.topLevel.line(of: "name") == 1)
        #expect(config.tables.first?["k"] == .integer(1))
    }

    @Test func theRestOfTOMLIsAnErrorAtItsLine() {
        let cases: [(String, Int, String)] = [
            ("[a]\nk = [\"x\"\nj = 1\n", 3, "',' or ']' expected"),
            ("[a]\nk = 1\nk = 2\n", 3, "'k' is there twice (first on line 2)"),
            ("[a]\n[b]\n[a]\n", 3, "[a] is there twice (first on line 1)"),
            ("[a]\nk.j = 1\n", 2, "dotted keys"),
            ("[a.b]\n", 1, "nested tables"),
            ("[[a]]\n", 1, "arrays of tables"),
            ("[a]\nk = {x = 1}\n", 2, "inline tables"),
            ("[a]\nk = 1979-05-27\n", 2, "dates are not used here"),
            ("[a]\nk = 07:32:00\n", 2, "dates are not used here"),
            ("[a]\nk = \"\"\"x\"\"\"\n", 2, "multi-line strings"),
            ("[a]\nk = \"open\n", 2, "not closed"),
            ("[a]\nk = \"\\q\"\n", 2, "is not an escape"),
            ("[a]\nk = 1 2\n", 2, "the line goes on"),
            ("[a]\nk =\n", 2, "a value expected"),
            ("[a]\nk = yes\n", 2, "'yes' is not a value"),
            ("[a]\nk = 01\n", 2, "'01' is not a value"),
            ("[a]\nk = 1__0\n", 2, "'1__0' is not a value"),
            ("[a]\nk = .5\n", 2, "is not a value"),
            ("[a\n", 1, "']' expected"),
            ("[a]\n= 1\n", 2, "a key or [table] expected"),
            ("[a]\nk = \"\\u+041\"\n", 2, "takes 4 hex digits"),
            ("[a]\nk = 0x+1f\n", 2, "'0x+1f' is not a value"),
            ("[a]\nk = 0o8\n", 2, "'0o8' is not a value"),
            ("[a]\nk = 9223372036854775808\n", 2, "out of a 64-bit integer's range"),
            ("[a]\nk = \"a\u{1B}[2J\"\n", 2, "control character 0x1b in a string"),
            ("[a]\nk = 'a\u{7F}'\n", 2, "control character 0x7f in a string"),
            ("[a] # a\u{0}b\n", 1, "control character 0x0 in a comment"),
            ("[a]\nk = \"a\rb\"\n", 2, "control character 0xd in a string"),
            ("[a]\r\nk = 1 2\r\n", 2, "the line goes on after its value: 2"),
        ]
        for (text, line, message) in cases {
            let error = failure(text)
            #expect(error?.line == line && error?.message.contains(message) == true, "\(text.debugDescription): \(String(describing: error))")
            #expect(error?.message.contains("\r") != true, "one line: \(String(describing: error))")
        }
    }

    @Test func valuesPrintAsTOMLWritesThem() {
        #expect(ConfigValue.string("a\"b").description == "\"a\\\"b\"")
        #expect(ConfigValue.array([.integer(1), .boolean(true)]).description == "[1, true]")
        #expect(ConfigValue.float(1.5).kind == "a float")
    }
}

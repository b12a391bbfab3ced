import Testing
import SkjoldConfig

/// The error a document produces; records an issue when it parses.
private func failure(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> TOMLError? {
    failure(bytes: Array(text.utf8), sourceLocation: sourceLocation)
}

private func failure(bytes: [UInt8], limits: TOMLParser.Limits = .init(),
                     sourceLocation: SourceLocation = #_sourceLocation) -> TOMLError? {
    do {
        let table = try TOMLParser(limits: limits).parse(bytes: bytes)
        Issue.record("expected an error, parsed \(table.keys)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

@Suite("TOML errors")
struct TOMLErrorTests {
    /// (document, kind, line, column) for each class of invalid input.
    static let cases: [(String, TOMLError.Kind, Int, Int)] = [
        // Duplicate keys and table redefinition (TOML 1.0 §Keys, §Table).
        ("a = 1\na = 2", .duplicateKey, 2, 1),
        ("a = 1\n\"a\" = 2", .duplicateKey, 2, 1),
        ("a.b = 1\na.b = 2", .duplicateKey, 2, 3),
        ("a = 1\na.b = 2", .duplicateKey, 2, 1),
        ("[a]\nb = 1\n[a]", .tableRedefined, 3, 1),
        ("[a]\n[a]", .tableRedefined, 2, 1),
        ("a.b = 1\n[a]", .tableRedefined, 2, 1),
        ("[fruit]\napple.color = \"red\"\n[fruit.apple]", .tableRedefined, 3, 1),
        ("[a.b.c]\nz = 9\n[a]\nb.c.t = 1", .tableRedefined, 4, 3),
        ("[a]\nb = 1\n[a.b]", .duplicateKey, 3, 1),
        ("a = {}\n[a]", .duplicateKey, 2, 1),
        ("a = {b = 1}\na.c = 2", .duplicateKey, 2, 1),
        ("a = {b = 1}\n[a.c]", .duplicateKey, 2, 2),
        ("x = {a = {b = 1}, a.c = 2}", .duplicateKey, 1, 19),
        ("x = {a = 1, a = 2}", .duplicateKey, 1, 13),
        ("[[a]]\n[a]", .tableRedefined, 2, 1),
        ("[a]\n[[a]]", .tableRedefined, 2, 1),
        ("a = []\n[[a]]", .tableRedefined, 2, 1),
        ("[[albums.songs]]\n[[albums]]", .tableRedefined, 2, 1),
        ("[[a.b]]\n[a]\nb.y = 2", .tableRedefined, 3, 1),
        ("[fruit]\napple.taste.sweet = true\n[fruit.apple.taste]", .tableRedefined, 3, 1),
        ("a = [{ b = 1 }]\n[a.c]", .duplicateKey, 2, 2),
        ("a = [{ b = 1 }]\n[[a]]", .tableRedefined, 2, 1),
        ("[product]\ntype.name = \"Nail\"\ntype = { edible = false }", .duplicateKey, 3, 1),
        ("t = { f = { a.c = 1 }, f.a.t = { s = true } }", .duplicateKey, 1, 24),
        // Syntax.
        ("a = ", .syntax, 1, 5),
        ("a", .syntax, 1, 2),
        ("= 1", .syntax, 1, 1),
        ("a = 1 b = 2", .syntax, 1, 7),
        ("a = hello", .syntax, 1, 5),
        ("a = True", .syntax, 1, 5),
        ("a = truely", .syntax, 1, 5),
        ("a = [1 2]", .syntax, 1, 8),
        ("a = [1,,2]", .syntax, 1, 8),
        ("a = [1, 2", .syntax, 1, 5),
        ("a = {b = 1,}", .syntax, 1, 12),
        ("a = {b = 1\n}", .syntax, 1, 11),
        ("a = {", .syntax, 1, 5),
        ("[a", .syntax, 1, 3),
        ("[[a]", .syntax, 1, 5),
        ("[[a] ]", .syntax, 1, 5),
        ("[]", .syntax, 1, 2),
        ("[a] b = 1", .syntax, 1, 5),
        ("a..b = 1", .syntax, 1, 3),
        ("\"\"\"k\"\"\" = 1", .syntax, 1, 1),
        ("a = \"\"\"x\"\"\"\"\"\"", .syntax, 1, 14),
        // Strings.
        ("a = \"abc", .unterminatedString, 1, 5),
        ("\n\na = \"abc\nb = 1", .unterminatedString, 3, 5),
        ("a = 'abc", .unterminatedString, 1, 5),
        ("a = \"\"\"abc\n", .unterminatedString, 1, 5),
        ("a = '''abc", .unterminatedString, 1, 5),
        ("\"key", .unterminatedString, 1, 1),
        ("a = \"x\\", .unterminatedString, 1, 5),
        ("a = \"\\q\"", .invalidEscape, 1, 6),
        ("a = \"\\x41\"", .invalidEscape, 1, 6),
        ("a = \"\\u12\"", .invalidEscape, 1, 6),
        ("a = \"\\uD800\"", .invalidEscape, 1, 6),
        ("a = \"\\U00110000\"", .invalidEscape, 1, 6),
        ("a = \"\"\"\\ x\"\"\"", .invalidEscape, 1, 8),
        ("a = \"x\\\ny\"", .invalidEscape, 1, 7),
        // Control characters.
        ("a = \"\u{1}\"", .controlCharacter, 1, 6),
        ("a = \"\u{7F}\"", .controlCharacter, 1, 6),
        ("a = 'x\u{0}'", .controlCharacter, 1, 7),
        ("a = \"\"\"x\u{8}\"\"\"", .controlCharacter, 1, 9),
        ("a = '''\u{1B}'''", .controlCharacter, 1, 8),
        ("# bell \u{7}\n", .controlCharacter, 1, 8),
        ("a = 1 # \u{0}", .controlCharacter, 1, 9),
        ("a = 1\rb = 2", .controlCharacter, 1, 6),
        ("a = \"\"\"x\ry\"\"\"", .controlCharacter, 1, 9),
        // Numbers.
        ("a = 9223372036854775808", .integerOverflow, 1, 5),
        ("a = -9223372036854775809", .integerOverflow, 1, 5),
        ("a = 0x8000000000000000", .integerOverflow, 1, 5),
        ("a = 0b11111111111111111111111111111111111111111111111111111111111111111", .integerOverflow, 1, 5),
        ("a = 99999999999999999999999", .integerOverflow, 1, 5),
        ("a = 012", .invalidNumber, 1, 5),
        ("a = 1__2", .invalidNumber, 1, 5),
        ("a = _12", .syntax, 1, 5),
        ("a = 12_", .invalidNumber, 1, 5),
        ("a = +0x10", .invalidNumber, 1, 5),
        ("a = 0x", .invalidNumber, 1, 5),
        ("a = 0xG", .invalidNumber, 1, 5),
        ("a = 0o8", .invalidNumber, 1, 5),
        ("a = 0b2", .invalidNumber, 1, 5),
        ("a = 0x_1", .invalidNumber, 1, 5),
        ("a = 0b1_", .invalidNumber, 1, 5),
        ("a = 0X1", .invalidNumber, 1, 5),
        ("a = ++99", .invalidNumber, 1, 5),
        ("a = 0xaafz", .invalidNumber, 1, 5),
        ("a = 0o778", .invalidNumber, 1, 5),
        ("a = -0xff", .invalidNumber, 1, 5),
        ("a = 1.2_e2", .invalidNumber, 1, 5),
        ("a = 1_.2", .invalidNumber, 1, 5),
        ("a = 1e_2", .invalidNumber, 1, 5),
        ("a = 1.", .invalidNumber, 1, 5),
        ("a = .5", .syntax, 1, 5),
        ("a = 1.e5", .invalidNumber, 1, 5),
        ("a = 1e", .invalidNumber, 1, 5),
        ("a = 01.5", .invalidNumber, 1, 5),
        ("a = 1.5.5", .invalidNumber, 1, 5),
        ("a = 1e400", .invalidNumber, 1, 5),
        ("a = infinity", .syntax, 1, 5),
        ("a = +", .invalidNumber, 1, 5),
        // Dates and times.
        ("a = 1979-13-01", .invalidDateTime, 1, 5),
        ("a = 1979-02-30", .invalidDateTime, 1, 5),
        ("a = 1900-02-29", .invalidDateTime, 1, 5),
        ("a = 1979-05-27T25:00:00", .invalidDateTime, 1, 16),
        ("a = 1979-05-27T07:32", .invalidDateTime, 1, 16),
        ("a = 1979-05-27T07:32:00+5:00", .invalidDateTime, 1, 24),
        ("a = 07:32:00Z", .invalidDateTime, 1, 5),
        ("a = 1979-5-27", .invalidDateTime, 1, 5),
        ("a = 07:32:00.", .invalidDateTime, 1, 5),
        ("a = 1979-05-27T07:32:00.Z", .invalidDateTime, 1, 16),
    ]

    @Test(arguments: cases.indices)
    func invalidDocument(_ index: Int) throws {
        let (text, kind, line, column) = Self.cases[index]
        let error = try #require(failure(text), "\(text.debugDescription)")
        #expect(error.kind == kind, "\(text.debugDescription): \(error)")
        #expect(error.line == line, "\(text.debugDescription): \(error)")
        #expect(error.column == column, "\(text.debugDescription): \(error)")
        #expect(!error.message.isEmpty)
    }

    @Test func errorsNameTheKeyBeingParsed() throws {
        let e1 = try #require(failure("[listen]\nsmtp = \"0.0.0.0:25\nimap = 1"))
        #expect(e1.key == "listen.smtp")
        #expect(e1.message == "unterminated string")
        #expect(e1.description == "line 2, column 8: listen.smtp: " + e1.message)
        let e2 = try #require(failure("[plans.\"my plan\"]\nstorage = 1x"))
        #expect(e2.key == "plans.\"my plan\".storage")
        let e3 = try #require(failure("[a.b\nc = 1"))
        #expect(e3.key == "a.b")
        let e4 = try #require(failure("x = 1\n\n# fine\n\"unterminated"))
        #expect(e4.key == nil)
    }

    @Test func duplicateMessagesCiteTheFirstDefinition() throws {
        let error = try #require(failure("a = 1\n\n\na = 2"))
        #expect(error.message.contains("line 1"))
        let table = try #require(failure("[t]\n\n[t]"))
        #expect(table.message.contains("line 1"))
    }

    @Test func invalidUTF8IsReportedWithPosition() throws {
        let samples: [([UInt8], Int, Int)] = [
            (Array("a = \"".utf8) + [0xFF] + Array("\"".utf8), 1, 6),
            (Array("a = 1\n# ".utf8) + [0xC3], 2, 3),                  // truncated sequence
            (Array("a = '".utf8) + [0xC0, 0xAF] + [0x27], 1, 6),       // overlong '/'
            (Array("a = '".utf8) + [0xED, 0xA0, 0x80] + [0x27], 1, 6), // UTF-16 surrogate
            (Array("a = '".utf8) + [0xF4, 0x90, 0x80, 0x80] + [0x27], 1, 6), // above U+10FFFF
            (Array("é = 'ü".utf8) + [0x80] + [0x27], 1, 7),           // stray continuation byte
        ]
        for (bytes, line, column) in samples {
            let error = try #require(failure(bytes: bytes))
            #expect(error.kind == .invalidUTF8)
            #expect(error.line == line && error.column == column, "\(error)")
        }
    }

    @Test func inputSizeIsBounded() throws {
        let limits = TOMLParser.Limits(maxInputBytes: 1000, maxDepth: 64)
        let ok = Array(repeating: UInt8(ascii: "#"), count: 1000)
        #expect(try TOMLParser(limits: limits).parse(bytes: ok).isEmpty)
        let error = try #require(failure(bytes: ok + [0x0A], limits: limits))
        #expect(error.kind == .inputTooLarge)
        // The default limit is 1 MiB.
        let huge = [UInt8](repeating: UInt8(ascii: "\n"), count: (1 << 20) + 1)
        #expect(failure(bytes: huge)?.kind == .inputTooLarge)
    }

    @Test func nestingDepthIsBounded() throws {
        let deepArray = "a = " + String(repeating: "[", count: 100_000)
        #expect(failure(deepArray)?.kind == .nestingTooDeep)
        let deepInline = "a = " + String(repeating: "{b=", count: 100_000)
        #expect(failure(deepInline)?.kind == .nestingTooDeep)
        let deepHeader = "[" + Array(repeating: "a", count: 100_000).joined(separator: ".") + "]"
        #expect(failure(deepHeader)?.kind == .nestingTooDeep)
        let deepKey = Array(repeating: "a", count: 100_000).joined(separator: ".") + " = 1"
        #expect(failure(deepKey)?.kind == .nestingTooDeep)
        // Header depth and dotted-key depth add up.
        let combined = "[" + Array(repeating: "a", count: 40).joined(separator: ".") + "]\n"
            + Array(repeating: "b", count: 30).joined(separator: ".") + " = 1"
        #expect(failure(combined)?.kind == .nestingTooDeep)
        let arrayInTables = "[" + Array(repeating: "a", count: 60).joined(separator: ".") + "]\nx = [[[[[[1]]]]]]"
        #expect(failure(arrayInTables)?.kind == .nestingTooDeep)

        // Exactly at the limit is fine: the value of a root key is at depth 1, so 64 arrays.
        let atLimit = "a = " + String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try TOMLParser().parse(atLimit) }
        let overLimit = "a = " + String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(failure(overLimit)?.kind == .nestingTooDeep)
    }

    @Test func standaloneValueErrors() {
        #expect(throws: TOMLError.self) { try TOMLParser().parseValue("") }
        #expect(throws: TOMLError.self) { try TOMLParser().parseValue("\"open") }
        #expect(throws: TOMLError.self) { try TOMLParser().parseValue("[1,") }
    }
}

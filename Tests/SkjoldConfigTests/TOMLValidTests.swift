import Testing
import SkjoldConfig

private func parse(_ text: String) throws -> TOMLTable {
    try TOMLParser().parse(text)
}

/// Follows a dotted path through tables (and the last element of arrays of tables).
private func lookup(_ table: TOMLTable, _ path: String...) -> TOMLValue? {
    var current: TOMLValue = .table(table)
    for name in path {
        guard case .table(let t) = current, let next = t[name] else { return nil }
        current = next
    }
    return current
}

@Suite("TOML valid documents")
struct TOMLValidTests {
    @Test func commentsAndBlankLines() throws {
        let doc = try parse("""
            # a comment
            \t
            a = 1 # trailing comment
            # another, with tab\tand unicode ✓

            b = "#not a comment"
            """)
        #expect(doc["a"] == .integer(1))
        #expect(doc["b"] == .string("#not a comment"))
        #expect(doc.keys == ["a", "b"])
    }

    @Test func emptyDocumentAndCRLF() throws {
        #expect(try parse("").isEmpty)
        #expect(try parse("\n\n  \n").isEmpty)
        let doc = try parse("a = 1\r\nb = 2\r\n[t]\r\nc = 3")
        #expect(doc["b"] == .integer(2))
        #expect(lookup(doc, "t", "c") == .integer(3))
    }

    @Test func byteOrderMarkIsSkipped() throws {
        let doc = try TOMLParser().parse(bytes: [0xEF, 0xBB, 0xBF] + Array("a = 1".utf8))
        #expect(doc["a"] == .integer(1))
    }

    @Test func bareQuotedAndDottedKeys() throws {
        let doc = try parse("""
            bare_key-1 = 1
            1234 = 2
            "quoted key" = 3
            'literal "key"' = 4
            "" = 5
            "ʎǝʞ" = 6
            physical.color = "orange"
            site."google.com" = true
            fruit . flavor = "banana"
            3.14159 = "pi"
            """)
        #expect(doc["bare_key-1"] == .integer(1))
        #expect(doc["1234"] == .integer(2))
        #expect(doc["quoted key"] == .integer(3))
        #expect(doc["literal \"key\""] == .integer(4))
        #expect(doc[""] == .integer(5))
        #expect(doc["ʎǝʞ"] == .integer(6))
        #expect(lookup(doc, "physical", "color") == .string("orange"))
        #expect(lookup(doc, "site", "google.com") == .boolean(true))
        #expect(lookup(doc, "fruit", "flavor") == .string("banana"))
        #expect(lookup(doc, "3", "14159") == .string("pi"))
    }

    @Test func dottedKeysExtendTheirOwnTables() throws {
        let doc = try parse("""
            apple.type = "fruit"
            orange.type = "fruit"
            apple.skin = "thin"
            apple.color.red = 1
            apple.color.green = 2
            """)
        #expect(lookup(doc, "apple", "skin") == .string("thin"))
        #expect(lookup(doc, "apple", "color", "green") == .integer(2))
    }

    @Test func tablesAndImplicitSuperTables() throws {
        let doc = try parse("""
            [x.y.z.w]
            a = 1
            [x]
            b = 2
            [ j . "ʞ" . 'l' ]
            c = 3
            [fruit]
            apple.color = "red"
            [fruit.apple.texture]
            smooth = true
            """)
        #expect(lookup(doc, "x", "y", "z", "w", "a") == .integer(1))
        #expect(lookup(doc, "x", "b") == .integer(2))
        #expect(lookup(doc, "j", "ʞ", "l", "c") == .integer(3))
        #expect(lookup(doc, "fruit", "apple", "texture", "smooth") == .boolean(true))
    }

    @Test func arraysOfTables() throws {
        let doc = try parse("""
            [[fruits]]
            name = "apple"
            [fruits.physical]
            color = "red"
            [[fruits.varieties]]
            name = "red delicious"
            [[fruits.varieties]]
            name = "granny smith"
            [[fruits]]
            name = "banana"
            [[fruits.varieties]]
            name = "plantain"
            """)
        guard case .array(let fruits)? = doc["fruits"] else {
            Issue.record("fruits is not an array")
            return
        }
        #expect(fruits.count == 2)
        let apple = try #require(fruits.first?.tableValue)
        #expect(lookup(apple, "physical", "color") == .string("red"))
        #expect(apple["varieties"]?.arrayValue?.count == 2)
        let banana = try #require(fruits.last?.tableValue)
        #expect(banana["name"] == .string("banana"))
        #expect(banana["varieties"]?.arrayValue?.first?.tableValue?["name"] == .string("plantain"))
    }

    @Test func inlineTables() throws {
        let doc = try parse("""
            name = { first = "Tom", last = "Preston-Werner" }
            point = {x=1,y=2}
            animal = { type.name = "pug", type.size = "small" }
            empty = {}
            nested = { a = { b = { c = [1, {d = 2}] } } }
            """)
        #expect(lookup(doc, "name", "last") == .string("Preston-Werner"))
        #expect(lookup(doc, "point", "y") == .integer(2))
        #expect(lookup(doc, "animal", "type", "size") == .string("small"))
        #expect(doc["empty"] == .table(TOMLTable()))
        let c = try #require(lookup(doc, "nested", "a", "b", "c")?.arrayValue)
        #expect(c.last?.tableValue?["d"] == .integer(2))
    }

    @Test func basicStringEscapes() throws {
        let doc = try parse(#"""
            s = "tab\there \"q\" back\\slash \b\f\n\r \u00E9 \U0001F600 \u0000"
            """#)
        #expect(doc["s"] == .string("tab\there \"q\" back\\slash \u{8}\u{C}\n\r é 😀 \u{0}"))
    }

    @Test func literalStrings() throws {
        let doc = try parse(#"""
            winpath = 'C:\Users\nodejs\templates'
            quoted = 'Tom "Dubs" Preston-Werner'
            regex = '<\i\c*\s*>'
            tab = 'a	b'
            """#)
        #expect(doc["winpath"] == .string(#"C:\Users\nodejs\templates"#))
        #expect(doc["quoted"] == .string(#"Tom "Dubs" Preston-Werner"#))
        #expect(doc["regex"] == .string(#"<\i\c*\s*>"#))
        #expect(doc["tab"] == .string("a\tb"))
    }

    @Test func multilineBasicStrings() throws {
        let doc = try parse(#"""
            a = """
            Roses are red
            Violets are blue"""
            b = """
            The quick brown \


              fox jumps over \
                the lazy dog."""
            c = """Here are two quotation marks: "". Simple enough."""
            d = """Here are three quotation marks: ""\"."""
            e = """""quoted" text"""""
            f = """\tx \u0041"""
            g = """line\r\nwindows"""
            h = """trailing \   
              space"""
            """#)
        #expect(doc["a"] == .string("Roses are red\nViolets are blue"))
        #expect(doc["b"] == .string("The quick brown fox jumps over the lazy dog."))
        #expect(doc["c"] == .string(#"Here are two quotation marks: "". Simple enough."#))
        #expect(doc["d"] == .string(#"Here are three quotation marks: """."#))
        // Five quotes: the opening delimiter plus two quotes of content.
        #expect(doc["e"] == .string("\"\"quoted\" text\"\""))
        #expect(doc["f"] == .string("\tx A"))
        #expect(doc["g"] == .string("line\r\nwindows"))
        #expect(doc["h"] == .string("trailing space"))
    }

    @Test func multilineLiteralStrings() throws {
        let doc = try parse(#"""
            regex2 = '''I [dw]on't need \d{2} apples'''
            lines  = '''
            The first newline is
            trimmed in raw strings.
               All other whitespace
               is preserved.
            '''
            quot15 = '''Here are fifteen quotation marks: """""""""""""""'''
            apos15 = "Here are fifteen apostrophes: '''''''''''''''"
            str = ''''That,' she said, 'is still pointless.''''
            """#)
        #expect(doc["regex2"] == .string(#"I [dw]on't need \d{2} apples"#))
        #expect(doc["lines"] == .string("The first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n"))
        #expect(doc["quot15"] == .string("Here are fifteen quotation marks: " + String(repeating: "\"", count: 15)))
        #expect(doc["str"] == .string("'That,' she said, 'is still pointless.'"))
    }

    @Test func multilineCRLFIsNormalised() throws {
        let doc = try parse("a = \"\"\"\r\none\r\ntwo\"\"\"\r\nb = '''x\r\ny'''")
        #expect(doc["a"] == .string("one\ntwo"))
        #expect(doc["b"] == .string("x\ny"))
    }

    @Test func integers() throws {
        let doc = try parse("""
            a = +99
            b = 42
            c = 0
            d = -17
            e = 1_000
            f = 5_349_221
            g = 1_2_3_4_5
            h = 0xDEADBEEF
            i = 0xdead_beef
            j = 0o01234567
            k = 0o755
            l = 0b11010110
            m = 9223372036854775807
            n = -9223372036854775808
            o = +0
            p = -0
            q = 0x7FFFFFFFFFFFFFFF
            """)
        let expected: [String: Int64] = [
            "a": 99, "b": 42, "c": 0, "d": -17, "e": 1000, "f": 5_349_221, "g": 12345,
            "h": 0xDEADBEEF, "i": 0xDEADBEEF, "j": 0o1234567, "k": 0o755, "l": 0b11010110,
            "m": .max, "n": .min, "o": 0, "p": 0, "q": .max,
        ]
        for (key, value) in expected {
            #expect(doc[key] == .integer(value), "\(key)")
        }
    }

    @Test func floats() throws {
        let doc = try parse("""
            a = +1.0
            b = 3.1415
            c = -0.01
            d = 5e+22
            e = 1e06
            f = -2E-2
            g = 6.626e-34
            h = 224_617.445_991_228
            i = inf
            j = +inf
            k = -inf
            l = nan
            m = +nan
            n = -nan
            o = 0e0
            p = -0.0
            q = 1e-400
            """)
        #expect(doc["a"] == .float(1.0))
        #expect(doc["b"] == .float(3.1415))
        #expect(doc["c"] == .float(-0.01))
        #expect(doc["d"] == .float(5e22))
        #expect(doc["e"] == .float(1e6))
        #expect(doc["f"] == .float(-2e-2))
        #expect(doc["g"] == .float(6.626e-34))
        #expect(doc["h"] == .float(224_617.445_991_228))
        #expect(doc["i"] == .float(.infinity))
        #expect(doc["j"] == .float(.infinity))
        #expect(doc["k"] == .float(-.infinity))
        for key in ["l", "m", "n"] {
            #expect(doc[key]?.floatValue?.isNaN == true, "\(key)")
        }
        #expect(doc["o"] == .float(0))
        #expect(doc["p"]?.floatValue?.sign == .minus)
        #expect(doc["q"] == .float(0))
    }

    @Test func booleans() throws {
        let doc = try parse("t = true\nf = false")
        #expect(doc["t"] == .boolean(true))
        #expect(doc["f"] == .boolean(false))
    }

    @Test func dateTimes() throws {
        let doc = try parse("""
            odt1 = 1979-05-27T07:32:00Z
            odt2 = 1979-05-27T00:32:00-07:00
            odt3 = 1979-05-27T00:32:00.999999+05:30
            odt4 = 1979-05-27 07:32:00z
            ldt1 = 1979-05-27T07:32:00
            ldt2 = 1979-05-27t00:32:00.5
            ld1 = 1979-05-27
            lt1 = 07:32:00
            lt2 = 00:32:00.123456789123
            leap = 2000-02-29
            leapsec = 1990-12-31T23:59:60Z
            ld2 = 1979-05-27 # a date, then a comment
            """)
        let odt1 = try #require(doc["odt1"]?.dateTimeValue)
        #expect(odt1.kind == .offsetDateTime)
        #expect(odt1.date == TOMLLocalDate(year: 1979, month: 5, day: 27))
        #expect(odt1.time == TOMLLocalTime(hour: 7, minute: 32, second: 0))
        #expect(odt1.offsetMinutes == 0)
        #expect(odt1.description == "1979-05-27T07:32:00Z")
        #expect(doc["odt2"]?.dateTimeValue?.offsetMinutes == -420)
        let odt3 = try #require(doc["odt3"]?.dateTimeValue)
        #expect(odt3.time?.nanosecond == 999_999_000)
        #expect(odt3.offsetMinutes == 330)
        #expect(odt3.description == "1979-05-27T00:32:00.999999+05:30")
        #expect(doc["odt4"]?.dateTimeValue?.description == "1979-05-27T07:32:00Z")
        #expect(doc["ldt1"]?.dateTimeValue?.kind == .localDateTime)
        #expect(doc["ldt2"]?.dateTimeValue?.time?.nanosecond == 500_000_000)
        #expect(doc["ld1"]?.dateTimeValue?.kind == .localDate)
        #expect(doc["ld1"]?.dateTimeValue?.description == "1979-05-27")
        #expect(doc["lt1"]?.dateTimeValue?.kind == .localTime)
        #expect(doc["lt2"]?.dateTimeValue?.time?.nanosecond == 123_456_789)
        #expect(doc["leap"]?.dateTimeValue?.date?.day == 29)
        #expect(doc["leapsec"]?.dateTimeValue?.time?.second == 60)
        #expect(doc["ld2"]?.dateTimeValue?.kind == .localDate)
    }

    @Test func arrays() throws {
        let doc = try parse("""
            integers = [ 1, 2, 3 ]
            colors = [ "red", "yellow", "green", ]
            nested_arrays_of_ints = [ [ 1, 2 ], [3, 4, 5] ]
            nested_mixed_array = [ [ 1, 2 ], ["a", "b", "c"] ]
            numbers = [ 0.1, 0.2, 0.5, 1, 2, 5 ]
            contributors = [
              "Foo Bar <foo@example.com>", # a comment
              { name = "Baz Qux", email = "bazqux@example.com", url = "https://example.com/bazqux" }
            ]
            empty = [ ]
            spread = [
              1,

              # comment only line
              2
            ]
            """)
        #expect(doc["integers"] == .array([.integer(1), .integer(2), .integer(3)]))
        #expect(doc["colors"]?.arrayValue?.count == 3)
        #expect(doc["nested_arrays_of_ints"]?.arrayValue?.last == .array([.integer(3), .integer(4), .integer(5)]))
        #expect(doc["nested_mixed_array"]?.arrayValue?.last?.arrayValue?.first == .string("a"))
        #expect(doc["numbers"]?.arrayValue?[3] == .integer(1))
        #expect(doc["contributors"]?.arrayValue?.last?.tableValue?["name"] == .string("Baz Qux"))
        #expect(doc["empty"] == .array([]))
        #expect(doc["spread"] == .array([.integer(1), .integer(2)]))
    }

    @Test func positionsAreRecorded() throws {
        let doc = try parse("""
            # header comment
            a = 1

            [server]
              host = "x"
            "é" = 2
            """)
        #expect(doc.position(of: "a") == TOMLPosition(line: 2, column: 1))
        #expect(doc.position(of: "server")?.line == 4)
        let server = try #require(doc["server"]?.tableValue)
        #expect(server.position.line == 4)
        #expect(server.position(of: "host") == TOMLPosition(line: 5, column: 3))
        #expect(server.position(of: "é") == TOMLPosition(line: 6, column: 1))
        #expect(server.keys == ["host", "é"])
    }

    @Test func tableEqualityIgnoresOrderAndPositions() throws {
        let a = try parse("x = 1\ny = [2, {z = 3}]")
        let b = try parse("\n\ny = [2, {z = 3}]\n\nx = 1")
        #expect(a == b)
        #expect(try parse("x = 1") != parse("x = 2"))
    }

    @Test func standaloneValuesAndKeys() throws {
        let parser = TOMLParser()
        #expect(try parser.parseValue("  42 ") == .integer(42))
        #expect(try parser.parseValue("\"a b\"") == .string("a b"))
        #expect(try parser.parseValue("[1, 2]") == .array([.integer(1), .integer(2)]))
        #expect(throws: TOMLError.self) { try parser.parseValue("127.0.0.1:25") }
        #expect(throws: TOMLError.self) { try parser.parseValue("1 2") }
        #expect(try parser.parseKey("plans.\"my plan\".storage") == ["plans", "my plan", "storage"])
        #expect(try parser.parseKey(" a . b ") == ["a", "b"])
        #expect(throws: TOMLError.self) { try parser.parseKey("a..b") }
        #expect(throws: TOMLError.self) { try parser.parseKey("a b") }
    }

    @Test func keyFormatting() {
        #expect(TOMLKey.format(["plans", "my plan", "storage"]) == "plans.\"my plan\".storage")
        #expect(TOMLKey.format(["a", ""]) == "a.\"\"")
        #expect(TOMLKey.quoted("a\nb\"\u{1}") == "\"a\\nb\\\"\\u0001\"")
    }
}

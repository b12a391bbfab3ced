import Testing
@testable import IMAPProtocol

@Suite("Hostile and malformed input")
struct AdversarialTests {
    @Test("search nesting depth bomb is refused, not recursed into", arguments: [33, 1000, 100_000])
    func nestingBomb(depth: Int) {
        let parens = "a SEARCH " + String(repeating: "(", count: depth) + "ALL" + String(repeating: ")", count: depth)
        let limits = IMAPCommandParser.Limits(maximumLineLength: 300_000, maximumCommandSize: 300_000)
        #expect(parseError(parens, limits: limits) == IMAPParseError(.syntax("search nesting too deep"), tag: "a"))
        let nots = "a SEARCH " + String(repeating: "NOT ", count: depth) + "ALL"
        #expect(parseError(nots, limits: IMAPCommandParser.Limits(maximumLineLength: 500_000, maximumCommandSize: 500_000))?.tag == "a")
        let ors = "a SEARCH " + String(repeating: "OR ALL ", count: depth) + "ALL"
        #expect(parseError(ors, limits: IMAPCommandParser.Limits(maximumLineLength: 800_000, maximumCommandSize: 800_000))?.tag == "a")
    }

    @Test("nesting within the bound parses")
    func nestingWithinBound() {
        let key = String(repeating: "(", count: 31) + "SEEN" + String(repeating: ")", count: 31)
        #expect(parseCommand("a SEARCH " + key) == .search(SearchCommand(key: .seen), uid: false))
    }

    @Test("a 1 MB atom without LF is dropped as it arrives and reported once with the tag")
    func hugeAtom() {
        var parser = IMAPCommandParser()
        parser.append(bytes("tag1 LOGIN "))
        var errors: [IMAPParseError] = []
        let block = [UInt8](repeating: 0x61, count: 16_384)
        for _ in 0..<64 {
            parser.append(block)
            while let e = parser.next() {
                if case .error(let err) = e { errors.append(err) } else { Issue.record("unexpected \(e)") }
            }
            #expect(parser.bufferedByteCount <= 65_537)
        }
        parser.append(bytes(" x\r\nb NOOP\r\n"))
        while let e = parser.next() {
            if case .error(let err) = e { errors.append(err) } else {
                #expect(e == .command(TaggedCommand(tag: "b", command: .noop)))
            }
        }
        #expect(errors == [IMAPParseError(.lineTooLong, tag: "tag1")])
    }

    @Test("a too-long line ending in a non-synchronising literal skips the literal too")
    func longLineWithLiteral() {
        let limits = IMAPCommandParser.Limits(maximumLineLength: 100)
        let wire = "a LOGIN " + String(repeating: "x", count: 200) + " {5+}\r\nb NOOP\r\nc NOOP\r\n"
        #expect(events(wire, parser: IMAPCommandParser(limits: limits))
            == [.error(IMAPParseError(.lineTooLong, tag: "a")), .command(TaggedCommand(tag: "c", command: .noop))])
        #expect(events(wire, chunkSize: 1, parser: IMAPCommandParser(limits: limits))
            == [.error(IMAPParseError(.lineTooLong, tag: "a")), .command(TaggedCommand(tag: "c", command: .noop))])
    }

    @Test("command size bound across literals")
    func commandSize() {
        let limits = IMAPCommandParser.Limits(maximumLiteralSize: 1000, maximumCommandSize: 1500)
        let wire = "a LOGIN {800+}\r\n" + String(repeating: "u", count: 800) + " {800+}\r\n" + String(repeating: "p", count: 800) + "\r\nb NOOP\r\n"
        #expect(events(wire, parser: IMAPCommandParser(limits: limits))
            == [.error(IMAPParseError(.literalTooLarge(800), tag: "a")), .command(TaggedCommand(tag: "b", command: .noop))])
    }

    @Test("unterminated literal waits for more bytes instead of failing or crashing")
    func truncatedLiteral() {
        var parser = IMAPCommandParser()
        parser.append(bytes("a LOGIN {10}\r\nabc"))
        #expect(parser.next() == .continuationRequired)
        #expect(parser.next() == nil)
        #expect(parser.hasBufferedInput)
    }

    @Test("malformed commands give BAD with the tag", arguments: [
        "a FETCH 1:2:3 FLAGS", "a FETCH 1 BODY[", "a FETCH 1 BODY[1.]", "a FETCH 1 BODY[HEADER.FIELDS ()]",
        "a FETCH 1 BODY[]<1>", "a FETCH 4294967296 FLAGS", "a FETCH 1:* (FLAGS)(", "a STORE 1 FLAGS (\\)",
        "a SELECT", "a SELECT \"unterminated", "a SELECT \"bad\\escape\"", "a LOGIN \"a\" \"b\" \"c\"",
        "a SEARCH", "a SEARCH OR ALL", "a SEARCH LARGER x", "a SEARCH LARGER 99999999999999999999",
        "a SEARCH UID", "a SEARCH HEADER", "a SEARCH (ALL", "a SEARCH ALL)", "a SEARCH NOT", "a SEARCH SINCE 1-Feb-24",
        "a LIST", "a LIST \"\"", "a LIST () \"\" \"*\" RETURN (BOGUS)", "a STATUS INBOX (MESSAGES", "a ENABLE (X)",
        "a ID (\"a\")", "a ID (\"a\" \"b\" \"c\")", "a SETQUOTA x (STORAGE)", "a CREATE x (USE (Drafts))",
        "a UID EXPUNGE", "a UID EXPUNGE 1:*:2", "a COPY 1", "a MOVE 1 ", "a STORE 1 (UNCHANGEDSINCE) FLAGS x",
        "a SELECT a\u{7F}b", "a THREAD", "a SORT (BOGUS) UTF-8 ALL",
    ])
    func malformed(line: String) {
        let error = parseError(line)
        #expect(error?.tag == "a")
        #expect(error?.isFatal == false)
    }

    @Test("non-UTF-8 octets in strings are refused with the tag, not decoded lossily")
    func nonUTF8() {
        var wire = bytes("a LOGIN {2}\r\n")
        wire += [0xFF, 0xFE]
        wire += bytes(" pw\r\n")
        #expect(events(wire).last == .error(IMAPParseError(.syntax("user name is not valid UTF-8"), tag: "a")))
        var search = bytes("b SEARCH SUBJECT \"")
        search += [0xC3, 0x28]
        search += bytes("\"\r\n")
        #expect(events(search).errorTag == "b")
        var mailbox = bytes("c SELECT \"")
        mailbox += [0xE2, 0x82]
        mailbox += bytes("\"\r\n")
        #expect(events(mailbox, parser: IMAPCommandParser(utf8Enabled: true)).errorTag == "c")
        #expect(events([0xFF, 0xFE, 0x20, 0x4E, 0x4F, 0x4F, 0x50, 0x0D, 0x0A]) == [.error(IMAPParseError(.syntax("missing or invalid tag"), tag: nil))])
    }

    @Test("NUL in a literal is refused except in literal8")
    func nulInLiteral() {
        #expect(events("a LOGIN {3+}\r\na\0b x\r\n").last == .error(IMAPParseError(.syntax("NUL in literal"), tag: "a")))
    }

    @Test("random bytes never crash, and every event sequence is split-independent")
    func fuzz() {
        var rng = SplitMix64(seed: 0x5EED)
        let alphabet = bytes("a1 UID FETCH SEARCH APPEND LOGIN {}+~()[]<>.:,*$\\\"% \r\n0123456789NOT OR BODY.PEEK HEADER.FIELDS INBOX")
            + [0x00, 0xFF, 0x80, 0x7F]
        let limits = IMAPCommandParser.Limits(maximumLineLength: 200, maximumLiteralSize: 50, maximumCommandSize: 400,
                                              maximumAppendSize: 100, maximumNestingDepth: 8)
        for _ in 0..<300 {
            let length = Int(rng.next() % 400)
            var input: [UInt8] = []
            for _ in 0..<length { input.append(alphabet[Int(rng.next() % UInt64(alphabet.count))]) }
            let whole = events(input, parser: IMAPCommandParser(limits: limits))
            let split = events(input, chunkSize: Int(rng.next() % 7) + 1, parser: IMAPCommandParser(limits: limits))
            #expect(whole == split)
        }
    }

    @Test("mutated valid commands never crash and stay split-independent")
    func mutationFuzz() {
        var rng = SplitMix64(seed: 42)
        let seeds = [
            "a UID FETCH 1:*,5 (FLAGS BODY.PEEK[1.2.HEADER.FIELDS (A B)]<0.100>) (CHANGEDSINCE 5 VANISHED)\r\n",
            "b SEARCH RETURN (MIN MAX) CHARSET UTF-8 OR (NOT SEEN) HEADER X {3+}\r\nabc SINCE 1-Feb-2024\r\n",
            "c APPEND INBOX (\\Seen) \"01-Feb-2024 10:00:00 +0100\" {5+}\r\nhello (\\Draft) ~{2+}\r\n\0x\r\n",
            "d LIST (SUBSCRIBED) \"\" (\"INBOX\" %) RETURN (STATUS (MESSAGES SIZE) CHILDREN)\r\n",
            "e SELECT INBOX (QRESYNC (1 2 1:5 (1:2 3:4)))\r\n",
        ].map(bytes)
        for _ in 0..<400 {
            var input = seeds[Int(rng.next() % UInt64(seeds.count))]
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let pos = Int(rng.next() % UInt64(input.count))
                switch rng.next() % 3 {
                case 0: input[pos] = UInt8(truncatingIfNeeded: rng.next())
                case 1: input.remove(at: pos)
                default: input.insert(UInt8(truncatingIfNeeded: rng.next()), at: pos)
                }
            }
            let whole = events(input)
            #expect(whole == events(input, chunkSize: 1))
        }
    }
}

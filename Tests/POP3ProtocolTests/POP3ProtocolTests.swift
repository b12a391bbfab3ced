import POP3Protocol
import Testing

@Suite struct POP3CommandParserTests {
    func parse(_ text: String) -> Result<POP3Command, POP3SyntaxError> { POP3CommandParser.parse(line: Array(text.utf8)) }

    @Test func rfc1939Commands() throws {
        #expect(try parse("USER alice@example.test").get() == .user("alice@example.test"))
        #expect(try parse("pass secret with spaces ").get() == .pass("secret with spaces "))
        #expect(try parse("STAT").get() == .stat)
        #expect(try parse("LIST").get() == .list(nil))
        #expect(try parse("list 3").get() == .list(3))
        #expect(try parse("RETR 1").get() == .retr(1))
        #expect(try parse("DELE 12").get() == .dele(12))
        #expect(try parse("TOP 2 0").get() == .top(message: 2, lines: 0))
        #expect(try parse("UIDL").get() == .uidl(nil))
        #expect(try parse("UIDL 7").get() == .uidl(7))
        #expect(try parse("NOOP").get() == .noop)
        #expect(try parse("RSET").get() == .rset)
        #expect(try parse("QUIT").get() == .quit)
        #expect(try parse("CAPA").get() == .capa)
        #expect(try parse("STLS").get() == .stls)
        #expect(try parse("AUTH").get() == .auth(mechanism: nil, initialResponse: nil))
        #expect(try parse("AUTH plain").get() == .auth(mechanism: "PLAIN", initialResponse: nil))
        #expect(try parse("AUTH PLAIN AGEAYg==").get() == .auth(mechanism: "PLAIN", initialResponse: "AGEAYg=="))
        #expect(try parse("APOP a b").get() == .unknown("APOP"))
    }

    @Test func badInput() {
        #expect(parse("") == .failure(.emptyLine))
        #expect(parse("RETR") == .failure(.missingArgument(verb: "RETR")))
        #expect(parse("RETR 0") == .failure(.invalidNumber(verb: "RETR")))
        #expect(parse("RETR -1") == .failure(.invalidNumber(verb: "RETR")))
        #expect(parse("RETR 99999999999999999999") == .failure(.invalidNumber(verb: "RETR")))
        #expect(parse("RETR 1 2") == .failure(.tooManyArguments(verb: "RETR")))
        #expect(parse("STAT now") == .failure(.tooManyArguments(verb: "STAT")))
        #expect(parse("TOP 1") == .failure(.missingArgument(verb: "TOP")))
        #expect(POP3CommandParser.parse(line: [0x53, 0x00, 0x54]) == .failure(.nulByte))
        // Non-UTF-8 and control bytes never crash and never echo raw.
        if case .success(.unknown(let verb)) = POP3CommandParser.parse(line: [0xFF, 0xFE, 0x01, 0x20, 0x41]) {
            #expect(verb.unicodeScalars.allSatisfy { $0.value >= 0x21 && $0.value <= 0x7E })
        } else {
            Issue.record("expected unknown")
        }
    }

    @Test func plainCredentials() throws {
        let credentials = try #require(PlainCredentials(base64: "AGFsaWNlQGV4YW1wbGUudGVzdABzM2NyM3Q="))
        #expect(credentials.authorizationID == nil)
        #expect(credentials.authenticationID == "alice@example.test")
        #expect(credentials.password == "s3cr3t")
        #expect(!credentials.description.contains("s3cr3t"))
        #expect(PlainCredentials(base64: "not base64!") == nil)
        #expect(PlainCredentials(base64: "YWJj") == nil)  // "abc": no NULs
        #expect(PlainCredentials(base64: "AGFsaWNlAA==") == nil)  // empty password
    }
}

@Suite struct POP3ResponseTests {
    @Test func singleLine() {
        #expect(POP3Response.ok("2 320") == Array("+OK 2 320\r\n".utf8))
        #expect(POP3Response.err("Mailbox locked", code: .inUse) == Array("-ERR [IN-USE] Mailbox locked\r\n".utf8))
        #expect(POP3Response.err("no\r\ninjection") == Array("-ERR no  injection\r\n".utf8))
        #expect(POP3Response.multiline("Capability list follows", lines: ["TOP", "UIDL"])
            == Array("+OK Capability list follows\r\nTOP\r\nUIDL\r\n.\r\n".utf8))
    }

    func stuffed(_ input: String, chunkSize: Int = 1) -> String {
        var stuffer = POP3ByteStuffer()
        var out: [UInt8] = []
        let bytes = Array(input.utf8)
        var index = 0
        while index < bytes.count {
            let end = min(index + chunkSize, bytes.count)
            stuffer.encode(bytes[index..<end], into: &out)
            index = end
        }
        stuffer.finish(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func byteStuffingAcrossChunkBoundaries() {
        let message = "Subject: x\r\n\r\n.leading\r\n..two\r\nmid.dot\r\n.\r\nend"
        let expected = "Subject: x\r\n\r\n..leading\r\n...two\r\nmid.dot\r\n..\r\nend\r\n.\r\n"
        for size in [1, 2, 3, 7, 1000] { #expect(stuffed(message, chunkSize: size) == expected) }
        #expect(stuffed("a\nb\n.c\n") == "a\r\nb\r\n..c\r\n.\r\n", "bare LF becomes CRLF")
        #expect(stuffed("") == ".\r\n")
        #expect(stuffed("x\r") == "x\r\n.\r\n")
    }

    @Test func topStopsAfterBodyLines() {
        let message = Array("A: 1\r\nB: 2\r\n\r\nline1\r\nline2\r\nline3\r\n".utf8)
        for (limit, expected) in [(0, "A: 1\r\nB: 2\r\n\r\n.\r\n"), (2, "A: 1\r\nB: 2\r\n\r\nline1\r\nline2\r\n.\r\n"),
                                  (10, "A: 1\r\nB: 2\r\n\r\nline1\r\nline2\r\nline3\r\n.\r\n")] {
            var stuffer = POP3ByteStuffer()
            var out: [UInt8] = []
            for byte in message { if !stuffer.encode([byte][...], bodyLineLimit: limit, into: &out) { break } }
            stuffer.finish(into: &out)
            #expect(String(decoding: out, as: UTF8.self) == expected, "limit \(limit)")
        }
    }
}

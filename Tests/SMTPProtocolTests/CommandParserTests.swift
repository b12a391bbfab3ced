import Testing
@testable import SMTPProtocol

@Suite("SMTP command parser")
struct CommandParserTests {
    @Test("verbs are case-insensitive")
    func caseInsensitiveVerbs() {
        #expect(parse("ehlo client.example") == .success(.ehlo(.name("client.example"))))
        #expect(parse("EhLo client.example") == .success(.ehlo(.name("client.example"))))
        #expect(parse("helo client.example") == .success(.helo(.name("client.example"))))
        #expect(parse("data") == .success(.data))
        #expect(parse("Quit") == .success(.quit))
        #expect(parse("rset") == .success(.rset))
        #expect(parse("starttls") == .success(.startTLS))
        #expect(parse("mail from:<a@b.example>") == .success(.mail(reversePath: .mailbox(Mailbox(localPart: "a", domain: .name("b.example"))!), params: MailParameters())))
    }

    @Test("EHLO/HELO with address literals, underscores, and errors")
    func ehloArguments() {
        #expect(parse("EHLO [192.0.2.1]") == .success(.ehlo(.addressLiteral(.ipv4(octets: [192, 0, 2, 1])))))
        let v6 = parse("EHLO [IPv6:2001:db8::1]").success
        #expect(v6 == .ehlo(.addressLiteral(.ipv6(octets: [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1]))))
        #expect(parse("EHLO my_pc.local") == .success(.ehlo(.name("my_pc.local"))))
        #expect(parse("HELO [10.0.0.1]") == .success(.helo(.addressLiteral(.ipv4(octets: [10, 0, 0, 1])))))
        for bad in ["EHLO", "HELO", "EHLO two words", "EHLO -bad.example", "EHLO a..b", "EHLO [300.1.1.1]", "EHLO [1.2.3.4"] {
            let error = parse(bad).failure
            #expect(error?.reply.code == 501, "\(bad)")
            #expect(error?.reply.enhancedCode == EnhancedStatusCode(5, 5, 4), "\(bad)")
        }
    }

    @Test("commands without arguments refuse arguments; NOOP and HELP ignore them")
    func argumentlessCommands() {
        #expect(parse("DATA ") == .success(.data))  // trailing whitespace tolerated
        for bad in ["DATA now", "RSET x", "QUIT please", "STARTTLS x"] {
            #expect(parse(bad).failure?.reply.code == 501, "\(bad)")
        }
        #expect(parse("NOOP") == .success(.noop))
        #expect(parse("NOOP hello there") == .success(.noop))
        #expect(parse("HELP") == .success(.help))
        #expect(parse("HELP MAIL") == .success(.help))
    }

    @Test("VRFY and EXPN carry their string")
    func vrfyExpn() {
        #expect(parse("VRFY postmaster") == .success(.vrfy("postmaster")))
        #expect(parse("EXPN staff list") == .success(.expn("staff list")))
        #expect(parse("VRFY").failure?.reply.code == 501)
        #expect(parse([0x56, 0x52, 0x46, 0x59, 0x20, 0xFF]).failure?.reply.code == 501)  // invalid UTF-8
        #expect(parse(bytes("VRFY a") + [0x1B] + bytes("b")).failure?.reply.code == 501)  // ESC
    }

    @Test("MAIL FROM:<> and the null reverse path")
    func nullReversePath() {
        #expect(parse("MAIL FROM:<>") == .success(.mail(reversePath: .null, params: MailParameters())))
        #expect(parse("MAIL FROM:<> SIZE=10") == .success(.mail(reversePath: .null, params: MailParameters(size: 10))))
        #expect(parse("MAIL FROM: <>") == .success(.mail(reversePath: .null, params: MailParameters())))
        #expect(parse("RCPT TO:<>").failure == .invalidRecipientAddress)
    }

    @Test("MAIL and RCPT syntax errors map to 501 5.1.7 / 501 5.1.3 / 501 5.5.4")
    func pathErrors() {
        let senderErrors = ["MAIL FROM:user@example.com", "MAIL FROM:<user@example.com", "MAIL FROM:<user@example.com>x",
                            "MAIL FROM:<@example.com>", "MAIL FROM:<user>", "MAIL FROM:<Postmaster>", "MAIL FROM:"]
        for line in senderErrors {
            let error = parse(line).failure
            #expect(error == .invalidSenderAddress, "\(line)")
            #expect(error?.reply.code == 501 && error?.reply.enhancedCode == EnhancedStatusCode(5, 1, 7), "\(line)")
        }
        for line in ["RCPT TO:user@example.com", "RCPT TO:<user@>", "RCPT TO:<>", "RCPT TO:<a b@c>"] {
            let error = parse(line).failure
            #expect(error == .invalidRecipientAddress, "\(line)")
            #expect(error?.reply.code == 501 && error?.reply.enhancedCode == EnhancedStatusCode(5, 1, 3), "\(line)")
        }
        for line in ["MAIL TO:<a@b.example>", "MAIL <a@b.example>", "RCPT FROM:<a@b.example>", "RCPT"] {
            let error = parse(line).failure
            #expect(error?.reply.code == 501 && error?.reply.enhancedCode == EnhancedStatusCode(5, 5, 4), "\(line)")
        }
    }

    @Test("RCPT TO:<Postmaster> without a domain, any case")
    func postmaster() {
        #expect(parse("RCPT TO:<Postmaster>") == .success(.rcpt(forwardPath: .postmaster, params: RcptParameters())))
        #expect(parse("rcpt to:<postmaster>") == .success(.rcpt(forwardPath: .postmaster, params: RcptParameters())))
        #expect(parse("RCPT TO:<POSTMASTER> NOTIFY=NEVER") == .success(.rcpt(forwardPath: .postmaster, params: RcptParameters(notify: .never))))
        let withDomain = recipientMailbox("RCPT TO:<Postmaster@example.org>")
        #expect(withDomain?.localPart == "Postmaster")
        #expect(withDomain?.domain == .name("example.org"))
        #expect(ForwardPath.postmaster.description == "<Postmaster>")
    }

    @Test("source routes are accepted and ignored")
    func sourceRoutes() {
        let mailbox = recipientMailbox("RCPT TO:<@hosta.example,@jkl.example:userc@d.bar.example>")
        #expect(mailbox?.description == "userc@d.bar.example")
        #expect(senderMailbox("MAIL FROM:<@relay.example:a@b.example>")?.description == "a@b.example")
        for bad in ["RCPT TO:<@hosta.example userc@d.example>", "RCPT TO:<@:user@d.example>", "RCPT TO:<@a.example,:user@d.example>",
                    "RCPT TO:<@[1.2.3.4]:user@d.example>"] {
            #expect(parse(bad).failure == .invalidRecipientAddress, "\(bad)")
        }
    }

    @Test("BDAT sizes and LAST")
    func bdat() {
        #expect(parse("BDAT 1000") == .success(.bdat(size: 1000, last: false)))
        #expect(parse("BDAT 0 LAST") == .success(.bdat(size: 0, last: true)))
        #expect(parse("bdat 5 last") == .success(.bdat(size: 5, last: true)))
        #expect(parse("BDAT 9223372036854775807") == .success(.bdat(size: Int.max, last: false)))
        for bad in ["BDAT", "BDAT x", "BDAT -1", "BDAT 9223372036854775808", "BDAT 99999999999999999999999999", "BDAT 5 FIRST", "BDAT 5 LAST x"] {
            let error = parse(bad).failure
            #expect(error == .invalidChunkSize, "\(bad)")
            #expect(error?.requiresConnectionClose == true)
            #expect(error?.reply.code == 501)
        }
        #expect(SMTPSyntaxError.invalidSenderAddress.requiresConnectionClose == false)
    }

    @Test("AUTH mechanism and initial response")
    func auth() {
        #expect(parse("AUTH PLAIN") == .success(.auth(mechanism: "PLAIN", initialResponse: nil)))
        #expect(parse("auth login") == .success(.auth(mechanism: "LOGIN", initialResponse: nil)))
        #expect(parse("AUTH PLAIN =") == .success(.auth(mechanism: "PLAIN", initialResponse: [])))
        #expect(parse("AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm") == .success(.auth(mechanism: "PLAIN", initialResponse: bytes("\0tim\0tanstaaftanstaaf"))))
        #expect(parse("AUTH SCRAM-SHA-256") == .success(.auth(mechanism: "SCRAM-SHA-256", initialResponse: nil)))
        let base64Error = parse("AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm=").failure
        #expect(base64Error == .invalidBase64)
        #expect(base64Error?.reply.code == 501 && base64Error?.reply.enhancedCode == EnhancedStatusCode(5, 5, 2))
        for bad in ["AUTH", "AUTH ABCDEFGHIJKLMNOPQRSTU", "AUTH PL@IN", "AUTH PLAIN a b"] {
            #expect(parse(bad).failure?.reply.enhancedCode == EnhancedStatusCode(5, 5, 4), "\(bad)")
        }
    }

    @Test("unknown commands become .unknown with a sanitised verb")
    func unknownCommands() {
        #expect(parse("GET / HTTP/1.1") == .success(.unknown(verb: "GET")))
        #expect(parse("xyzzy") == .success(.unknown(verb: "XYZZY")))
        #expect(parse([0xC3, 0xA9, 0x20, 0x41]) == .success(.unknown(verb: "??")))
        let long = String(repeating: "A", count: 40)
        #expect(parse(long) == .success(.unknown(verb: String(repeating: "A", count: 16))))
        #expect(SMTPReply.commandUnrecognized.encode() == bytes("500 5.5.1 Command unrecognized\r\n"))
    }

    @Test("empty lines, NUL bytes and over-long lines are refused")
    func hostileLines() {
        #expect(parse("") .failure == .emptyLine)
        #expect(parse("   ").failure == .emptyLine)
        #expect(parse(bytes("NO") + [0] + bytes("OP")).failure == .nulByte)
        #expect(parse(bytes("MAIL FROM:<a") + [0] + bytes("@b.example>")).failure == .nulByte)
        #expect(SMTPSyntaxError.nulByte.reply.code == 500)
        #expect(SMTPSyntaxError.nulByte.reply.enhancedCode == EnhancedStatusCode(5, 5, 2))

        // 998 octets (1000 with CRLF) is the maximum.
        let longest = "NOOP " + String(repeating: "x", count: SMTPCommandParser.maximumLineLength - 5)
        #expect(longest.utf8.count == 998)
        #expect(parse(longest) == .success(.noop))
        let tooLong = longest + "x"
        #expect(parse(tooLong).failure == .lineTooLong)
        #expect(SMTPSyntaxError.lineTooLong.reply.encode() == bytes("500 5.5.2 Line too long\r\n"))
    }

    @Test("a CR left inside a line is not accepted as part of a command argument")
    func strayCarriageReturn() {
        #expect(parse("MAIL FROM:<a@b.example>\r").failure != nil)
        #expect(parse("DATA\r") == .success(.unknown(verb: "DATA?")))
    }

    @Test("parse(encode(command)) round-trips")
    func roundTrip() throws {
        let alice = try #require(Mailbox(localPart: "alice", domain: .name("example.org")))
        let quoted = try #require(Mailbox(localPart: "john \"the\" doe", domain: .addressLiteral(.ipv4(octets: [192, 0, 2, 7]))))
        let utf8 = try #require(Mailbox(localPart: "用户", domain: .name("例子.广告")))
        let commands: [SMTPCommand] = [
            .helo(.name("client.example")),
            .ehlo(.addressLiteral(.ipv6(octets: Array(repeating: 0, count: 15) + [1]))),
            .mail(reversePath: .null, params: MailParameters()),
            .mail(reversePath: .mailbox(alice), params: MailParameters(size: 12345, body: .eightBitMIME, smtpUTF8: true, ret: .headers,
                                                                      envelopeID: "QQ 314159+x=y", auth: .identity("e=mc2@example.com"))),
            .mail(reversePath: .mailbox(utf8), params: MailParameters(body: .binaryMIME, smtpUTF8: true, ret: .full, auth: .unknown)),
            .rcpt(forwardPath: .mailbox(quoted), params: RcptParameters()),
            .rcpt(forwardPath: .postmaster, params: RcptParameters(notify: .on([.success, .delay]),
                                                                   originalRecipient: OriginalRecipient(addressType: "rfc822", address: "Bob+x=y@example.com"))),
            .rcpt(forwardPath: .mailbox(alice), params: RcptParameters(notify: .never)),
            .data, .bdat(size: 0, last: true), .bdat(size: 4096, last: false), .rset, .noop, .quit,
            .vrfy("alice"), .expn("list"), .help, .startTLS,
            .auth(mechanism: "PLAIN", initialResponse: nil),
            .auth(mechanism: "PLAIN", initialResponse: []),
            .auth(mechanism: "LOGIN", initialResponse: bytes("alice")),
            .unknown(verb: "XYZZY"),
        ]
        for command in commands {
            var wire = command.encode()
            #expect(wire.suffix(2) == [13, 10])
            wire.removeLast(2)
            #expect(parse(wire) == .success(command), "\(String(decoding: wire, as: UTF8.self))")
        }
        #expect(SMTPCommand.mail(reversePath: .mailbox(alice), params: MailParameters(size: 10)).encode() == bytes("MAIL FROM:<alice@example.org> SIZE=10\r\n"))
    }
}

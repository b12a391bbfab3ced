import Testing
@testable import SMTPProtocol

@Suite("SMTP replies")
struct ReplyTests {
    @Test("single-line replies encode byte-exact")
    func singleLine() {
        #expect(SMTPReply.ok.encode() == bytes("250 2.0.0 OK\r\n"))
        #expect(SMTPReply.greeting(serverName: "mx.example.org").encode() == bytes("220 mx.example.org ESMTP\r\n"))
        #expect(SMTPReply.startMailInput.encode() == bytes("354 End data with <CR><LF>.<CR><LF>\r\n"))
        #expect(SMTPReply.bye.encode() == bytes("221 2.0.0 Bye\r\n"))
        #expect(SMTPReply(code: 250, enhancedCode: EnhancedStatusCode(2, 0, 0), text: "").encode() == bytes("250 2.0.0\r\n"))
        #expect(SMTPReply(code: 250, enhancedCode: nil, lines: []).encode() == bytes("250 \r\n"))
    }

    @Test("multi-line replies repeat the code and enhanced code on every line (RFC 2034 §4)")
    func multiLine() {
        let reply = SMTPReply(code: 550, enhancedCode: EnhancedStatusCode(5, 7, 1), lines: ["first", "second", "third"])
        #expect(reply.encode() == bytes("550-5.7.1 first\r\n550-5.7.1 second\r\n550 5.7.1 third\r\n"))
        let plain = SMTPReply(code: 250, enhancedCode: nil, lines: ["a", "", "c"])
        #expect(plain.encode() == bytes("250-a\r\n250-\r\n250 c\r\n"))
    }

    @Test("EHLO reply byte-exact, no enhanced codes (RFC 2034 §3)")
    func ehloReply() {
        let capabilities = EHLOCapabilities(tlsActive: false, tlsAvailable: true, authAllowed: false, maximumMessageSize: 26_214_400)
        let expected = "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 26214400\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
            + "250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250-DSN\r\n250 STARTTLS\r\n"
        #expect(SMTPReply.ehlo(serverName: "mx.example.org", capabilities: capabilities).encode() == bytes(expected))
    }

    @Test("reply text never carries client control bytes")
    func sanitisation() {
        let hostile = "user\r\n250 2.0.0 injected\u{0}\u{1B}[31m\u{7F}\u{85}é\ttab"
        let reply = SMTPReply(code: 550, enhancedCode: EnhancedStatusCode(5, 1, 1), text: hostile)
        let wire = reply.encode()
        #expect(wire == bytes("550 5.1.1 user250 2.0.0 injected[31m? tab\r\n"))
        #expect(wire.filter { $0 == 13 || $0 == 10 }.count == 2)
        #expect(SMTPReply.sanitizedText("a\u{2028}b") == "a?b")
        #expect(SMTPReply.sanitizedText("ok text") == "ok text")
    }

    @Test("lines are cut to 512 octets including CRLF (RFC 5321 §4.5.3.1.5)")
    func lineLimit() {
        let reply = SMTPReply(code: 250, enhancedCode: EnhancedStatusCode(2, 0, 0), lines: [String(repeating: "x", count: 2000), "short"])
        let lines = reply.encode().split(separator: 10)
        #expect(lines.count == 2)
        #expect(lines[0].count + 1 == SMTPReply.maximumLineLength)
        #expect(SMTPReply(code: 250, enhancedCode: nil, text: String(repeating: "y", count: 600)).encode().count == 512)
    }

    @Test("common replies carry the specified codes", arguments: [
        (SMTPReply.ok, 250, "2.0.0"), (.senderOK, 250, "2.1.0"), (.recipientOK, 250, "2.1.5"),
        (.messageAccepted(queueID: "Q1"), 250, "2.0.0"), (.bye, 221, "2.0.0"), (.shuttingDown, 421, "4.3.2"),
        (.timeout, 421, "4.4.2"), (.tooManyErrors, 421, "4.7.0"), (.readyToStartTLS, 220, "2.0.0"),
        (.authenticationSucceeded, 235, "2.7.0"), (.cannotVerify, 252, "2.1.5"), (.help, 214, "2.0.0"),
        (.temporarilyRefused, 450, "4.7.0"), (.localError, 451, "4.3.0"), (.mailboxFull, 452, "4.2.2"),
        (.insufficientStorage, 452, "4.3.1"), (.tooManyRecipients, 452, "4.5.3"), (.tlsNotAvailable, 454, "4.7.0"),
        (.temporaryAuthenticationFailure, 454, "4.7.0"), (.commandUnrecognized, 500, "5.5.1"), (.lineTooLong, 500, "5.5.2"),
        (.authenticationLineTooLong, 500, "5.5.6"), (.syntaxError(), 501, "5.5.4"), (.badSenderAddressSyntax, 501, "5.1.7"),
        (.badRecipientAddressSyntax, 501, "5.1.3"), (.invalidBase64, 501, "5.5.2"), (.authenticationCancelled, 501, "5.0.0"),
        (.notImplemented, 502, "5.5.1"), (.badSequence(), 503, "5.5.1"), (.parameterNotImplemented, 504, "5.5.4"),
        (.unsupportedAuthenticationMechanism, 504, "5.5.4"), (.parameterNotRecognized(), 555, "5.5.4"),
        (.mustIssueSTARTTLSFirst, 530, "5.7.0"), (.authenticationRequired, 530, "5.7.0"), (.authenticationFailed, 535, "5.7.8"),
        (.encryptionRequired, 538, "5.7.11"), (.noSuchUser, 550, "5.1.1"), (.messageTooBig, 552, "5.3.4"),
        (.senderNotOwned, 553, "5.7.1"), (.utf8AddressWithoutSMTPUTF8, 553, "5.6.7"), (.relayDenied, 554, "5.7.1"),
        (.noValidRecipients, 554, "5.5.1"), (.messageContentRejected, 554, "5.6.0"),
    ] as [(SMTPReply, Int, String)])
    func commonReplies(reply: SMTPReply, code: Int, enhanced: String) {
        #expect(reply.code == code)
        #expect(reply.enhancedCode?.description == enhanced)
        #expect(reply.enhancedCode?.statusClass == code / 100)
        let prefix = bytes("\(code) \(enhanced) ")
        #expect(Array(reply.encode().prefix(prefix.count)) == prefix)
    }

    @Test("greeting, HELO, EHLO, 354 and 334 carry no enhanced code")
    func exemptReplies() {
        #expect(SMTPReply.greeting(serverName: "x").enhancedCode == nil)
        #expect(SMTPReply.helo(serverName: "x").enhancedCode == nil)
        #expect(SMTPReply.ehlo(serverName: "x", capabilities: EHLOCapabilities()).enhancedCode == nil)
        #expect(SMTPReply.startMailInput.enhancedCode == nil)
        #expect(SMTPReply.authenticationChallenge([]).encode() == bytes("334 \r\n"))
        #expect(SMTPReply.authenticationChallenge(SASLLogin.usernamePrompt).encode() == bytes("334 VXNlcm5hbWU6\r\n"))
        #expect(SMTPReply.authenticationChallenge(SASLLogin.passwordPrompt).encode() == bytes("334 UGFzc3dvcmQ6\r\n"))
    }

    @Test("enhanced status code parsing (RFC 3463 §2)")
    func enhancedCodeParsing() {
        #expect(EnhancedStatusCode(parsing: bytes("5.7.11")) == EnhancedStatusCode(5, 7, 11))
        #expect(EnhancedStatusCode(parsing: bytes("2.0.0"))?.description == "2.0.0")
        #expect(EnhancedStatusCode(parsing: bytes("4.999.999")) == EnhancedStatusCode(4, 999, 999))
        for bad in ["3.0.0", "5.1", "5.1.1.1", "5..1", "55.1.1", "5.1000.1", "5.a.1", ""] {
            #expect(EnhancedStatusCode(parsing: bytes(bad)) == nil, "\(bad)")
        }
    }

    @Test("reply parser round-trips encoded replies")
    func parserRoundTrip() throws {
        let replies: [SMTPReply] = [
            .ok, .bye, .greeting(serverName: "mx.example.org"), .startMailInput, .authenticationChallenge([]),
            .ehlo(serverName: "mx.example.org", capabilities: EHLOCapabilities(tlsAvailable: true, authAllowed: true, maximumMessageSize: 1000)),
            SMTPReply(code: 550, enhancedCode: EnhancedStatusCode(5, 7, 1), lines: ["one", "two", "three"]),
            SMTPReply(code: 250, enhancedCode: EnhancedStatusCode(2, 0, 0), text: ""),
        ]
        for reply in replies {
            var parser = SMTPReplyParser()
            var result: SMTPReply?
            var framer = LineFramer()
            var input = reply.encode()[...]
            while !input.isEmpty {
                let (event, consumed) = framer.next(from: input)
                input = input.dropFirst(consumed)
                guard case .line(let line) = event else { continue }
                #expect(result == nil)
                result = try parser.parse(line: line[...]).get()
            }
            #expect(result == reply)
        }
    }

    @Test("reply parser refuses malformed input")
    func parserErrors() {
        var parser = SMTPReplyParser()
        #expect(parser.parse(line: bytes("25")[...]) == .failure(.malformedLine))
        #expect(parser.parse(line: bytes("abc def")[...]) == .failure(.malformedLine))
        #expect(parser.parse(line: bytes("199 too low")[...]) == .failure(.malformedLine))
        #expect(parser.parse(line: bytes("250_x")[...]) == .failure(.malformedLine))
        #expect(parser.parse(line: bytes("250-first")[...]) == .success(nil))
        #expect(parser.parse(line: bytes("251 second")[...]) == .failure(.inconsistentCode))
        // After an error the parser starts afresh.
        #expect(parser.parse(line: bytes("250")[...]) == .success(SMTPReply(code: 250, enhancedCode: nil, lines: [""])))
        for _ in 0..<SMTPReplyParser.maximumLines {
            _ = parser.parse(line: bytes("250-x")[...])
        }
        #expect(parser.parse(line: bytes("250-x")[...]) == .failure(.tooManyLines))
    }
}

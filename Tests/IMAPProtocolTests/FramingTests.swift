import Testing
@testable import IMAPProtocol

@Suite("Framing: literals, APPEND streaming, IDLE, AUTHENTICATE, partial input")
struct FramingTests {
    static let rfcMessage = "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n"
        + "From: Fred Foobar <foobar@Blurdybloop.example>\r\n"
        + "Subject: afternoon meeting\r\n"
        + "To: mooch@owatagu.siam.edu.example\r\n"
        + "Message-Id: <B27397-0100000@Blurdybloop.example>\r\n"
        + "MIME-Version: 1.0\r\n"
        + "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
        + "\r\n"
        + "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n"
    static let appendRFC = "A003 APPEND saved-messages (\\Seen) {\(rfcMessage.utf8.count)}\r\n" + rfcMessage + "\r\n"

    @Test("APPEND from RFC 9051 §6.3.12 streams the message")
    func appendRFCExample() {
        let list = events(Self.appendRFC)
        #expect(list == [
            .appendMessage(AppendMessage(tag: "A003", mailbox: MailboxName("saved-messages"), flags: [.seen],
                                         size: UInt64(Self.rfcMessage.utf8.count), needsContinuation: true)),
            .appendData(ArraySlice(bytes(Self.rfcMessage))),
            .appendMessageEnd,
            .appendEnd(tag: "A003"),
        ])
    }

    @Test("every split of the input gives the same events", arguments: [1, 2, 3, 7, 64])
    func chunking(size: Int) {
        let wire = "a LOGIN {4}\r\nfred {6+}\r\nsecret\r\n" + Self.appendRFC
            + "b APPEND {5+}\r\nINBOX \"01-Feb-2024 10:00:00 +0100\" ~{3+}\r\na\0b (\\Draft) {0+}\r\n\r\n"
            + "c SEARCH CHARSET UTF-8 SUBJECT {4}\r\nt\u{E9}t\r\nd IDLE\r\n"
        #expect(events(wire, chunkSize: size) == events(wire))
        let all = events(wire)
        #expect(all.count == 15)
        #expect(all.contains(.appendMessage(AppendMessage(
            tag: "b", mailbox: .inbox,
            internalDate: IMAPDateTime(date: IMAPDate(year: 2024, month: 2, day: 1)!, hour: 10, minute: 0, second: 0, zoneMinutes: 60),
            size: 3, isBinary: true, needsContinuation: false))))
        #expect(all.contains(.appendMessage(AppendMessage(tag: "b", mailbox: .inbox, flags: [.draft], size: 0, needsContinuation: false, index: 1))))
        #expect(all.contains(.appendData(ArraySlice([0x61, 0x00, 0x62]))))
        #expect(all.last == .command(TaggedCommand(tag: "d", command: .idle)))
    }

    @Test("MULTIAPPEND with synchronising literals (RFC 3502 §6 example)")
    func multiappend() {
        let wire = "A003 APPEND saved-messages (\\Seen) {3}\r\nabc (\\Seen) \" 7-Feb-1994 22:43:04 -0800\" {2}\r\nde\r\n"
        let list = events(wire, chunkSize: 1)
        #expect(list == [
            .appendMessage(AppendMessage(tag: "A003", mailbox: MailboxName("saved-messages"), flags: [.seen], size: 3, needsContinuation: true)),
            .appendData(ArraySlice(bytes("abc"))),
            .appendMessageEnd,
            .appendMessage(AppendMessage(tag: "A003", mailbox: MailboxName("saved-messages"), flags: [.seen],
                                         internalDate: IMAPDateTime(date: IMAPDate(year: 1994, month: 2, day: 7)!, hour: 22, minute: 43, second: 4, zoneMinutes: -480),
                                         size: 2, needsContinuation: true, index: 1)),
            .appendData(ArraySlice(bytes("de"))),
            .appendMessageEnd,
            .appendEnd(tag: "A003"),
        ])
    }

    @Test("APPEND with the UTF8 data extension (RFC 6855 §4), also in MULTIAPPEND")
    func appendUTF8() {
        let wire = "a APPEND INBOX (\\Seen) UTF8 (~{3+}\r\nabc) UTF8 (~{2}\r\nde)\r\n"
        #expect(events(wire, chunkSize: 1) == [
            .appendMessage(AppendMessage(tag: "a", mailbox: .inbox, flags: [.seen], size: 3, isBinary: true,
                                         needsContinuation: false, isUTF8Data: true)),
            .appendData(ArraySlice(bytes("abc"))), .appendMessageEnd,
            .appendMessage(AppendMessage(tag: "a", mailbox: .inbox, size: 2, isBinary: true, needsContinuation: true,
                                         index: 1, isUTF8Data: true)),
            .appendData(ArraySlice(bytes("de"))), .appendMessageEnd,
            .appendEnd(tag: "a"),
        ])
        #expect(events("a APPEND INBOX UTF8 (~{1+}\r\nx\r\n").last == .error(IMAPParseError(.syntax("expected ')' after UTF8 literal"), tag: "a")))
        #expect(events("a APPEND INBOX UTF8 ~{1}\r\n").errorTag == "a")
    }

    @Test("APPEND chunks are handed over as they arrive, never accumulated")
    func appendStreams() {
        var parser = IMAPCommandParser()
        parser.append(bytes("x APPEND INBOX {100000+}\r\n"))
        #expect(parser.next() == .appendMessage(AppendMessage(tag: "x", mailbox: .inbox, size: 100_000, needsContinuation: false)))
        var received = 0
        let chunk = [UInt8](repeating: 0x41, count: 1000)
        for _ in 0..<100 {
            parser.append(chunk)
            while let e = parser.next() {
                if case .appendData(let d) = e { received += d.count } else { #expect(e == .appendMessageEnd && received == 100_000) }
            }
            #expect(parser.bufferedByteCount == 0)
        }
        #expect(received == 100_000)
        parser.append(bytes("\r\n"))
        #expect(parser.next() == .appendEnd(tag: "x"))
        #expect(parser.next() == nil)
    }

    @Test("a mailbox sent as a literal is not mistaken for the message literal")
    func appendLiteralMailbox() {
        let list = events("a APPEND {7}\r\nSent/\u{1}x {3}\r\nabc\r\n")
        // \u{1} is not valid modified UTF-7: the mailbox is refused with the tag; the sync literal is not sent.
        #expect(list.first == .continuationRequired)
        guard case .error(let e)? = list.dropFirst().first else { Issue.record("expected error"); return }
        #expect(e.tag == "a")
        let ok = events("a APPEND {10}\r\nSent Items {3}\r\nabc\r\n")
        #expect(ok == [
            .continuationRequired,
            .appendMessage(AppendMessage(tag: "a", mailbox: MailboxName("Sent Items"), size: 3, needsContinuation: true)),
            .appendData(ArraySlice(bytes("abc"))), .appendMessageEnd, .appendEnd(tag: "a"),
        ])
    }

    @Test("rejecting a synchronising APPEND: the client sends nothing more, next command parses")
    func rejectSynchronising() {
        var parser = IMAPCommandParser()
        parser.append(bytes("a APPEND nosuch {10}\r\n"))
        guard case .appendMessage? = parser.next() else { Issue.record("expected appendMessage"); return }
        parser.rejectAppend()
        #expect(!parser.isAppendInProgress)
        parser.append(bytes("b NOOP\r\n"))
        #expect(parser.next() == .command(TaggedCommand(tag: "b", command: .noop)))
    }

    @Test("rejecting a non-synchronising MULTIAPPEND skips every remaining literal")
    func rejectNonSynchronising() {
        var parser = IMAPCommandParser()
        parser.append(bytes("a APPEND nosuch {3+}\r\nabc {4+}\r\nNOOP {2+}\r\nxy\r\nb NOOP\r\n"))
        guard case .appendMessage? = parser.next() else { Issue.record("expected appendMessage"); return }
        parser.rejectAppend()
        #expect(parser.next() == .command(TaggedCommand(tag: "b", command: .noop)))
        // Rejecting midway through the stream.
        parser.append(bytes("c APPEND INBOX {6+}\r\nabc"))
        guard case .appendMessage? = parser.next() else { Issue.record("expected appendMessage"); return }
        #expect(parser.next() == .appendData(ArraySlice(bytes("abc"))))
        parser.rejectAppend()
        parser.append(bytes("def (\\Seen) {1+}\r\nz\r\nd NOOP\r\n"))
        #expect(parser.next() == .command(TaggedCommand(tag: "d", command: .noop)))
    }

    @Test("APPENDLIMIT: too large a message is refused with the tag, nothing buffered")
    func appendLimit() {
        let limits = IMAPCommandParser.Limits(maximumAppendSize: 1000)
        var parser = IMAPCommandParser(limits: limits)
        parser.append(bytes("a APPEND INBOX {1001}\r\nb NOOP\r\n"))
        #expect(parser.next() == .error(IMAPParseError(.messageTooLarge(1001), tag: "a")))
        #expect(parser.next() == .command(TaggedCommand(tag: "b", command: .noop)))
        // Non-synchronising: the octets arrive anyway and are skipped.
        parser.append(bytes("c APPEND INBOX {1001+}\r\n") + [UInt8](repeating: 0x0A, count: 1001) + bytes("\r\nd NOOP\r\n"))
        #expect(parser.next() == .error(IMAPParseError(.messageTooLarge(1001), tag: "c")))
        #expect(parser.next() == .command(TaggedCommand(tag: "d", command: .noop)))
        // An unreadable size on a non-synchronising literal loses framing: fatal.
        parser.append(bytes("e APPEND INBOX {99999999999999999999999+}\r\n"))
        #expect(parser.next() == .error(IMAPParseError(.messageTooLarge(UInt64.max), tag: "e", isFatal: true)))
    }

    @Test("literal limits for other commands")
    func literalLimits() {
        let limits = IMAPCommandParser.Limits(maximumLiteralSize: 10)
        #expect(events("a LOGIN {11}\r\nb NOOP\r\n", parser: IMAPCommandParser(limits: limits))
            == [.error(IMAPParseError(.literalTooLarge(11), tag: "a")), .command(TaggedCommand(tag: "b", command: .noop))])
        #expect(events("a LOGIN {11+}\r\n01234567890 x\r\nb NOOP\r\n", parser: IMAPCommandParser(limits: limits))
            == [.error(IMAPParseError(.literalTooLarge(11), tag: "a")), .command(TaggedCommand(tag: "b", command: .noop))])
        #expect(events("a LOGIN {10}\r\n0123456789 {0}\r\n\r\n", parser: IMAPCommandParser(limits: limits))
            == [.continuationRequired, .continuationRequired, .command(TaggedCommand(tag: "a", command: .login(username: "0123456789", password: "")))])
        #expect(events("a LOGIN ~{3}\r\nabc x\r\n").errorTag == "a")
    }

    @Test("IDLE / DONE (RFC 2177)")
    func idle() {
        var parser = IMAPCommandParser()
        parser.append(bytes("a IDLE\r\n"))
        #expect(parser.next() == .command(TaggedCommand(tag: "a", command: .idle)))
        parser.expectIdleDone()
        parser.append(bytes("do"))
        #expect(parser.next() == nil)
        parser.append(bytes("ne\r\nb NOOP\r\n"))
        #expect(parser.next() == .idleDone)
        #expect(parser.next() == .command(TaggedCommand(tag: "b", command: .noop)))
        parser.expectIdleDone()
        parser.append(bytes("c NOOP\r\n"))
        #expect(parser.next() == .error(IMAPParseError(.syntax("expected DONE"), tag: nil)))
    }

    @Test("AUTHENTICATE continuation lines (RFC 9051 §6.2.2)")
    func authenticate() {
        var parser = IMAPCommandParser()
        parser.append(bytes("a AUTHENTICATE PLAIN\r\n"))
        #expect(parser.next() == .command(TaggedCommand(tag: "a", command: .authenticate(mechanism: "PLAIN", initialResponse: nil))))
        parser.expectAuthenticationResponse()
        parser.append(bytes("AHRlc3QAcGFzcw==\r\n"))
        #expect(parser.next() == .authenticationResponse(.data(Array("\0test\0pass".utf8))))
        parser.expectAuthenticationResponse()
        parser.append(bytes("*\r\n"))
        #expect(parser.next() == .authenticationResponse(.cancel))
        parser.expectAuthenticationResponse()
        parser.append(bytes("\r\n"))
        #expect(parser.next() == .authenticationResponse(.data([])))
        parser.expectAuthenticationResponse()
        parser.append(bytes("not base64!\r\n"))
        #expect(parser.next() == .error(IMAPParseError(.syntax("invalid base64 in authentication response"), tag: nil)))
    }

    @Test("bare LF ends a line too; STARTTLS leaves no buffered input when nothing was pipelined")
    func lineEndsAndStartTLS() {
        #expect(events("a NOOP\nb NOOP\r\n").count == 2)
        var parser = IMAPCommandParser()
        parser.append(bytes("a STARTTLS\r\n"))
        #expect(parser.next() == .command(TaggedCommand(tag: "a", command: .startTLS)))
        #expect(!parser.hasBufferedInput)
        parser.append(bytes("a STARTTLS\r\nb LOGIN x y\r\n"))
        _ = parser.next()
        #expect(parser.hasBufferedInput)
        parser.reset()
        #expect(!parser.hasBufferedInput)
    }

    @Test("UTF-8 mode changes how mailbox names are read")
    func utf8Mode() {
        #expect(parseCommand("a SELECT \"Gr&APY-n\"") == .select(MailboxName("Grön"), SelectParameters()))
        #expect(parseCommand("a SELECT \"Gr&APY-n\"", utf8: true) == .select(MailboxName("Gr&APY-n"), SelectParameters()))
        #expect(parseCommand("a SELECT \"Grön\"", utf8: true) == .select(MailboxName("Grön"), SelectParameters()))
        #expect(parseCommand("a SELECT \"Grön\"") == nil)
        #expect(parseCommand("a SELECT Grön", utf8: true) == .select(MailboxName("Grön"), SelectParameters()))
    }
}

// libFuzzer target: the incremental IMAP command parser (IMAPProtocol.IMAPCommandParser).
//
// The parser has no notion of session state; the server does. So the fuzzer puts the parser where each
// state leaves it and sends what a client sends there. Input: byte 0 picks the state (low 3 bits) and
// options, byte 1 the read-split seed, byte 2 a literal size for the APPEND states; the rest is what the
// client sends.
//   0 not authenticated   plain stream (CAPABILITY, STARTTLS, LOGIN, AUTHENTICATE ...)
//   1 authenticated       UTF-8 mailbox names (IMAP4rev2 / ENABLE UTF8=ACCEPT)
//   2 selected            after `SELECT INBOX`
//   3 inside APPEND       after `APPEND INBOX (\Seen) {n}` / `{n+}`: literal bytes, then the rest of the line
//   4 inside APPEND UTF8  after `APPEND INBOX UTF8 (~{n+}` (RFC 6855 §4, MULTIAPPEND may follow)
//   5 IDLE                after `IDLE` + expectIdleDone(): the DONE line
//   6 AUTHENTICATE        after `AUTHENTICATE PLAIN` + expectAuthenticationResponse(): a SASL line
//   7 tight limits        tiny line/literal/command/APPEND/nesting limits, to reach every limit path
// Option bit 3 refuses every APPEND message (rejectAppend()); bit 4 makes the APPEND literal
// non-synchronising.
//
// Like the server, the driver calls expectIdleDone() after IDLE and expectAuthenticationResponse() after
// AUTHENTICATE without an initial response, and stops at a fatal error. Checked: the events do not depend
// on how the input is split into reads (the parser's documented contract); buffered input stays bounded;
// every APPEND message delivers exactly its announced size; tags are valid; mailbox names and LOGIN
// arguments written back with ResponseEncoder parse to the same values.
import FuzzSupport
import IMAPProtocol

struct Driver {
    var parser: IMAPCommandParser
    let rejectAppends: Bool
    var events: [IMAPCommandEvent] = []
    var appendRemaining: UInt64?
    var stopped = false

    init(parser: IMAPCommandParser, rejectAppends: Bool) {
        self.parser = parser
        self.rejectAppends = rejectAppends
    }

    mutating func receive(_ read: ArraySlice<UInt8>) {
        guard !stopped else { return }
        parser.append(read)
        while let event = parser.next() {
            record(event)
            if stopped { return }
        }
        invariant(parser.bufferedByteCount <= parser.limits.maximumLineLength + 1,
                  "\(parser.bufferedByteCount) octets buffered after draining")
    }

    mutating func record(_ event: IMAPCommandEvent) {
        if case .appendData(let chunk) = event, case .appendData(let previous)? = events.last {
            events[events.count - 1] = .appendData(ArraySlice(Array(previous) + Array(chunk)))
        } else if case .appendData(let chunk) = event {
            events.append(.appendData(ArraySlice(Array(chunk))))
        } else {
            events.append(event)
        }
        switch event {
        case .command(let tagged):
            checkTag(tagged.tag)
            checkRoundTrips(tagged.command)
            switch tagged.command {
            case .idle: parser.expectIdleDone()
            case .authenticate(_, nil): parser.expectAuthenticationResponse()
            default: break
            }
        case .appendMessage(let message):
            checkTag(message.tag)
            invariant(message.size <= parser.limits.maximumAppendSize, "APPEND of \(message.size) past the limit")
            if rejectAppends {
                parser.rejectAppend()
                invariant(!parser.isAppendInProgress, "APPEND still in progress after rejectAppend()")
            } else {
                appendRemaining = message.size
            }
        case .appendData(let chunk):
            guard let remaining = appendRemaining else {
                invariant(false, "appendData outside an accepted APPEND message")
                return
            }
            invariant(!chunk.isEmpty && UInt64(chunk.count) <= remaining, "appendData of \(chunk.count), \(remaining) left")
            appendRemaining = remaining - UInt64(chunk.count)
        case .appendMessageEnd:
            invariant(appendRemaining == 0, "message ended with \(String(describing: appendRemaining)) octets missing")
            appendRemaining = nil
        case .appendEnd(let tag):
            checkTag(tag)
            invariant(!parser.isAppendInProgress, "appendEnd with APPEND still in progress")
        case .error(let error):
            appendRemaining = nil
            if let tag = error.tag { checkTag(tag) }
            if error.isFatal { stopped = true }
        case .continuationRequired, .authenticationResponse, .idleDone:
            break
        }
    }

    mutating func finish() {
        // After a fatal error the server closes: what is left in the buffer depends on the reads.
        guard !stopped else { return }
        events.append(.error(IMAPParseError(.syntax("end: buffered \(parser.hasBufferedInput) append \(parser.isAppendInProgress)"),
                                            tag: nil)))
    }

    func checkTag(_ tag: String) {
        invariant(!tag.isEmpty && tag.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "+") },
                  "invalid tag \(show(Array(tag.utf8)))")
    }

    /// Writes values back the way a client would and parses them again.
    func checkRoundTrips(_ command: Command) {
        let utf8 = parser.utf8Enabled
        let encoder = ResponseEncoder(utf8Enabled: utf8)
        var mailboxes: [MailboxName] = []
        switch command {
        case .select(let m, _), .examine(let m, _), .create(let m, _), .delete(let m), .subscribe(let m),
             .unsubscribe(let m), .status(let m, _), .getQuotaRoot(let m), .copy(_, let m, _), .move(_, let m, _):
            mailboxes.append(m)
        case .rename(let from, let to):
            mailboxes += [from, to]
        case .login(let user, let password):
            var wire = Array("t LOGIN ".utf8)
            encoder.appendAString(Array(user.utf8), into: &wire)
            wire.append(0x20)
            encoder.appendAString(Array(password.utf8), into: &wire)
            let again = parseOne(wire + [13, 10], utf8: utf8)
            invariant(again == .login(username: user, password: password),
                      "LOGIN round trip: \(user)/\(password) -> \(show(wire)) -> \(String(describing: again))")
        default:
            break
        }
        for mailbox in mailboxes {
            var wire = Array("t DELETE ".utf8)
            encoder.appendMailbox(mailbox, into: &wire)
            let again = parseOne(wire + [13, 10], utf8: utf8)
            invariant(again == .delete(mailbox),
                      "mailbox round trip: \(mailbox) -> \(show(wire)) -> \(String(describing: again))")
        }
    }

    func parseOne(_ wire: [UInt8], utf8: Bool) -> Command? {
        var fresh = IMAPCommandParser(utf8Enabled: utf8)
        fresh.append(wire)
        while let event = fresh.next() {
            if case .command(let tagged) = event { return tagged.command }
            if case .error = event { return nil }
        }
        return nil
    }
}

let testOneInput: FuzzTestOneInput = { data, size in
    var input = FuzzInput(fuzzBytes(data, size))
    let control = input.byte()
    let splitSeed = input.byte()
    let literalSize = input.byte()
    let payload = input.payload
    let rejectAppends = control & 0x08 != 0
    let plus = control & 0x10 != 0 ? "+" : ""

    var parser = IMAPCommandParser()
    var prefix = ""
    switch control & 7 {
    case 1: parser.utf8Enabled = true
    case 2: prefix = "s1 SELECT INBOX\r\n"
    case 3: prefix = "A1 APPEND INBOX (\\Seen) {\(literalSize)\(plus)}\r\n"
    case 4:
        parser.utf8Enabled = true
        prefix = "A1 APPEND INBOX UTF8 (~{\(literalSize)+}\r\n"
    case 5: prefix = "I1 IDLE\r\n"
    case 6: prefix = "P1 AUTHENTICATE PLAIN\r\n"
    case 7:
        parser = IMAPCommandParser(limits: IMAPCommandParser.Limits(
            maximumLineLength: 64, maximumLiteralSize: 16, maximumCommandSize: 128, maximumAppendSize: 32,
            maximumNestingDepth: 3))
    default: break
    }
    let wire = Array(prefix.utf8) + payload

    var whole = Driver(parser: parser, rejectAppends: rejectAppends)
    whole.receive(wire[...])
    whole.finish()
    var split = Driver(parser: parser, rejectAppends: rejectAppends)
    for read in splitIntoReads(wire, seed: splitSeed) { split.receive(read) }
    split.finish()
    invariant(whole.events == split.events, "events depend on the read split:\n whole: \(whole.events)\n split: \(split.events)")

    // Small codecs on the payload: SASL base64 and modified UTF-7 mailbox names.
    invariant(IMAPBase64.decode(IMAPBase64.encode(payload)) == payload, "base64 round trip")
    if let name = MailboxName(wire: payload, utf8: false) {
        invariant(MailboxName(wire: name.wireBytes(utf8: false), utf8: false) == name, "modified UTF-7 round trip: \(name)")
    }
    return 0
}

runLibFuzzer(testOneInput)

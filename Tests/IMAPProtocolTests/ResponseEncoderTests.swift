import Testing
@testable import IMAPProtocol

@Suite("Response encoder, byte-exact")
struct ResponseEncoderTests {
    @Test("tagged and untagged status responses with codes")
    func statusResponses() {
        #expect(encoded(.tagged(tag: "A142", status: .ok, code: .readWrite, text: "SELECT completed")) == "A142 OK [READ-WRITE] SELECT completed\r\n")
        #expect(encoded(.tagged(tag: "a", status: .no, code: .tryCreate, text: "")) == "a NO [TRYCREATE] completed\r\n")
        #expect(encoded(.tagged(tag: "a", status: .bad, code: nil, text: "line\r\nbreak")) == "a BAD line  break\r\n")
        #expect(encoded(.untaggedStatus(.ok, code: .uidValidity(3_857_529_045), text: "UIDs valid")) == "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n")
        #expect(encoded(.untaggedStatus(.bye, code: nil, text: "Logging out")) == "* BYE Logging out\r\n")
        #expect(encoded(.untaggedStatus(.preauth, code: .capability(["IMAP4rev2", "IDLE"]), text: "hi")) == "* PREAUTH [CAPABILITY IMAP4rev2 IDLE] hi\r\n")
        #expect(encoded(.tagged(tag: "a", status: .ok, code: nil, text: "Grön")) == "a OK Gr??n\r\n")
        #expect(encoded(.tagged(tag: "a", status: .ok, code: nil, text: "Grön"), utf8: true) == "a OK Grön\r\n")
    }

    @Test("every response code", arguments: [
        (ResponseCode.alert, "ALERT"), (.alreadyExists, "ALREADYEXISTS"), (.nonExistent, "NONEXISTENT"),
        (.overQuota, "OVERQUOTA"), (.cannot, "CANNOT"), (.limit, "LIMIT"), (.tryCreate, "TRYCREATE"),
        (.uidValidity(1), "UIDVALIDITY 1"), (.uidNext(44), "UIDNEXT 44"),
        (.permanentFlags([.deleted, .seen], allowsNewKeywords: true), "PERMANENTFLAGS (\\Deleted \\Seen \\*)"),
        (.permanentFlags([], allowsNewKeywords: false), "PERMANENTFLAGS ()"),
        (.highestModSeq(715_194_045_007), "HIGHESTMODSEQ 715194045007"),
        (.appendUID(uidValidity: 38505, uids: NumberSet([3955])), "APPENDUID 38505 3955"),
        (.appendUID(uidValidity: 38505, uids: NumberSet([3955, 3956, 3957])), "APPENDUID 38505 3955:3957"),
        (.copyUID(uidValidity: 38505, source: NumberSet([304, 319, 320]), destination: NumberSet([3956, 3957, 3958])),
         "COPYUID 38505 304,319:320 3956:3958"),
        (.capability(["IMAP4rev1", "LITERAL+"]), "CAPABILITY IMAP4rev1 LITERAL+"), (.readWrite, "READ-WRITE"),
        (.readOnly, "READ-ONLY"), (.closed, "CLOSED"), (.authenticationFailed, "AUTHENTICATIONFAILED"),
        (.unavailable, "UNAVAILABLE"), (.privacyRequired, "PRIVACYREQUIRED"), (.serverBug, "SERVERBUG"),
        (.noPerm, "NOPERM"), (.inUse, "INUSE"), (.expungeIssued, "EXPUNGEISSUED"), (.badCharset([]), "BADCHARSET"),
        (.badCharset(["UTF-8", "US-ASCII"]), "BADCHARSET (UTF-8 US-ASCII)"), (.modified(NumberSet([7, 9])), "MODIFIED 7,9"),
        (.noModSeq, "NOMODSEQ"), (.contactAdmin, "CONTACTADMIN"), (.tooBig, "TOOBIG"), (.unseen(12), "UNSEEN 12"),
        (.other("X-FOO", "a]b"), "X-FOO a b"), (.uidNotSticky, "UIDNOTSTICKY"), (.unknownCTE, "UNKNOWN-CTE"),
    ])
    func codes(code: ResponseCode, text: String) {
        #expect(encoded(.tagged(tag: "t", status: .ok, code: code, text: "x")) == "t OK [\(text)] x\r\n")
    }

    @Test("decimals written without String match String for edge values")
    func decimals() {
        var values: [UInt64] = [0, 1, 9, 10, 99, 100, 4_294_967_295, 4_294_967_296, UInt64.max - 1, UInt64.max]
        var x: UInt64 = 1
        for _ in 0..<19 { x = x &* 10; values += [x &- 1, x, x &+ 1] }
        for value in values {
            var out: [UInt8] = [0x2A]
            ResponseEncoder.appendDecimal(value, into: &out)
            #expect(out == [0x2A] + Array(String(value).utf8), "\(value)")
        }
    }

    @Test("continuations and SASL challenges")
    func continuations() {
        #expect(encoded(.continuation("Ready for literal data")) == "+ Ready for literal data\r\n")
        #expect(encoded(.challenge([])) == "+ \r\n")
        #expect(encoded(.challenge(Array("\0a".utf8))) == "+ AGE=\r\n")
    }

    @Test("untagged data")
    func untaggedData() {
        #expect(encoded(.untagged(.capability(["IMAP4rev1", "IMAP4rev2", "IDLE"]))) == "* CAPABILITY IMAP4rev1 IMAP4rev2 IDLE\r\n")
        #expect(encoded(.untagged(.enabled([]))) == "* ENABLED\r\n")
        #expect(encoded(.untagged(.enabled(["CONDSTORE", "QRESYNC"]))) == "* ENABLED CONDSTORE QRESYNC\r\n")
        #expect(encoded(.untagged(.exists(23))) == "* 23 EXISTS\r\n")
        #expect(encoded(.untagged(.recent(5))) == "* 5 RECENT\r\n")
        #expect(encoded(.untagged(.expunge(3))) == "* 3 EXPUNGE\r\n")
        #expect(encoded(.untagged(.vanished(earlier: true, NumberSet([41, 43, 44, 45])))) == "* VANISHED (EARLIER) 41,43:45\r\n")
        #expect(encoded(.untagged(.vanished(earlier: false, NumberSet([405])))) == "* VANISHED 405\r\n")
        #expect(encoded(.untagged(.flags([.answered, .flagged, .deleted, .seen, .draft]))) == "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n")
        #expect(encoded(.untagged(.search([2, 3, 6], modSeq: nil))) == "* SEARCH 2 3 6\r\n")
        #expect(encoded(.untagged(.search([2, 5, 6, 7, 11, 12, 18, 19, 20, 23], modSeq: 917_162_500)))
            == "* SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)\r\n")
        #expect(encoded(.untagged(.search([], modSeq: 5))) == "* SEARCH\r\n")
        #expect(encoded(.untagged(.sort([2, 84, 882], modSeq: nil))) == "* SORT 2 84 882\r\n")
        #expect(encoded(.untagged(.esearch(ESearchResponse(tag: "A282", uid: false, min: 2, count: 3))))
            == "* ESEARCH (TAG \"A282\") MIN 2 COUNT 3\r\n")
        #expect(encoded(.untagged(.esearch(ESearchResponse(tag: "A283", uid: true, all: NumberSet([2, 10, 11]), modSeq: 9))))
            == "* ESEARCH (TAG \"A283\") UID ALL 2,10:11 MODSEQ 9\r\n")
        #expect(encoded(.untagged(.esearch(ESearchResponse(tag: "a", uid: false, max: 4, all: NumberSet())))) == "* ESEARCH (TAG \"a\") MAX 4\r\n")
        #expect(encoded(.untagged(.id([IDField("name", "Skjold"), IDField("os", nil)]))) == "* ID (\"name\" \"Skjold\" \"os\" NIL)\r\n")
        #expect(encoded(.untagged(.id(nil))) == "* ID NIL\r\n")
        #expect(encoded(.untagged(.namespace(personal: [NamespaceDescription(prefix: "", delimiter: "/")], other: nil, shared: nil)))
            == "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n")
        #expect(encoded(.untagged(.namespace(personal: [NamespaceDescription(prefix: "", delimiter: ".")],
                                             other: [NamespaceDescription(prefix: "~", delimiter: "/"), NamespaceDescription(prefix: "#u", delimiter: "\\")],
                                             shared: []))) == "* NAMESPACE ((\"\" \".\")) ((\"~\" \"/\")(\"#u\" \"\\\\\")) NIL\r\n")
        #expect(encoded(.untagged(.quota(root: "", [QuotaUsage(resource: "STORAGE", usage: 10, limit: 512)])))
            == "* QUOTA \"\" (STORAGE 10 512)\r\n")
        #expect(encoded(.untagged(.quotaRoot(.inbox, roots: ["", "user quota"])))
            == "* QUOTAROOT \"INBOX\" \"\" \"user quota\"\r\n")
        #expect(encoded(.untagged(.quotaRoot(MailboxName("x"), roots: ["root"]))) == "* QUOTAROOT \"x\" root\r\n")
        #expect(encoded(.untagged(.status(MailboxName("blurdybloop"), [.messages(231), .uidNext(44292)])))
            == "* STATUS \"blurdybloop\" (MESSAGES 231 UIDNEXT 44292)\r\n")
        #expect(encoded(.untagged(.status(.inbox, [.uidValidity(1), .unseen(2), .deleted(3), .size(4), .recent(5),
                                                   .highestModSeq(6), .appendLimit(nil), .appendLimit(7)])))
            == "* STATUS \"INBOX\" (UIDVALIDITY 1 UNSEEN 2 DELETED 3 SIZE 4 RECENT 5 HIGHESTMODSEQ 6 APPENDLIMIT NIL APPENDLIMIT 7)\r\n")
    }

    @Test("LIST with attributes, delimiters, extended data and name encoding")
    func list() {
        #expect(encoded(.untagged(.list(ListResponse(attributes: [.hasNoChildren, .drafts], delimiter: "/", mailbox: MailboxName("Drafts")))))
            == "* LIST (\\HasNoChildren \\Drafts) \"/\" \"Drafts\"\r\n")
        #expect(encoded(.untagged(.list(ListResponse(attributes: [.noSelect], delimiter: nil, mailbox: MailboxName("")))))
            == "* LIST (\\Noselect) NIL \"\"\r\n")
        #expect(encoded(.untagged(.list(ListResponse(attributes: [], delimiter: "/", mailbox: MailboxName("Foo"),
                                                     extended: [.childInfo(["SUBSCRIBED"])]))))
            == "* LIST () \"/\" \"Foo\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n")
        #expect(encoded(.untagged(.list(ListResponse(attributes: [], delimiter: "/", mailbox: MailboxName("New"),
                                                     extended: [.oldName(MailboxName("Old"))]))))
            == "* LIST () \"/\" \"New\" (\"OLDNAME\" (\"Old\"))\r\n")
        #expect(encoded(.untagged(.lsub(ListResponse(attributes: [], delimiter: "\\", mailbox: MailboxName("台北/a\"b")))))
            == "* LSUB () \"\\\\\" \"&U,BTFw-/a\\\"b\"\r\n")
        #expect(encoded(.untagged(.list(ListResponse(attributes: [], delimiter: "/", mailbox: MailboxName("台北")))), utf8: true)
            == "* LIST () \"/\" \"台北\"\r\n")
    }

    @Test("THREAD trees (RFC 5256 §4 example)")
    func thread() {
        let tree = [
            ThreadNode([2]),
            ThreadNode([3, 6], children: [ThreadNode([4, 23]), ThreadNode([44, 7, 96])]),
        ]
        #expect(encoded(.untagged(.thread(tree))) == "* THREAD (2)(3 6 (4 23)(44 7 96))\r\n")
        let chain = [ThreadNode([1], children: [ThreadNode([2], children: [ThreadNode([3])])])]
        #expect(encoded(.untagged(.thread(chain))) == "* THREAD (1 2 3)\r\n")
        let dummy = [ThreadNode([], children: [ThreadNode([3]), ThreadNode([5])])]
        #expect(encoded(.untagged(.thread(dummy))) == "* THREAD ((3)(5))\r\n")
        #expect(encoded(.untagged(.thread([]))) == "* THREAD\r\n")
    }

    @Test("FETCH with every attribute kind")
    func fetch() {
        let date = IMAPDateTime(secondsSince1970: 837_596_665, zoneMinutes: -420)
        let r = Response.untagged(.fetch(12, [
            .uid(4827313), .flags([.seen, Flag("$Junk")!]), .internalDate(date), .rfc822Size(44827), .modSeq(624_140_003),
            .envelope(encoded: bytes("(NIL \"x\" NIL NIL NIL NIL NIL NIL NIL NIL)")),
            .bodyStructure(encoded: bytes("(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 3 1)"), extensible: false),
            .bodySection(SectionSpec(part: [1, 2], text: .headerFields(["FROM", "TO"])), origin: nil, data: bytes("From: a\r\n\r\n")),
            .bodySection(.whole, origin: 100, data: bytes("abc")),
            .bodySection(SectionSpec(part: [3]), origin: nil, data: nil),
            .binary(part: [1], origin: nil, data: [0x61, 0x00]),
            .binary(part: [2], origin: nil, data: bytes("ok")),
            .binarySize(part: [1, 1], size: 2),
            .rfc822(data: bytes("x")), .rfc822Header(data: nil), .rfc822Text(data: bytes("")),
        ]))
        #expect(encoded(r) == "* 12 FETCH (UID 4827313 FLAGS (\\Seen $Junk) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" "
            + "RFC822.SIZE 44827 MODSEQ (624140003) ENVELOPE (NIL \"x\" NIL NIL NIL NIL NIL NIL NIL NIL) "
            + "BODY (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 3 1) "
            + "BODY[1.2.HEADER.FIELDS (FROM TO)] {11}\r\nFrom: a\r\n\r\n BODY[]<100> {3}\r\nabc BODY[3] NIL "
            + "BINARY[1] ~{2}\r\na\0 BINARY[2] {2}\r\nok BINARY.SIZE[1.1] 2 RFC822 {1}\r\nx RFC822.HEADER NIL RFC822.TEXT {0}\r\n)\r\n")
        #expect(encoded(.untagged(.fetch(1, [.bodyStructure(encoded: bytes("X"), extensible: true)]))) == "* 1 FETCH (BODYSTRUCTURE X)\r\n")
    }

    @Test("streamed FETCH: literal header written separately")
    func streamedFetch() {
        var out: [UInt8] = []
        var fetch = FetchResponseEncoder(sequenceNumber: 7, into: &out)
        fetch.append(.uid(42), into: &out)
        fetch.appendLiteralHeader(for: .bodySection(SectionSpec(text: .text), origin: 0), size: 5, into: &out)
        out += bytes("hello")
        fetch.appendLiteralHeader(for: .binary(part: [1], origin: nil, literal8: true), size: 1, into: &out)
        out += [0]
        fetch.appendLiteralHeader(for: .rfc822, size: 0, into: &out)
        fetch.append(.flags([.seen]), into: &out)
        fetch.finish(into: &out)
        #expect(out == bytes("* 7 FETCH (UID 42 BODY[TEXT]<0> {5}\r\nhello BINARY[1] ~{1}\r\n") + [0] + bytes(" RFC822 {0}\r\n FLAGS (\\Seen))\r\n"))
        #expect(ResponseEncoder.literalHeader(size: 1_000_000) == bytes("{1000000}\r\n"))
        #expect(ResponseEncoder.literalHeader(size: 3, binary: true) == bytes("~{3}\r\n"))
    }

    @Test("string forms: atom, quoted with escapes, literal")
    func strings() {
        let rev1 = ResponseEncoder()
        let rev2 = ResponseEncoder(utf8Enabled: true)
        func s(_ e: ResponseEncoder, _ f: (ResponseEncoder, inout [UInt8]) -> Void) -> String {
            var out: [UInt8] = []
            f(e, &out)
            return String(decoding: out, as: UTF8.self)
        }
        #expect(s(rev1) { $0.appendAString(bytes("abc"), into: &$1) } == "abc")
        #expect(s(rev1) { $0.appendAString(bytes("a]b"), into: &$1) } == "a]b")
        #expect(s(rev1) { $0.appendAString(bytes("nil"), into: &$1) } == "\"nil\"")
        #expect(s(rev1) { $0.appendAString(bytes(""), into: &$1) } == "\"\"")
        #expect(s(rev1) { $0.appendAString(bytes("a b"), into: &$1) } == "\"a b\"")
        #expect(s(rev1) { $0.appendString(bytes("say \"hi\" \\o/"), into: &$1) } == "\"say \\\"hi\\\" \\\\o/\"")
        #expect(s(rev1) { $0.appendString(bytes("two\r\nlines"), into: &$1) } == "{10}\r\ntwo\r\nlines")
        #expect(s(rev1) { $0.appendString(bytes("Grön"), into: &$1) } == "{5}\r\nGrön")
        #expect(s(rev2) { $0.appendString(bytes("Grön"), into: &$1) } == "\"Grön\"")
        #expect(s(rev2) { $0.appendString([0x61, 0xFF], into: &$1) } == "{2}\r\na\u{FFFD}")
        #expect(s(rev1) { $0.appendNString(nil, into: &$1) } == "NIL")
        #expect(s(rev1) { $0.appendString([UInt8](repeating: 0x61, count: 1025), into: &$1) }.hasPrefix("{1025}\r\naaa"))
        #expect(s(rev1) { $0.appendLiteral([0x00, 0x01], allowBinary: true, into: &$1) } == "~{2}\r\n\0\u{1}")
    }

    @Test("what the encoder writes, the parser reads back")
    func roundTrip() {
        let encoder = ResponseEncoder()
        for name in ["Sent Items", "台北/日本語", "a\"b\\c", "INBOX", "%*", ""] {
            var out = bytes("a SELECT ")
            encoder.appendMailbox(MailboxName(name), into: &out)
            out += bytes("\r\n")
            #expect(events(out) == [.command(TaggedCommand(tag: "a", command: .select(MailboxName(name), SelectParameters())))])
        }
        for value in ["plain", "with space", "quote\"back\\", "line\r\nbreak", "ünï", "nil"] {
            var out = bytes("a LOGIN ")
            encoder.appendAString(bytes(value), into: &out)
            out += bytes(" x\r\n")
            #expect(events(out).last == .command(TaggedCommand(tag: "a", command: .login(username: value, password: "x"))))
        }
    }
}

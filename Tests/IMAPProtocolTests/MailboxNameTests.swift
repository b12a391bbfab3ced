import Testing
@testable import IMAPProtocol

@Suite("Mailbox names and modified UTF-7 (RFC 3501 §5.1.3)")
struct MailboxNameTests {
    @Test("RFC 3501 examples", arguments: [
        ("~peter/mail/&U,BTFw-/&ZeVnLIqe-", "~peter/mail/台北/日本語"),
        ("&U,BTFw-", "台北"),
        ("&ZeVnLIqe-", "日本語"),
        ("Gr&APY-n", "Grön"),
        ("A&-B", "A&B"),
        ("&AMk-t&AOk-", "Été"),
        ("&2D3eAQ-", "\u{1F601}"),
        ("Entw&APw-rfe", "Entwürfe"),
    ])
    func examples(wire: String, text: String) {
        #expect(ModifiedUTF7.decode(Array(wire.utf8)) == text)
        #expect(ModifiedUTF7.encode(text) == wire)
    }

    @Test("invalid modified UTF-7 is rejected", arguments: [
        "&", "&U,BTFw", "&-&", "a&b", "&ZeVnLIqe-&ZeVnLIqe-", "&AGE-", "&U,BTF-", "&U,BTFx-", "&2D0-", "&3gE-",
        "tab\there", "caf\u{E9}", "&AAA-", "&A,-", "&\u{7F}-",
    ])
    func invalid(wire: String) {
        #expect(ModifiedUTF7.decode(Array(wire.utf8)) == nil)
    }

    @Test("round trips of arbitrary text")
    func roundTrips() {
        for text in ["", "INBOX", "a&b&&c", "–—‘’", "Ünïcödé/子/🎉", "\u{1}ctl", "mixed 台北 & ASCII", "~/&-"] {
            #expect(ModifiedUTF7.decode(Array(ModifiedUTF7.encode(text).utf8)) == text)
        }
    }

    @Test("INBOX is case-insensitive; children optionally normalised")
    func inbox() {
        #expect(MailboxName("inbox") == .inbox)
        #expect(MailboxName("InBoX").isInbox)
        #expect(MailboxName("inbox/Sub").name == "inbox/Sub")
        #expect(MailboxName("inbox/Sub").normalized(delimiter: "/").name == "INBOX/Sub")
        #expect(MailboxName("Inboxes").normalized(delimiter: "/").name == "Inboxes")
        #expect(MailboxName("INBOX").normalized(delimiter: "/") == .inbox)
    }

    @Test("wire forms per mode")
    func wireForms() {
        #expect(MailboxName("台北").wireBytes(utf8: false) == Array("&U,BTFw-".utf8))
        #expect(MailboxName("台北").wireBytes(utf8: true) == Array("台北".utf8))
        #expect(MailboxName(wire: Array("&U,BTFw-".utf8), utf8: false)?.name == "台北")
        #expect(MailboxName(wire: [0xFF], utf8: true) == nil)
        #expect(MailboxName(wire: Array("iNbOx".utf8), utf8: false) == .inbox)
    }

    @Test("flags and attributes")
    func flags() {
        #expect(Flag("\\SEEN") == .seen)
        #expect(Flag("\\seen")?.name == "\\Seen")
        #expect(Flag("$Forwarded")?.name == "$Forwarded")
        #expect(Flag("bad flag") == nil)
        #expect(Flag("\\") == nil)
        #expect(Flag("a]b") == nil)
        #expect(MailboxAttribute("\\hasnochildren") == .hasNoChildren)
        #expect(MailboxAttribute("\\SENT")?.isSpecialUse == true)
        #expect(MailboxAttribute("Sent") == nil)
    }

    @Test("dates and date-times")
    func dates() {
        #expect(IMAPDate(year: 2024, month: 2, day: 29) != nil)
        #expect(IMAPDate(year: 2023, month: 2, day: 29) == nil)
        #expect(IMAPDate(year: 1900, month: 2, day: 29) == nil)
        #expect(IMAPDate(year: 2000, month: 2, day: 29) != nil)
        #expect(IMAPDate(year: 2024, month: 2, day: 1)?.description == "1-Feb-2024")
        #expect(IMAPDate(year: 1970, month: 1, day: 2)?.daysSince1970 == 1)
        #expect(IMAPDate(daysSince1970: 19_754) == IMAPDate(year: 2024, month: 2, day: 1))
        let dt = IMAPDateTime(secondsSince1970: 837_596_665, zoneMinutes: -420)
        #expect(dt.description == "17-Jul-1996 02:44:25 -0700")
        #expect(dt.secondsSince1970 == 837_596_665)
        #expect(IMAPDateTime(secondsSince1970: -1).description == "31-Dec-1969 23:59:59 +0000")
    }

    @Test("base64 for SASL")
    func base64() {
        #expect(IMAPBase64.encode(Array("\0test\0pass".utf8)) == Array("AHRlc3QAcGFzcw==".utf8))
        #expect(IMAPBase64.encode([]) == [])
        #expect(IMAPBase64.encode(Array("ab".utf8)) == Array("YWI=".utf8))
        #expect(IMAPBase64.decode(Array("YWI=".utf8)) == Array("ab".utf8))
        for bad in ["YWI", "Y=WI", "YW=I", "====", "YWI=YWI=", "YW I"] {
            #expect(IMAPBase64.decode(Array(bad.utf8)) == nil)
        }
    }
}

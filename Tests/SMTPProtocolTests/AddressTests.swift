import Testing
@testable import SMTPProtocol

@Suite("Mailbox, domain and address literal grammar")
struct AddressTests {
    @Test("dot-atom local parts and domains")
    func dotAtoms() throws {
        let mailbox = try #require(senderMailbox("MAIL FROM:<first.last+tag@Sub.Example.COM>"))
        #expect(mailbox.localPart == "first.last+tag")
        #expect(mailbox.domain == .name("Sub.Example.COM"))
        #expect(mailbox.needsSMTPUTF8 == false)
        #expect(senderMailbox("MAIL FROM:<!#$%&'*+-/=?^_`{|}~@example.com>")?.localPart == "!#$%&'*+-/=?^_`{|}~")
        #expect(senderMailbox("MAIL FROM:<user@localhost>")?.domain == .name("localhost"))
    }

    @Test("malformed local parts and domains are refused", arguments: [
        ".john@example.com", "john.@example.com", "jo..hn@example.com", "@example.com", "john@", "john",
        "john@-example.com", "john@example-.com", "john@example..com", "john@example.com.", "john@.example.com",
        "john@exa_mple.com", "jo hn@example.com", "john@@example.com", "john(comment)@example.com",
        "\"unterminated@example.com", "john@[]", "john@[1.2.3]", "john@[256.1.1.1]", "john@[1.2.3.4.5]",
        "john@[IPv6:1:2:3:4:5:6:7:8:9]", "john@[IPv6:1::2::3]", "john@[IPv6:12345::]", "john@[IPv6:1:2:3:4:5:6:7]",
        "john@[IPv6::1]", "john@[IPv6:1:]", "john@[IPv6:]", "john@[IPv6:1.2.3.4:1::]", "john@[tag:]", "john@[-tag:x]",
    ])
    func malformed(address: String) {
        #expect(parse("MAIL FROM:<\(address)>").failure == .invalidSenderAddress)
        #expect(parse("RCPT TO:<\(address)>").failure == .invalidRecipientAddress)
        #expect(Mailbox(parsing: address) == nil)
    }

    @Test("label and domain length limits (RFC 1035, RFC 5321 §4.5.3.1.2)")
    func domainLengths() {
        let label63 = String(repeating: "a", count: 63)
        #expect(senderMailbox("MAIL FROM:<u@\(label63).example>") != nil)
        #expect(parse("MAIL FROM:<u@\(label63)a.example>").failure == .invalidSenderAddress)
        let domain255 = Array(repeating: String(repeating: "b", count: 63), count: 4).joined(separator: ".") // 255 octets
        #expect(domain255.utf8.count == 255)
        #expect(senderMailbox("MAIL FROM:<u@\(domain255)>") != nil)
        #expect(parse("MAIL FROM:<u@\(domain255)b>").failure == .invalidSenderAddress)
    }

    @Test("quoted local parts are unquoted and re-quoted only when needed")
    func quotedLocalParts() throws {
        let spaced = try #require(senderMailbox("MAIL FROM:<\"john doe\"@example.com>"))
        #expect(spaced.localPart == "john doe")
        #expect(spaced.description == "\"john doe\"@example.com")

        let escaped = try #require(recipientMailbox(#"RCPT TO:<"john\"doe\\x"@example.com>"#))
        #expect(escaped.localPart == #"john"doe\x"#)
        #expect(escaped.encodedLocalPart == #""john\"doe\\x""#)

        // A quoted local part that is a valid dot-string is the same mailbox as the unquoted one.
        let plain = try #require(senderMailbox("MAIL FROM:<\"john\"@example.com>"))
        #expect(plain == Mailbox(localPart: "john", domain: .name("example.com")))
        #expect(plain.description == "john@example.com")

        #expect(recipientMailbox("RCPT TO:<\"a@b\"@example.com>")?.localPart == "a@b")
        #expect(recipientMailbox(#"RCPT TO:<"\a"@example.com>"#)?.localPart == "a")  // quoted-pair of an ordinary char
        #expect(recipientMailbox("RCPT TO:<\"..\"@example.com>")?.description == "\"..\"@example.com")

        // Empty quoted local part, control characters, and a quoted-pair of a control are refused.
        #expect(parse("RCPT TO:<\"\"@example.com>").failure == .invalidRecipientAddress)
        #expect(parse(bytes("RCPT TO:<\"a") + [0x09] + bytes("b\"@example.com>")).failure == .invalidRecipientAddress)
        #expect(parse(bytes("RCPT TO:<\"a\\") + [0x07] + bytes("\"@example.com>")).failure == .invalidRecipientAddress)
    }

    @Test("IPv4 address literals")
    func ipv4Literals() throws {
        let mailbox = try #require(senderMailbox("MAIL FROM:<user@[192.0.2.1]>"))
        #expect(mailbox.domain == .addressLiteral(.ipv4(octets: [192, 0, 2, 1])))
        #expect(mailbox.description == "user@[192.0.2.1]")
        #expect(senderMailbox("MAIL FROM:<user@[000.010.255.0]>")?.domain == .addressLiteral(.ipv4(octets: [0, 10, 255, 0])))
    }

    @Test("IPv6 address literals in all RFC 5321 §4.1.3 forms, printed canonically (RFC 5952)")
    func ipv6Literals() throws {
        let cases: [(String, [UInt8], String)] = [
            ("IPv6:2001:DB8:0:0:0:0:0:1", [0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "[IPv6:2001:db8::1]"),
            ("IPv6:2001:db8::1", [0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "[IPv6:2001:db8::1]"),
            ("ipv6:::1", Array(repeating: 0, count: 15) + [1], "[IPv6:::1]"),
            ("IPv6:::", Array(repeating: 0, count: 16), "[IPv6:::]"),
            ("IPv6:fe80::", [0xFE, 0x80] + Array(repeating: 0, count: 14), "[IPv6:fe80::]"),
            ("IPv6:::ffff:192.0.2.1", Array(repeating: 0, count: 10) + [0xFF, 0xFF, 192, 0, 2, 1], "[IPv6:::ffff:c000:201]"),
            ("IPv6:1:2:3:4:5:6:192.0.2.1", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 192, 0, 2, 1], "[IPv6:1:2:3:4:5:6:c000:201]"),
            ("IPv6:1:0:0:2:0:0:0:3", [0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3], "[IPv6:1:0:0:2::3]"),
            ("IPv6:1:0:2:3:4:5:6:7", [0, 1, 0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7], "[IPv6:1:0:2:3:4:5:6:7]"),
        ]
        for (literal, octets, canonical) in cases {
            let mailbox = try #require(senderMailbox("MAIL FROM:<u@[\(literal)]>"), "\(literal)")
            #expect(mailbox.domain == .addressLiteral(.ipv6(octets: octets)), "\(literal)")
            #expect(mailbox.domain.description == canonical, "\(literal)")
        }
    }

    @Test("general address literals are kept")
    func generalLiteral() {
        #expect(senderMailbox("MAIL FROM:<u@[x-tag:some.content]>")?.domain == .addressLiteral(.general(tag: "x-tag", content: "some.content")))
    }

    @Test("UTF-8 addresses (RFC 6531) parse and report needsSMTPUTF8")
    func utf8Addresses() throws {
        guard case .success(.mail(let path, let params)) = parse("MAIL FROM:<用户@例子.广告> SMTPUTF8") else {
            Issue.record("UTF-8 sender not accepted")
            return
        }
        #expect(path.mailbox?.localPart == "用户")
        #expect(path.mailbox?.domain == .name("例子.广告"))
        #expect(path.needsSMTPUTF8)
        #expect(params.smtpUTF8)

        // Without SMTPUTF8 the syntax is fine; the server refuses with 553 5.6.7 using the flag.
        guard case .success(.mail(let path2, let params2)) = parse("MAIL FROM:<jürgen@example.com>") else {
            Issue.record("UTF-8 sender not parsed")
            return
        }
        #expect(path2.needsSMTPUTF8 && !params2.smtpUTF8)
        #expect(SMTPReply.utf8AddressWithoutSMTPUTF8.code == 553)
        #expect(SMTPReply.utf8AddressWithoutSMTPUTF8.enhancedCode == EnhancedStatusCode(5, 6, 7))

        let rcpt = try #require(recipientMailbox("RCPT TO:<\"ünïcode quoted\"@example.com>"))
        #expect(rcpt.needsSMTPUTF8)
        #expect(recipientMailbox("RCPT TO:<ascii@bücher.example>")?.needsSMTPUTF8 == true)
        #expect(ReversePath.null.needsSMTPUTF8 == false)
        #expect(ForwardPath.postmaster.needsSMTPUTF8 == false)
    }

    @Test("invalid UTF-8 anywhere in an address is a syntax error", arguments: [
        [0xFF] as [UInt8],                // never valid
        [0xC3, 0x28],                     // bad continuation
        [0xC0, 0xAF],                     // overlong "/"
        [0xE0, 0x80, 0xAF],               // overlong
        [0xED, 0xA0, 0x80],               // UTF-16 surrogate
        [0xF4, 0x90, 0x80, 0x80],         // above U+10FFFF
        [0xE2, 0x82],                     // truncated
        [0x80],                           // lone continuation
    ])
    func invalidUTF8(sequence: [UInt8]) {
        let inLocal = bytes("MAIL FROM:<ab") + sequence + bytes("@example.com>")
        #expect(parse(inLocal).failure == .invalidSenderAddress)
        let inDomain = bytes("RCPT TO:<ab@ex") + sequence + bytes(".com>")
        #expect(parse(inDomain).failure == .invalidRecipientAddress)
        let inQuoted = bytes("RCPT TO:<\"a b") + sequence + bytes("\"@example.com>")
        #expect(parse(inQuoted).failure == .invalidRecipientAddress)
    }

    @Test("programmatic construction validates")
    func construction() {
        #expect(Mailbox(localPart: "", domain: .name("example.com")) == nil)
        #expect(Mailbox(localPart: "a\nb", domain: .name("example.com")) == nil)
        #expect(Mailbox(localPart: "a", domain: .name("bad..domain")) == nil)
        #expect(Mailbox(localPart: "a b", domain: .name("example.com"))?.description == "\"a b\"@example.com")
        #expect(Mailbox(parsing: "a@b.example")?.description == "a@b.example")
        #expect(Mailbox(parsing: "<a@b.example>") == nil)
        #expect(MailDomain(parsing: "[IPv6:::1]") == .addressLiteral(.ipv6(octets: Array(repeating: 0, count: 15) + [1])))
        #expect(MailDomain(parsing: "example.com") == .name("example.com"))
        #expect(MailDomain(parsing: "exa mple.com") == nil)
    }
}

import Testing
@testable import MIME

/// RFC 2047, RFC 2231, transfer encodings, dates, addresses, searchable text.
@Suite struct DecodingTests {
    @Test(arguments: [
        ("=?UTF-8?B?w6lsw6h2ZQ==?= report", "élève report"),
        ("=?ISO-8859-1?Q?Andr=E9?= Pirard", "André Pirard"),
        // RFC 2047 §8 examples.
        ("(=?ISO-8859-1?Q?a?=)", "(a)"),
        ("(=?ISO-8859-1?Q?a?= b)", "(a b)"),
        ("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)"),
        ("(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)"),
        ("(=?ISO-8859-1?Q?a_b?=)", "(a b)"),
        ("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a=?ISO-8859-2?Q?_b?=)"),
        ("(a =?ISO-8859-1?Q?b?=)", "(a b)"),
        // A UTF-8 sequence split across two words is joined before conversion.
        ("=?UTF-8?Q?=C3?= =?UTF-8?Q?=A9t=C3=A9?=", "été"),
        ("=?windows-1252?Q?=80_5?=", "€ 5"),
        ("=?iso-8859-15?q?=A4?=", "€"),
        ("=?US-ASCII*EN?Q?Keith_Moore?=", "Keith Moore"),
        ("=?x-unknown?Q?abc?= tail", "=?x-unknown?Q?abc?= tail"),
        ("=?utf-8?b?broken", "=?utf-8?b?broken"),
        ("=?utf-8?q?has space?=", "=?utf-8?q?has space?="),
        ("plain ascii", "plain ascii"),
        ("Grüße raw", "Grüße raw"),
    ])
    func encodedWords(input: String, expected: String) {
        #expect(EncodedWord.decode(input) == expected)
    }

    @Test func rawLatin1HeaderFallsBackToWindows1252() {
        #expect(EncodedWord.decode([0x63, 0x61, 0x66, 0xE9, 0x20, 0x80]) == "café €")
    }

    @Test func rfc2231ContinuationsAndCharset() {
        let ct = ContentType(headerValue: bytes(
            "application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20; title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2=\"isn't it!\""))
        #expect(ct?.parameters.count == 1)
        #expect(ct?.parameters.decodedValue("title") == "This is even more ***fun*** isn't it!")
        #expect(ct.map { text($0.parameters[0].name) } == "title*")
        #expect(ct.map { text($0.parameters[0].value) } == "us-ascii'en'This%20is%20even%20more%20%2A%2A%2Afun%2A%2A%2A%20isn%27t%20it!")
    }

    @Test func rfc2231PlainContinuationsAndOutOfOrderSegments() {
        let d = ContentDisposition(headerValue: bytes("attachment; filename*1=\"part two.txt\"; filename*0=\"part one \""))
        #expect(d?.filename == "part one part two.txt")
        #expect(d.map { text($0.parameters[0].name) } == "filename")
        let e = ContentDisposition(headerValue: bytes("attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf; filename=\"resume.pdf\""))
        #expect(e?.filename == "résumé.pdf")
        #expect(e?.parameters.count == 2)
    }

    @Test func parameterQuirks() {
        let ct = ContentType(headerValue: bytes(
            "Text/HTML ; charset = \"utf-8\" (comment); name==?UTF-8?B?w6k=?=.htm; boundary==_x; ;bad; format=flowed (x)"))
        #expect(ct.map { text($0.type) } == "Text")
        #expect(ct?.lowercasedSubtype == "html")
        #expect(ct?.charset == bytes("utf-8"))
        #expect(ct?.parameters.decodedValue("name") == "é.htm")
        #expect(ct?.parameters.rawValue("boundary") == bytes("=_x"))
        #expect(ct?.parameters.rawValue("format") == bytes("flowed"))
        #expect(ContentType(headerValue: bytes("text")) == nil)
        #expect(ContentType(headerValue: bytes("/plain")) == nil)
        #expect(ContentType(headerValue: bytes("")) == nil)
    }

    @Test func base64Lenient() {
        #expect(Base64.decode(bytes("SGVsbG8sIHdvcmxkIQ==")) == bytes("Hello, world!"))
        #expect(Base64.decode(bytes("SGVs\r\nbG8s IHdv*cmxk\nIQ")) == bytes("Hello, world!"))
        #expect(Base64.decode(bytes("SGk=SGk=")) == bytes("HiHi"))
        #expect(Base64.decode(bytes("!!!")) == [])
        var d = Base64.Decoder()
        var out: [UInt8] = []
        for chunk in ["SG", "Vsb", "G8", "=", "\r\n"] { d.feed(bytes(chunk), into: &out) }
        #expect(out == bytes("Hello"))
    }

    @Test func quotedPrintable() {
        #expect(QuotedPrintable.decode(bytes("Caf=E9 =c3=a9t=C3=A9")) == [0x43, 0x61, 0x66, 0xE9, 0x20, 0xC3, 0xA9, 0x74, 0xC3, 0xA9])
        #expect(QuotedPrintable.decode(bytes("soft=\r\nbreak and=\nlf")) == bytes("softbreak andlf"))
        #expect(QuotedPrintable.decode(bytes("trailing   \r\nspace\t\nx")) == bytes("trailing\r\nspace\nx"))
        #expect(QuotedPrintable.decode(bytes("bad =ZZ and =4")) == bytes("bad =ZZ and =4"))
        #expect(QuotedPrintable.decode(bytes("pad= \r\nok")) == bytes("padok"))
        #expect(QuotedPrintable.decode(bytes("end=")) == bytes("end"))
        // Chunked feeding gives the same result as one piece.
        let input = bytes("a=3D=\r\nb  \r\nc=4")
        var d = QuotedPrintable.Decoder()
        var out: [UInt8] = []
        for b in input { d.feed([b], into: &out) }
        d.finish(into: &out)
        #expect(out == QuotedPrintable.decode(input))
        #expect(out == bytes("a=b\r\nc=4"))
    }

    @Test func transferEncodingNamesAndDecodedSize() {
        #expect(TransferEncoding(headerValue: bytes(" Base64 ")) == .base64)
        #expect(TransferEncoding(headerValue: bytes("QUOTED-PRINTABLE")) == .quotedPrintable)
        #expect(TransferEncoding(headerValue: bytes("x-uuencode")) == .other(bytes("x-uuencode")))
        let body = bytes(String(repeating: "QUJD", count: 50_000))
        let size = body.withUnsafeBytes { TransferEncoding.base64.decodedSize($0) }
        #expect(size == 150_000)
        #expect(TransferEncoding.base64.decode(body).count == 150_000)
    }

    @Test(arguments: [
        ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)", Int64(837_595_405), -7 * 3600),
        ("17 Jul 96 02:23 PDT", Int64(837_595_380), -7 * 3600),
        ("Wed,17 Jul 1996 09:23:25 GMT", Int64(837_595_405), 0),
        ("Mon, 1 Jan 2024 10:00:00 +0000", Int64(1_704_103_200), 0),
        ("Mon,  1 Jan 2024 11:00:00+0100", Int64(1_704_103_200), 3600),
        ("Mon Jan  1 10:00:00 2024", Int64(1_704_103_200), 0),
        ("1 January 2024 10:00 Z", Int64(1_704_103_200), 0),
        ("Tue, 29 Feb 2000 23:59:59 -0000", Int64(951_868_799), 0),
        ("Thu, 01 Jan 1970 00:00:00 +0100", Int64(-3600), 3600),
        ("Wed, 17-Jul-1996 02:23:25 PDT", Int64(837_595_405), -7 * 3600),
    ])
    func dates(input: String, epoch: Int64, zone: Int) {
        let d = MessageDate.parse(input)
        #expect(d?.secondsSince1970 == epoch)
        #expect(d?.zoneOffsetSeconds == zone)
    }

    @Test(arguments: ["", "garbage", "32 Jan 2024 10:00:00 +0000", "1 Foo 2024 10:00", "1 Jan 2024", "1 Jan 2024 25:00:00",
                      "99999999999999999999 Jan 2024 10:00"])
    func invalidDates(input: String) {
        #expect(MessageDate.parse(input) == nil)
    }

    @Test func addressParsing() {
        let items = AddressParser.parse(bytes(
            "=?UTF-8?Q?J=C3=B6rg?= <joerg@example.de>, \"Last, First\" <f.l@x.org>, Team: a@b, c@d;, plain@host, <>, (Only Comment) z@q"))
        #expect(items.count == 6)
        guard items.count == 6 else { return }
        if case .mailbox(let m) = items[0] {
            #expect(m.decodedDisplayName == "Jörg")
            #expect(m.displayName == bytes("=?UTF-8?Q?J=C3=B6rg?="))
            #expect(m.address == "joerg@example.de")
        } else { Issue.record("item 0") }
        if case .mailbox(let m) = items[1] { #expect(m.decodedDisplayName == "Last, First") } else { Issue.record("item 1") }
        if case .group(let name, let members) = items[2] {
            #expect(name == bytes("Team"))
            #expect(members.map(\.address) == ["a@b", "c@d"])
        } else { Issue.record("item 2") }
        if case .mailbox(let m) = items[3] { #expect(m.address == "plain@host") } else { Issue.record("item 3") }
        if case .mailbox(let m) = items[4] { #expect(m.localPart == nil && m.domain == nil) } else { Issue.record("item 4") }
        if case .mailbox(let m) = items[5] {
            #expect(m.displayName == bytes("Only Comment"))
            #expect(m.address == "z@q")
        } else { Issue.record("item 5") }
    }

    @Test func addressParsingIsLenient() {
        #expect(AddressParser.parse(bytes("")).isEmpty)
        #expect(AddressParser.parse(bytes(",,, ,")).isEmpty)
        let unterminated = AddressParser.parse(bytes("Name <user@example.com"))
        #expect(unterminated.first?.mailboxes.first?.address == "user@example.com")
        let group = AddressParser.parse(bytes("Unclosed: a@b"))
        #expect(group == [.group(name: bytes("Unclosed"), members: [MailAddress(localPart: bytes("a"), domain: bytes("b"))])])
        let literal = AddressParser.parse(bytes("x@[192.0.2.1]"))
        #expect(literal.first?.mailboxes.first?.domain == bytes("[192.0.2.1]"))
        let dotted = AddressParser.parse(bytes("John Q. Public <jqp@example.com>"))
        #expect(dotted.first?.mailboxes.first?.displayName == bytes("John Q. Public"))
    }

    @Test func headerLookupDecodesAndUnfolds() {
        let raw = crlf("""
        Subject: =?UTF-8?B?w6lsw6h2ZQ==?=
         =?UTF-8?Q?_r=C3=A9sum=C3=A9?=
        X-Dup: first
        x-dup: second
        Date: Mon, 1 Jan 2024 10:00:00 +0000

        body
        """)
        raw.withUnsafeBytes { buf in
            let h = HeaderBlock.parse(buf, in: 0..<buf.count)
            #expect(h.decodedValue("subject", in: buf) == "élève résumé")
            #expect(h.rawValue("SUBJECT", in: buf) == bytes("=?UTF-8?B?w6lsw6h2ZQ==?= =?UTF-8?Q?_r=C3=A9sum=C3=A9?="))
            #expect(h.all("X-Dup", in: buf).map { $0.unfoldedValue(in: buf) } == [bytes("first"), bytes("second")])
            #expect(h.date(in: buf)?.secondsSince1970 == 1_704_103_200)
            #expect(h.hasBlankLine)
            #expect(h.fields.count == 4)
        }
    }

    @Test func headerLeniency() {
        // mbox From line skipped; "Name :" obsolete syntax; a non-header line starts the body.
        let raw = bytes("From someone Mon Jan  1 00:00:00 2024\nSubject : ok\nX-A: 1\nthis is body\nmore\n")
        raw.withUnsafeBytes { buf in
            let h = HeaderBlock.parse(buf, in: 0..<buf.count)
            #expect(h.fields.count == 2)
            #expect(h.decodedValue("subject", in: buf) == "ok")
            #expect(!h.hasBlankLine)
            #expect(text(Array(raw[h.bodyStart...])) == "this is body\nmore\n")
        }
        let headerOnly = bytes("Subject: no body")
        let m = MessageParser.parse(headerOnly)
        #expect(m.root.bodyRange.isEmpty)
        #expect(sectionText(m, headerOnly, [], .header) == "Subject: no body")
        #expect(sectionText(m, headerOnly, [], .headerFields([bytes("subject")])) == "Subject: no body\r\n\r\n")
        let noHeader = bytes("\r\njust a body")
        let n = MessageParser.parse(noHeader)
        #expect(sectionText(n, noHeader, [], .text) == "just a body")
        #expect(sectionText(n, noHeader, [], .header) == "\r\n")
    }

    @Test func searchableTextDecodesAndStripsHTML() {
        let raw = crlf("""
        Subject: s
        Content-Type: multipart/mixed; boundary=b

        --b
        Content-Type: multipart/alternative; boundary=a

        --a
        Content-Type: text/plain; charset=iso-8859-1
        Content-Transfer-Encoding: quoted-printable

        Caf=E9 cr=E8me
        --a
        Content-Type: text/html; charset=utf-8
        Content-Transfer-Encoding: base64

        PGh0bWw+PGhlYWQ+PHN0eWxlPnB7fTwvc3R5bGU+PC9oZWFkPjxib2R5PjxwPkjDqWxsbyAmYW1wOyBieWU8L3A+PC9ib2R5PjwvaHRtbD4=
        --a--
        --b
        Content-Type: image/png
        Content-Transfer-Encoding: base64

        iVBORw0KGgo=
        --b
        Content-Type: message/rfc822

        Subject: inner
        Content-Type: text/plain; charset=windows-1252
        Content-Transfer-Encoding: quoted-printable

        =80 price
        --b--
        """)
        let parts = MessageParser.parse(raw).searchableText(in: raw)
        #expect(parts.map(\.partNumber) == [[1, 1], [1, 2], [3, 1]])
        #expect(parts.map(\.text) == ["Café crème", " Héllo & bye ", "€ price"])
        #expect(parts.map(\.subtype) == ["plain", "html", "plain"])
    }

    @Test func binarySourceDecodesPart() {
        let raw = IMAPRenderingTests.mixedWithAttachment
        let m = MessageParser.parse(raw)
        guard let (range, enc) = m.binarySource([2]) else {
            Issue.record("no part 2")
            return
        }
        #expect(enc == .base64)
        #expect(enc.decode(raw[range]) == bytes("%PDF-1.4\n"))
        #expect(m.binarySource([1])?.encoding == .quotedPrintable)
        #expect(m.binarySource([9]) == nil)
    }
}

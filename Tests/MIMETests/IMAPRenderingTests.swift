import Testing
@testable import MIME

/// ENVELOPE / BODYSTRUCTURE / BODY bytes compared exactly with hand-checked expectations.
@Suite struct IMAPRenderingTests {
    /// The message of RFC 9051 §7.5.2's ENVELOPE example (header only changed to CRLF).
    static let rfcExample = crlf("""
    Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)
    From: Terry Gray <gray@cac.washington.edu>
    Subject: IMAP4rev2 WG mtg summary and minutes
    To: imap@cac.washington.edu
    cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>
    Message-Id: <B27397-0100000@cac.washington.edu>
    MIME-Version: 1.0
    Content-Type: TEXT/PLAIN; CHARSET=US-ASCII

    Hello
    World

    """)

    @Test func rfc9051EnvelopeExample() {
        #expect(envelopeString(Self.rfcExample) == """
        ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev2 WG mtg summary and minutes" \
        (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) \
        (("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) \
        ((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL \
        "<B27397-0100000@cac.washington.edu>")
        """)
    }

    @Test func simpleTextBodyStructure() {
        // Body "Hello\r\nWorld\r\n": 14 octets, 2 lines.
        #expect(bodyStructureString(Self.rfcExample)
                == #"("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7bit" 14 2 NIL NIL NIL NIL)"#)
        #expect(bodyString(Self.rfcExample) == #"("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7bit" 14 2)"#)
    }

    /// Dovecot's own BODYSTRUCTURE test message (src/lib-imap/test-imap-bodystructure.c), stored
    /// with CRLF line ends: Dovecot reports CRLF ("virtual") sizes, so the expectations are its
    /// strings verbatim. Covers folded quoted boundary, RFC 2045 quoted-pair params, Content-ID,
    /// MD5, disposition, language list, location, message/rfc822 with nested alternative, and an
    /// invalid Content-Transfer-Encoding reported as 7bit.
    static let dovecotMessage = crlf("""
    From: user@domain.org
    Date: Sat, 24 Mar 2007 23:00:00 +0200
    Mime-Version: 1.0
    Content-Type: multipart/mixed; boundary="foo
     bar"

    Root MIME prologue

    --foo bar
    Content-Type: text/x-myown; charset=us-ascii; foo="quoted\\"string"
    Content-ID: <foo@example.com>
    Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
    Content-Disposition: inline; foo=bar
    Content-Description: hellodescription
    Content-Language: en, fi, se
    Content-Location: http://example.com/test.txt

    hello

    --foo bar
    Content-Type: message/rfc822

    From: sub@domain.org
    To: sub-to1@domain.org, sub-to2@domain.org
    Date: Sun, 12 Aug 2012 12:34:56 +0300
    Subject: submsg
    Content-Type: multipart/alternative; boundary="sub1"

    Sub MIME prologue
    --sub1
    Content-Type: text/html
    Content-Transfer-Encoding: 8bit

    <p>Hello world</p>

    --sub1
    Content-Type: text/plain
    Content-Transfer-Encoding: ?invalid

    Hello another world

    --sub1--
    Sub MIME epilogue

    --foo bar--
    Root MIME epilogue

    """)

    @Test func dovecotBodyStructureVector() {
        let expected = #"""
        (("text" "x-myown" ("charset" "us-ascii" "foo" "quoted\"string") "<foo@example.com>" "hellodescription" "7bit" 7 1 "Q2hlY2sgSW50ZWdyaXR5IQ==" ("inline" ("foo" "bar")) ("en" "fi" "se") "http://example.com/test.txt")("message" "rfc822" NIL NIL NIL "7bit" 412 ("Sun, 12 Aug 2012 12:34:56 +0300" "submsg" ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub-to1" "domain.org")(NIL NIL "sub-to2" "domain.org")) NIL NIL NIL NIL) (("text" "html" ("charset" "us-ascii") NIL NIL "8bit" 20 1 NIL NIL NIL NIL)("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 21 1 NIL NIL NIL NIL) "alternative" ("boundary" "sub1") NIL NIL NIL) 21 NIL NIL NIL NIL) "mixed" ("boundary" "foo bar") NIL NIL NIL)
        """#
        #expect(bodyStructureString(Self.dovecotMessage) == expected)
    }

    @Test func dovecotBodyVector() {
        let expected = #"""
        (("text" "x-myown" ("charset" "us-ascii" "foo" "quoted\"string") "<foo@example.com>" "hellodescription" "7bit" 7 1)("message" "rfc822" NIL NIL NIL "7bit" 412 ("Sun, 12 Aug 2012 12:34:56 +0300" "submsg" ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub-to1" "domain.org")(NIL NIL "sub-to2" "domain.org")) NIL NIL NIL NIL) (("text" "html" ("charset" "us-ascii") NIL NIL "8bit" 20 1)("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 21 1) "alternative") 21) "mixed")
        """#
        #expect(bodyString(Self.dovecotMessage) == expected)
    }

    static let mixedWithAttachment = crlf("""
    From: "Doe, John" <john@example.com>
    To: undisclosed-recipients:;
    Subject: =?UTF-8?B?w6lsw6h2ZQ==?= report
    Date: Tue, 2 Jan 2024 10:00:00 +0100
    Message-ID: <m1@example.com>
    MIME-Version: 1.0
    Content-Type: multipart/mixed; boundary="==B=="

    --==B==
    Content-Type: text/plain; charset="iso-8859-1"
    Content-Transfer-Encoding: quoted-printable

    Caf=E9 ok
    --==B==
    Content-Type: application/pdf; name="r.pdf"
    Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf
    Content-Transfer-Encoding: base64

    JVBERi0xLjQK
    --==B==--

    """)

    @Test func mixedWithAttachmentEnvelopeHasGroupAndRawEncodedWords() {
        #expect(envelopeString(Self.mixedWithAttachment) == """
        ("Tue, 2 Jan 2024 10:00:00 +0100" "=?UTF-8?B?w6lsw6h2ZQ==?= report" \
        (("Doe, John" NIL "john" "example.com")) (("Doe, John" NIL "john" "example.com")) \
        (("Doe, John" NIL "john" "example.com")) ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) \
        NIL NIL NIL "<m1@example.com>")
        """)
    }

    @Test func mixedWithAttachmentBodyStructure() {
        #expect(bodyStructureString(Self.mixedWithAttachment) == #"""
        (("text" "plain" ("charset" "iso-8859-1") NIL NIL "quoted-printable" 9 0 NIL NIL NIL NIL)\#
        ("application" "pdf" ("name" "r.pdf") NIL NIL "base64" 12 NIL ("attachment" ("filename*" "UTF-8''r%C3%A9sum%C3%A9.pdf")) NIL NIL) \#
        "mixed" ("boundary" "==B==") NIL NIL NIL)
        """#)
    }

    @Test func groupsWithMembersAndEmptyGroups() {
        let raw = crlf("""
        From: a@example.com
        To: Team: Ann <ann@example.com>, bob@example.com;, carol@example.com
        Cc: undisclosed-recipients:;

        x
        """)
        #expect(envelopeString(raw) == """
        (NIL NIL ((NIL NIL "a" "example.com")) ((NIL NIL "a" "example.com")) ((NIL NIL "a" "example.com")) \
        ((NIL NIL "Team" NIL)("Ann" NIL "ann" "example.com")(NIL NIL "bob" "example.com")(NIL NIL NIL NIL)\
        (NIL NIL "carol" "example.com")) ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) NIL NIL NIL)
        """)
    }

    @Test func senderAndReplyToAreTheirOwnWhenPresent() {
        let raw = crlf("""
        From: a@example.com
        Sender: s@example.com
        Reply-To:
        In-Reply-To: <p@x>

        x
        """)
        // Empty Reply-To defaults to From (RFC 9051 §7.5.2).
        #expect(envelopeString(raw) == """
        (NIL NIL ((NIL NIL "a" "example.com")) ((NIL NIL "s" "example.com")) ((NIL NIL "a" "example.com")) \
        NIL NIL NIL "<p@x>" NIL)
        """)
    }

    @Test func routeQuotedLocalPartCommentNameAndMissingDomain() {
        let raw = crlf("""
        From: <@relay1,@relay2:joe@example.com>
        To: "john q"@example.com (John Q), Mary.Smith@example.com (Mary)
        Cc: localonly
        Bcc: Name With "Quoted \\" Part" <x@y>

        """)
        #expect(envelopeString(raw) == #"""
        (NIL NIL ((NIL "@relay1,@relay2" "joe" "example.com")) ((NIL "@relay1,@relay2" "joe" "example.com")) \#
        ((NIL "@relay1,@relay2" "joe" "example.com")) \#
        (("John Q" NIL "\"john q\"" "example.com")("Mary" NIL "Mary.Smith" "example.com")) \#
        ((NIL NIL "localonly" "MISSING_DOMAIN")) (("Name With Quoted \" Part" NIL "x" "y")) NIL NIL)
        """#)
    }

    @Test func eightBitHeadersUseLiteralsUnlessUTF8Accept() {
        let raw = crlf("""
        From: Jörg <j@example.de>
        Subject: Grüße

        x
        """)
        #expect(envelopeString(raw) == "(NIL {7}\r\nGrüße (({5}\r\nJörg NIL \"j\" \"example.de\")) "
            + "(({5}\r\nJörg NIL \"j\" \"example.de\")) (({5}\r\nJörg NIL \"j\" \"example.de\")) NIL NIL NIL NIL NIL)")
        #expect(envelopeString(raw, utf8: true) == """
        (NIL "Grüße" (("Jörg" NIL "j" "example.de")) (("Jörg" NIL "j" "example.de")) \
        (("Jörg" NIL "j" "example.de")) NIL NIL NIL NIL NIL)
        """)
        let cache = IMAPMessageCache(parsing: raw)
        #expect(cache.envelopeUTF8 != nil)
        #expect(cache.bodyStructureUTF8 == nil) // no 8-bit in MIME fields
    }

    @Test func invalidUTF8StaysLiteralEvenInUTF8Mode() {
        var raw = bytes("Subject: caf")
        raw.append(0xE9)
        raw += bytes("\r\n\r\nx")
        let s = envelopeString(raw, utf8: true)
        #expect(s.hasPrefix("(NIL {4}\r\n"))
    }

    @Test func nulAndQuotesInStrings() {
        var raw = bytes("Subject: a\u{0}b \"q\" \\\r\n\r\n")
        raw += bytes("x")
        // NUL forces a literal and becomes a space; quotes need no escaping inside a literal.
        #expect(envelopeString(raw) == "(NIL {9}\r\na b \"q\" \\ NIL NIL NIL NIL NIL NIL NIL NIL)")
        let quoted = crlf("Subject: say \"hi\" \\o/\n\nx")
        #expect(envelopeString(quoted) == #"(NIL "say \"hi\" \\o/" NIL NIL NIL NIL NIL NIL NIL NIL)"#)
    }

    @Test func emptyMessageRendersDefaults() {
        #expect(envelopeString([]) == "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)")
        #expect(bodyStructureString([]) == #"("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)"#)
    }

    @Test func multipartWithoutBoundaryKeepsContentAsPartOne() {
        let raw = crlf("""
        Content-Type: multipart/mixed

        just text
        """)
        #expect(bodyStructureString(raw)
                == #"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 9 0 NIL NIL NIL NIL) "mixed" NIL NIL NIL NIL)"#)
    }

    @Test func digestDefaultsToMessageRFC822() {
        let raw = crlf("""
        Content-Type: multipart/digest; boundary=d

        --d

        Subject: one

        body one
        --d--
        """)
        let s = bodyStructureString(raw)
        #expect(s == #"""
        (("message" "rfc822" NIL NIL NIL "7bit" 24 (NIL "one" NIL NIL NIL NIL NIL NIL NIL NIL) \#
        ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 8 0 NIL NIL NIL NIL) 2 NIL NIL NIL NIL) \#
        "digest" ("boundary" "d") NIL NIL NIL)
        """#)
    }

    @Test func base64MessageRFC822IsOpaque() {
        let raw = crlf("""
        Content-Type: multipart/mixed; boundary=b

        --b
        Content-Type: message/rfc822
        Content-Transfer-Encoding: base64

        U3ViamVjdDogeA0KDQp5
        --b--
        """)
        #expect(bodyStructureString(raw) == #"""
        (("application" "octet-stream" NIL NIL NIL "base64" 20 NIL NIL NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL)
        """#)
    }

    @Test func messageGlobalIsEncapsulated() {
        let raw = crlf("""
        Content-Type: message/global

        Subject: inner

        hi
        """)
        let s = bodyStructureString(raw, utf8: true)
        #expect(s == #"""
        ("message" "global" NIL NIL NIL "7bit" 20 (NIL "inner" NIL NIL NIL NIL NIL NIL NIL NIL) \#
        ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 2 0 NIL NIL NIL NIL) 2 NIL NIL NIL NIL)
        """#)
    }

    @Test func singleLanguageIsAStringAndEightBitFilenameIsLiteral() {
        var raw = crlf("""
        Content-Type: text/plain; charset=utf-8
        Content-Language: de
        Content-Disposition: attachment; filename="
        """)
        raw += Array("ä.txt".utf8)
        raw += crlf("\"\n\nx\n")
        #expect(bodyStructureString(raw) == """
        ("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 3 1 NIL ("attachment" ("filename" {6}\r\nä.txt)) "de" NIL)
        """)
        #expect(bodyStructureString(raw, utf8: true) == """
        ("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 3 1 NIL ("attachment" ("filename" "ä.txt")) "de" NIL)
        """)
    }
}

/// Dovecot's ENVELOPE vectors (src/lib-imap/test-imap-envelope.c, from imaptest), with CRLF line
/// ends; Dovecot writes them without the outer parentheses.
@Suite struct DovecotEnvelopeVectors {
    @Test(arguments: [
        ("""
        Message-ID: <msg@id>
        In-Reply-To: <reply@to.id>
        Date: Thu, 15 Feb 2007 01:02:03 +0200
        Subject: subject header
        From: From Real <fromuser@fromdomain.org>
        To: To Real <touser@todomain.org>
        Cc: Cc Real <ccuser@ccdomain.org>
        Bcc: Bcc Real <bccuser@bccdomain.org>
        Sender: Sender Real <senderuser@senderdomain.org>
        Reply-To: ReplyTo Real <replytouser@replytodomain.org>

        body

        """,
         #""Thu, 15 Feb 2007 01:02:03 +0200" "subject header" (("From Real" NIL "fromuser" "fromdomain.org")) (("Sender Real" NIL "senderuser" "senderdomain.org")) (("ReplyTo Real" NIL "replytouser" "replytodomain.org")) (("To Real" NIL "touser" "todomain.org")) (("Cc Real" NIL "ccuser" "ccdomain.org")) (("Bcc Real" NIL "bccuser" "bccdomain.org")) "<reply@to.id>" "<msg@id>""#),
        ("""
        Date: Thu, 15 Feb 2007 01:02:03 +0200
        From: user@domain

        body

        """,
         #""Thu, 15 Feb 2007 01:02:03 +0200" NIL ((NIL NIL "user" "domain")) ((NIL NIL "user" "domain")) ((NIL NIL "user" "domain")) NIL NIL NIL NIL NIL"#),
        ("""
        Date: Thu, 15 Feb 2007 01:02:03 +0200
        From: user@domain (Real Name)
        To: group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;
        Cc: group:;, group2: (foo) ;

        body

        """,
         #""Thu, 15 Feb 2007 01:02:03 +0200" NIL (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) ((NIL NIL "group" NIL)(NIL NIL "g1" "d1.org")(NIL NIL "g2" "d2.org")(NIL NIL NIL NIL)(NIL NIL "group2" NIL)(NIL NIL "g3" "d3.org")(NIL NIL NIL NIL)) ((NIL NIL "group" NIL)(NIL NIL NIL NIL)(NIL NIL "group2" NIL)(NIL NIL NIL NIL)) NIL NIL NIL"#),
        ("""
        Date: Thu, 15 Feb 2007 01:02:03 +0200
        From: user@domain (Real Name)
        Sender: 
        Reply-To: 

        body

        """,
         #""Thu, 15 Feb 2007 01:02:03 +0200" NIL (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) NIL NIL NIL NIL NIL"#),
        ("""
        Date: Thu, 15 Feb 2007 01:02:03 +0200
        From: <@route:user@domain>

        body

        """,
         #""Thu, 15 Feb 2007 01:02:03 +0200" NIL ((NIL "@route" "user" "domain")) ((NIL "@route" "user" "domain")) ((NIL "@route" "user" "domain")) NIL NIL NIL NIL NIL"#),
    ])
    func vector(message: String, envelope: String) {
        #expect(envelopeString(crlf(message)) == "(" + envelope + ")")
    }
}

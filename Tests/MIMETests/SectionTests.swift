import Foundation
import Testing
@testable import MIME

/// Part numbering and section ranges (RFC 9051 §6.4.5).
@Suite struct SectionTests {
    /// The part tree of RFC 9051 §6.4.5's example, each leaf body naming its own part number.
    static let rfcTree = crlf("""
    Subject: top
    Content-Type: MULTIPART/MIXED; boundary=o

    --o
    Content-Type: TEXT/PLAIN

    body-1
    --o
    Content-Type: APPLICATION/OCTET-STREAM

    body-2
    --o
    Content-Type: MESSAGE/RFC822

    Subject: three
    Content-Type: MULTIPART/MIXED; boundary=t

    --t
    Content-Type: TEXT/PLAIN

    body-3.1
    --t
    Content-Type: APPLICATION/OCTET-STREAM

    body-3.2
    --t--
    --o
    Content-Type: MULTIPART/MIXED; boundary=f

    --f
    Content-Type: IMAGE/GIF

    body-4.1
    --f
    Content-Type: MESSAGE/RFC822

    Subject: four-two
    Content-Type: MULTIPART/MIXED; boundary=g

    --g
    Content-Type: TEXT/PLAIN

    body-4.2.1
    --g
    Content-Type: MULTIPART/ALTERNATIVE; boundary=h

    --h
    Content-Type: TEXT/PLAIN

    body-4.2.2.1
    --h
    Content-Type: TEXT/RICHTEXT

    body-4.2.2.2
    --h--
    --g--
    --f--
    --o--
    """)

    @Test func rfcExampleNumbering() {
        let raw = Self.rfcTree
        let m = MessageParser.parse(raw)
        for n in ["1", "2", "3.1", "3.2", "4.1", "4.2.1", "4.2.2.1", "4.2.2.2"] {
            let path = n.split(separator: ".").compactMap { Int($0) }
            #expect(sectionText(m, raw, path) == "body-\(n)")
        }
        #expect(m.leaves().map { $0.number } == [[1], [2], [3, 1], [3, 2], [4, 1], [4, 2, 1], [4, 2, 2, 1], [4, 2, 2, 2]])
        #expect(sectionText(m, raw, [3], .header) == "Subject: three\r\nContent-Type: MULTIPART/MIXED; boundary=t\r\n\r\n")
        #expect(sectionText(m, raw, [4, 2], .headerFields([bytes("subject")])) == "Subject: four-two\r\n\r\n")
        #expect(sectionText(m, raw, [4, 1], .mime) == "Content-Type: IMAGE/GIF\r\n\r\n")
        #expect(sectionText(m, raw, [4, 2], .mime) == "Content-Type: MESSAGE/RFC822\r\n\r\n")
        #expect(sectionText(m, raw, [3, 1], .mime) == "Content-Type: TEXT/PLAIN\r\n\r\n")
        #expect(sectionText(m, raw, [3], .text)?.hasPrefix("--t\r\nContent-Type: TEXT/PLAIN") == true)
        #expect(sectionText(m, raw, [3], .text)?.hasSuffix("body-3.2\r\n--t--") == true)
        // BODY[3] of a message/rfc822 part is the whole encapsulated message.
        #expect(sectionText(m, raw, [3])?.hasPrefix("Subject: three\r\n") == true)
        // 4.2.2 is a multipart: its body is the raw multipart content.
        #expect(sectionText(m, raw, [4, 2, 2])?.hasPrefix("--h\r\n") == true)
        // Nonexistent parts.
        #expect(sectionText(m, raw, [5]) == nil)
        #expect(sectionText(m, raw, [1, 1]) == nil)
        #expect(sectionText(m, raw, [0]) == nil)
        #expect(sectionText(m, raw, [4, 3]) == nil)
        // HEADER / TEXT of a part that is not message/rfc822: empty string.
        #expect(sectionText(m, raw, [1], .header) == "")
        #expect(sectionText(m, raw, [4], .text) == "")
        // MIME without a part number is not a section.
        #expect(sectionText(m, raw, [], .mime) == nil)
    }

    @Test func wholeMessageHeaderTextAndFieldSubsets() {
        let raw = IMAPRenderingTests.mixedWithAttachment
        let m = MessageParser.parse(raw)
        #expect(sectionText(m, raw, []) == text(raw))
        let header = sectionText(m, raw, [], .header) ?? ""
        #expect(header.hasPrefix("From: \"Doe, John\""))
        #expect(header.hasSuffix("boundary=\"==B==\"\r\n\r\n"))
        #expect((sectionText(m, raw, [], .text) ?? "") + "" == text(Array(raw[header.utf8.count...])))
        #expect(sectionText(m, raw, [], .headerFields([bytes("SUBJECT"), bytes("from"), bytes("X-None")]))
                == "From: \"Doe, John\" <john@example.com>\r\nSubject: =?UTF-8?B?w6lsw6h2ZQ==?= report\r\n\r\n")
        let not = sectionText(m, raw, [], .headerFieldsNot([bytes("Subject"), bytes("From"), bytes("To"),
                                                            bytes("Date"), bytes("Content-Type")]))
        #expect(not == "Message-ID: <m1@example.com>\r\nMIME-Version: 1.0\r\n\r\n")
        #expect(sectionText(m, raw, [], .headerFields([bytes("X-None")])) == "\r\n")
        #expect(sectionText(m, raw, [1]) == "Caf=E9 ok")
        #expect(sectionText(m, raw, [2, 3]) == nil)
    }

    @Test func nonMultipartTopLevelHasOnlyPartOne() {
        let raw = IMAPRenderingTests.rfcExample
        let m = MessageParser.parse(raw)
        #expect(sectionText(m, raw, [1]) == "Hello\r\nWorld\r\n")
        #expect(sectionText(m, raw, [], .text) == "Hello\r\nWorld\r\n")
        // 1.MIME of a single-part message is its header.
        #expect(sectionText(m, raw, [1], .mime) == sectionText(m, raw, [], .header))
        #expect(sectionText(m, raw, [2]) == nil)
        #expect(sectionText(m, raw, [1, 1]) == nil)
        #expect(m.leaves().map { $0.number } == [[1]])
    }

    @Test func topLevelMessageRFC822() {
        let raw = crlf("""
        Subject: outer
        Content-Type: message/rfc822

        Subject: inner

        inner body
        """)
        let m = MessageParser.parse(raw)
        #expect(sectionText(m, raw, [1]) == "Subject: inner\r\n\r\ninner body")
        #expect(sectionText(m, raw, [1], .header) == "Subject: inner\r\n\r\n")
        #expect(sectionText(m, raw, [1], .text) == "inner body")
        #expect(sectionText(m, raw, [1, 1]) == "inner body")
        #expect(sectionText(m, raw, [1, 1], .mime) == "Subject: inner\r\n\r\n")
        #expect(m.leaves().map { $0.number } == [[1, 1]])
    }

    @Test func forwardedMessageAsAttachment() {
        let raw = crlf("""
        From: fwd@example.com
        Subject: Fwd: hi
        Content-Type: multipart/mixed; boundary="outer"

        --outer
        Content-Type: text/plain

        see below
        --outer
        Content-Type: message/rfc822
        Content-Disposition: inline

        From: orig@example.com
        Subject: hi
        Content-Type: text/plain; charset=utf-8

        original
        text
        --outer--
        """)
        let m = MessageParser.parse(raw)
        #expect(sectionText(m, raw, [2], .header) == "From: orig@example.com\r\nSubject: hi\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
        #expect(sectionText(m, raw, [2], .text) == "original\r\ntext")
        #expect(sectionText(m, raw, [2, 1]) == "original\r\ntext")
        #expect(sectionText(m, raw, [2], .mime) == "Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n")
        #expect(bodyStructureString(raw) == #"""
        (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 9 0 NIL NIL NIL NIL)\#
        ("message" "rfc822" NIL NIL NIL "7bit" 94 (NIL "hi" ((NIL NIL "orig" "example.com")) \#
        ((NIL NIL "orig" "example.com")) ((NIL NIL "orig" "example.com")) NIL NIL NIL NIL NIL) \#
        ("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 14 1 NIL NIL NIL NIL) 5 NIL ("inline" NIL) NIL NIL) \#
        "mixed" ("boundary" "outer") NIL NIL NIL)
        """#)
    }

    @Test func partialFetchSlicesAcrossPieces() {
        let raw = IMAPRenderingTests.mixedWithAttachment
        let m = MessageParser.parse(raw)
        guard let s = m.section(Section(part: [], text: .headerFields([bytes("Message-ID"), bytes("MIME-Version")])), in: raw) else {
            Issue.record("missing section")
            return
        }
        let full = s.bytes(in: raw)
        #expect(s.count == full.count)
        for origin in 0...(full.count + 2) {
            for length in [0, 1, 3, 17, 1000] {
                let part = s.slice(origin: origin, length: length).bytes(in: raw)
                let lo = min(origin, full.count)
                let hi = min(lo + length, full.count)
                #expect(part == Array(full[lo..<hi]))
            }
        }
        #expect(s.slice(origin: 5, length: Int.max).count == full.count - 5)
        #expect(s.slice(origin: 0, length: nil).bytes(in: raw) == full)
        #expect(m.section(Section(part: [1]), in: raw)?.contiguousRange != nil)
    }

    @Test func preambleEpilogueAndDelimiterRules() {
        let raw = crlf("""
        Content-Type: multipart/mixed; boundary="b"

        preamble line
        --b 
        Content-Type: text/plain

        first
        --bb
        still first
        --b--\t
        epilogue
        """)
        let m = MessageParser.parse(raw)
        guard case .multipart(let parts, let pre, let epi, let closed) = m.root.content else {
            Issue.record("not multipart")
            return
        }
        #expect(parts.count == 1)
        #expect(closed)
        #expect(text(Array(raw[pre])) == "preamble line")
        #expect(text(Array(raw[epi])) == "epilogue")
        // "--bb" is not our delimiter; transport padding after "--b" and "--b--" is.
        #expect(sectionText(m, raw, [1]) == "first\r\n--bb\r\nstill first")
    }

    @Test func bareLFMessagesParse() {
        let raw = bytes("Subject: lf\nContent-Type: multipart/mixed; boundary=z\n\n--z\nContent-Type: text/plain\n\none\n--z\n\ntwo\n--z--\n")
        let m = MessageParser.parse(raw)
        #expect(m.root.parts.count == 2)
        #expect(sectionText(m, raw, [1]) == "one")
        #expect(sectionText(m, raw, [2]) == "two")
        #expect(sectionText(m, raw, [2], .mime) == "\n")
    }

    @Test func cachedTreeRoundTripsThroughCodable() throws {
        // The store caches the parse at delivery; it must survive serialisation unchanged.
        let cache = IMAPMessageCache(parsing: Self.rfcTree)
        let data = try JSONEncoder().encode(cache)
        let back = try JSONDecoder().decode(IMAPMessageCache.self, from: data)
        #expect(back == cache)
        #expect(cache.message.partCount == 15)
        #expect(!cache.message.limitsHit)
        #expect(sectionText(back.message, Self.rfcTree, [4, 2, 2, 2]) == "body-4.2.2.2")
    }
}

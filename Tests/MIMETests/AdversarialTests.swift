import Testing
@testable import MIME

/// Hostile and broken input: never a crash, bounded structure, bounded time.
@Suite struct AdversarialTests {
    /// Generous wall-clock bound (debug builds on a busy 2-core machine).
    static let timeLimit = Duration.seconds(20)

    func timed(_ body: () -> Void) -> Duration {
        let clock = ContinuousClock()
        return clock.measure(body)
    }

    @Test func tenThousandDeepMultipartNesting() {
        var raw: [UInt8] = []
        let depth = 10_000
        for i in 0..<depth {
            raw += bytes("Content-Type: multipart/mixed; boundary=b\(i)\r\n\r\n--b\(i)\r\n")
        }
        raw += bytes("Content-Type: text/plain\r\n\r\ndeepest\r\n")
        for i in stride(from: depth - 1, through: 0, by: -1) { raw += bytes("--b\(i)--\r\n") }
        var m: MIMEMessage? = nil
        let t = timed {
            m = MessageParser.parse(raw)
            renderEverything(raw)
        }
        #expect(t < Self.timeLimit)
        guard let m else { return }
        #expect(m.limitsHit)
        var d = 0
        var p = m.root
        while let c = p.parts.first { p = c; d += 1 }
        #expect(d == MIMELimits.default.maxDepth)
        #expect(p.isOpaque)
        let bs = text(IMAPMessageCache(parsing: raw).bodyStructure)
        #expect(bs.contains("\"application\" \"octet-stream\""))
    }

    @Test func tenThousandDeepMessageNesting() {
        let raw = Array(repeating: bytes("Content-Type: message/rfc822\r\n\r\n"), count: 10_000).flatMap { $0 } + bytes("end")
        let t = timed { renderEverything(raw) }
        #expect(t < Self.timeLimit)
        let m = MessageParser.parse(raw)
        #expect(m.limitsHit)
        #expect(m.partCount <= MIMELimits.default.maxDepth + 1)
    }

    @Test func partCountIsCapped() {
        var raw = bytes("Content-Type: multipart/mixed; boundary=x\r\n\r\n")
        for _ in 0..<25_000 { raw += bytes("--x\r\n\r\na\r\n") }
        raw += bytes("--x--\r\n")
        var m: MIMEMessage? = nil
        let t = timed { m = MessageParser.parse(raw) }
        #expect(t < Self.timeLimit)
        #expect(m?.limitsHit == true)
        #expect((m?.partCount ?? .max) <= MIMELimits.default.maxParts)
        #expect((m?.root.parts.count ?? 0) > 9_000)
    }

    @Test func boundaryThatNeverEnds() {
        var raw = bytes("Content-Type: multipart/mixed; boundary=never\r\n\r\n--never\r\nContent-Type: text/plain\r\n\r\n")
        raw += Array(repeating: UInt8(ascii: "a"), count: 1 << 20)
        let m = MessageParser.parse(raw)
        guard case .multipart(let parts, _, let epilogue, let closed) = m.root.content else {
            Issue.record("not multipart")
            return
        }
        #expect(!closed)
        #expect(epilogue.isEmpty)
        #expect(parts.count == 1)
        #expect(parts.first?.bodyRange.count == 1 << 20)
        #expect(sectionText(m, raw, [1])?.utf8.count == 1 << 20)
    }

    @Test func duplicateAndEmptyBoundaries() {
        let raw = crlf("""
        Content-Type: multipart/mixed; boundary=d; boundary=other

        --d
        --d

        x
        --d--
        --d--
        """)
        let m = MessageParser.parse(raw)
        #expect(m.root.parts.count == 2)
        #expect(sectionText(m, raw, [1]) == "")
        #expect(sectionText(m, raw, [2]) == "x")
        renderEverything(raw)
    }

    @Test func oneMegabyteHeaderLine() {
        var raw = bytes("Subject: ")
        raw += Array(repeating: UInt8(ascii: "s"), count: 1 << 20)
        raw += bytes("\r\nContent-Type: text/plain; name=")
        raw += Array(repeating: UInt8(ascii: "n"), count: 1 << 20)
        raw += bytes("\r\nTo: ")
        raw += Array(repeating: bytes("a@b, "), count: 100_000).flatMap { $0 }
        raw += bytes("\r\n\r\nbody")
        let t = timed { renderEverything(raw) }
        #expect(t < Self.timeLimit)
        let env = IMAPMessageCache(parsing: raw).envelope
        // The 1 MiB subject is sent whole; the To list stops at the per-field address cap.
        #expect(occurrences(of: bytes("(NIL NIL \"a\" \"b\")"), in: env) == AddressParser.maxAddresses)
        #expect(occurrences(of: Array(repeating: UInt8(ascii: "s"), count: 1 << 20), in: env) == 1)
    }

    @Test func hostileEncodedWordsAreLinear() {
        let unit = bytes("=?a?q?b")
        let raw = Array(repeating: unit, count: 150_000).flatMap { $0 }
        var out = ""
        let t = timed { out = EncodedWord.decode(raw) }
        #expect(t < Self.timeLimit)
        #expect(out.utf8.count == raw.count)
    }

    @Test func deeplyNestedComments() {
        let raw = Array(repeating: UInt8(ascii: "("), count: 500_000) + bytes("a@b")
        _ = AddressParser.parse(raw)
        _ = ContentType(headerValue: raw)
        #expect(MessageDate.parse(raw) == nil)
    }

    @Test func nulBytesEverywhere() {
        var raw = bytes("Subject: a\0b\r\nFrom: \0 <x\0y@z>\r\nContent-Type: text/plain; charset=\"\0\"\r\n\r\n")
        raw += [0, 0, 0, 10, 0]
        let cache = IMAPMessageCache(parsing: raw)
        #expect(!cache.envelope.contains(0))
        #expect(!cache.bodyStructure.contains(0))
        #expect(!cache.body.contains(0))
        renderEverything(raw)
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func binaryGarbage(seed: Int) {
        let raw = pseudoRandomBytes(count: 256 << 10, seed: UInt64(seed))
        let t = timed { renderEverything(raw) }
        #expect(t < Self.timeLimit)
    }

    @Test func garbageShapedLikeMIME() {
        // Random sequences of MIME-ish lines exercise the structure paths more than random bytes.
        let lines = ["Content-Type: multipart/mixed; boundary=a", "Content-Type: multipart/alternative; boundary=b",
                     "Content-Type: message/rfc822", "Content-Type: text/plain", "--a", "--b", "--a--", "--b--", "",
                     "Content-Transfer-Encoding: base64", "Content-Transfer-Encoding: quoted-printable", "text =E9",
                     "From: x@y", "Subject: =?utf-8?q?=C3?=", " folded", "\u{1}\u{2}\u{3}", "Content-Type: multipart/digest; boundary=a"]
        var seed: UInt64 = 42
        for _ in 0..<300 {
            var raw: [UInt8] = []
            for _ in 0..<60 {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                raw += crlf(lines[Int((seed >> 33) % UInt64(lines.count))] + "\n")
            }
            renderEverything(raw)
        }
        #expect(seed != 42)
    }

    @Test func everyTruncationOfARealMessage() {
        let full = IMAPRenderingTests.dovecotMessage
        for cut in 0...full.count {
            let raw = Array(full[0..<cut])
            let m = MessageParser.parse(raw)
            #expect(m.size == cut)
            #expect(m.root.range.upperBound <= cut)
            renderEverything(raw)
        }
    }

    @Test func rangesStayInsideTheMessage() {
        for seed in 1...20 {
            var raw = IMAPRenderingTests.dovecotMessage
            // Flip a handful of bytes to random values.
            let noise = pseudoRandomBytes(count: 64, seed: UInt64(seed))
            for k in stride(from: 0, to: noise.count, by: 2) {
                let idx = (Int(noise[k]) * 7 + Int(noise[k + 1]) * 131) % raw.count
                raw[idx] = noise[k + 1]
            }
            let m = MessageParser.parse(raw)
            func check(_ p: MIMEPart) {
                #expect(p.headerRange.lowerBound >= 0 && p.bodyRange.upperBound <= raw.count)
                #expect(p.headerRange.upperBound <= p.bodyRange.lowerBound)
                for c in p.parts {
                    #expect(c.range.lowerBound >= p.bodyRange.lowerBound && c.range.upperBound <= p.bodyRange.upperBound)
                    check(c)
                }
                if let inner = p.encapsulatedMessage {
                    #expect(inner.range == p.bodyRange)
                    check(inner)
                }
            }
            check(m.root)
            renderEverything(raw)
        }
    }
}

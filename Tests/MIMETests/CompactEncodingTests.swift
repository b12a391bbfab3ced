import Testing
@testable import MIME

/// The store's cache format: exact round trips, and corrupt rows rejected without crashing.
@Suite struct CompactEncodingTests {
    static let samples: [[UInt8]] = [
        IMAPRenderingTests.rfcExample,
        IMAPRenderingTests.dovecotMessage,
        IMAPRenderingTests.mixedWithAttachment,
        SectionTests.rfcTree,
        [],
    ]

    @Test func roundTrips() {
        for raw in Self.samples {
            let cache = IMAPMessageCache(parsing: raw)
            let encoded = cache.compactEncoded()
            #expect(IMAPMessageCache(compact: encoded) == cache)
            #expect(MIMEMessage(compact: cache.message.compactEncoded()) == cache.message)
        }
    }

    @Test func deepTreeRoundTrips() {
        var raw: [UInt8] = []
        for i in 0..<300 { raw += bytes("Content-Type: multipart/mixed; boundary=b\(i)\r\n\r\n--b\(i)\r\n") }
        raw += bytes("x")
        let m = MessageParser.parse(raw)
        #expect(MIMEMessage(compact: m.compactEncoded()) == m)
    }

    @Test func isSmallerThanTheMessageForTypicalMail() {
        let raw = IMAPRenderingTests.dovecotMessage
        let m = MessageParser.parse(raw)
        #expect(m.compactEncoded().count < raw.count)
    }

    @Test func corruptDataIsRejected() {
        let good = IMAPMessageCache(parsing: IMAPRenderingTests.dovecotMessage).compactEncoded()
        for cut in 0..<good.count {
            #expect(IMAPMessageCache(compact: Array(good[0..<cut])) == nil)
        }
        var accepted = 0
        for seed in 1...300 {
            var bad = good
            let noise = pseudoRandomBytes(count: 8, seed: UInt64(seed))
            let idx = (Int(noise[0]) << 8 | Int(noise[1])) % bad.count
            bad[idx] = noise[2]
            if let c = IMAPMessageCache(compact: bad) {
                accepted += 1
                // Whatever decodes must still be safe to use against the real bytes.
                IMAPRenderingTests.dovecotMessage.withUnsafeBytes { buf in
                    for (n, _) in c.message.leaves() {
                        _ = c.message.section(Section(part: n, text: .mime), in: buf)
                    }
                    _ = c.message.searchableText(in: buf)
                }
            }
        }
        #expect(accepted < 300)
        #expect(MIMEMessage(compact: [99]) == nil)
        #expect(MIMEMessage(compact: []) == nil)
    }
}

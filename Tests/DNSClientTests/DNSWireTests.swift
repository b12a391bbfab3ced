import DNSWire
import Testing

/// A recorded MX answer for "Example.test" (as a recursive resolver sends it), laid out field by field:
/// two MX records whose exchanges end in pointers to the question name, an A record for mx1 whose owner is
/// a pointer into the first MX's RDATA (itself ending in a pointer: two jumps), and an OPT record.
let recordedMXAnswer = hex("""
    1a2b 8180 0001 0002 0000 0002
    07 4578616d706c65 04 74657374 00 000f 0001
    c00c 000f 0001 00000e10 0008 000a 03 4d5831 c00c
    c00c 000f 0001 00000e10 0008 0014 03 6d7832 c00c
    c02c 0001 0001 00000e10 0004 c000020a
    00 0029 04d0 00000000 0000
    """)

/// A recorded NXDOMAIN for "nope.example.test" A with the zone's SOA in the authority section; the owner
/// and both SOA names are pointers to "example.test" inside the question (offset 17).
let recordedNXDomain = hex("""
    beef 8183 0001 0000 0001 0000
    04 6e6f7065 07 6578616d706c65 04 74657374 00 0001 0001
    c011 0006 0001 00000e10 0027
      03 6e7331 c011 0a 686f73746d6173746572 c011
      78a3f175 00001c20 00000e10 00127500 0000012c
    """)

@Suite("DNS wire format")
struct DNSWireTests {
    @Test func decodesRecordedMXAnswerWithCompression() throws {
        let message = try DNSMessage(parsing: recordedMXAnswer)
        #expect(message.id == 0x1A2B)
        #expect(message.isResponse)
        #expect(message.opcode == 0)
        #expect(message.recursionDesired && message.recursionAvailable)
        #expect(!message.isTruncated && !message.isAuthoritative && !message.authenticData)
        #expect(message.responseCode == .noError)
        #expect(message.questions == [DNSQuestion(name: "example.test", type: .mx)])
        #expect(message.answers == [
            DNSResourceRecord(name: "example.test", ttl: 3600, data: .mx(preference: 10, exchange: "mx1.example.test")),
            DNSResourceRecord(name: "example.test", ttl: 3600, data: .mx(preference: 20, exchange: "mx2.example.test")),
        ])
        #expect(message.authorities.isEmpty)
        #expect(message.additionals.count == 2)
        #expect(message.additionals[0] == DNSResourceRecord(
            name: "mx1.example.test", ttl: 3600, data: .a(DNSIPv4Address(192, 0, 2, 10))))
        #expect(message.optRecord?.recordClass == 1232)
        #expect(message.optRecord?.name == "")
        #expect(message.extendedResponseCode == .noError)
    }

    @Test func decodesRecordedNXDomainWithSOA() throws {
        let message = try DNSMessage(parsing: recordedNXDomain)
        #expect(message.id == 0xBEEF)
        #expect(message.responseCode == .nameError)
        #expect(message.answers.isEmpty)
        #expect(message.authorities == [DNSResourceRecord(name: "example.test", ttl: 3600, data: .soa(
            DNSStartOfAuthority(primaryServer: "ns1.example.test", responsibleMailbox: "hostmaster.example.test",
                                serial: 2_024_010_101, refresh: 7200, retry: 3600, expire: 1_209_600,
                                minimum: 300)))])
    }

    @Test func queryEncodingRoundTrips() throws {
        let bytes = try DNSMessage.query(id: 0x4242, name: "Mail.Example.TEST.", type: .mx, authenticData: true)
        // Header: ID, RD+AD, one question, one additional (OPT).
        #expect(Array(bytes[0..<12]) == hex("4242 0120 0001 0000 0000 0001"))
        let message = try DNSMessage(parsing: bytes)
        #expect(message.id == 0x4242)
        #expect(!message.isResponse)
        #expect(message.recursionDesired)
        #expect(message.authenticData)
        #expect(message.questions == [DNSQuestion(name: "mail.example.test", type: .mx)])
        // RFC 6891 §6.1.2: root owner, CLASS = UDP payload size, TTL 0 (version 0, no DO), no options.
        #expect(message.additionals == [DNSResourceRecord(
            name: "", recordClass: 1232, ttl: 0, data: .other(type: .opt, data: []))])
        #expect(try message.encoded() == bytes)

        let plain = try DNSMessage.query(id: 7, name: "example.test", type: .a, recursionDesired: false,
                                         udpPayloadSize: nil)
        let decoded = try DNSMessage(parsing: plain)
        #expect(!decoded.recursionDesired)
        #expect(decoded.additionals.isEmpty)
        #expect(plain.count == 12 + 14 + 4)
    }

    @Test func everyRecordTypeRoundTrips() throws {
        let records: [DNSResourceRecord] = [
            DNSResourceRecord(name: "example.test", ttl: 60, data: .a(DNSIPv4Address(192, 0, 2, 1))),
            DNSResourceRecord(name: "example.test", ttl: 60,
                              data: .aaaa(try #require(DNSIPv6Address(bytes: hex("20010db8000000000000000000000001"))))),
            DNSResourceRecord(name: "example.test", ttl: 60, data: .mx(preference: 0, exchange: "")),
            DNSResourceRecord(name: "example.test", ttl: 60, data: .mx(preference: 5, exchange: "mx.example.test")),
            DNSResourceRecord(name: "example.test", ttl: 60,
                              data: .txt([Array("v=spf1 ".utf8), Array("-all".utf8), [], Array(repeating: 0x41, count: 255)])),
            DNSResourceRecord(name: "www.example.test", ttl: 60, data: .cname("example.test")),
            DNSResourceRecord(name: "example.test", ttl: 60, data: .ns("ns1.example.test")),
            soaRecord(),
            DNSResourceRecord(name: "_25._tcp.mx.example.test", ttl: 60,
                              data: .tlsa(usage: 3, selector: 1, matchingType: 1, data: Array(0..<32))),
            DNSResourceRecord(name: "example.test", recordClass: 1, ttl: UInt32.max,
                              data: .other(type: .raw(99), data: [1, 2, 3])),
            DNSResourceRecord.opt(udpPayloadSize: 4096, dnssecOK: true),
        ]
        let message = DNSMessage(id: 9, isResponse: true, opcode: 0, isAuthoritative: true, isTruncated: true,
                                 recursionDesired: false, recursionAvailable: true, authenticData: true,
                                 checkingDisabled: true, responseCode: .refused,
                                 questions: [DNSQuestion(name: "example.test", type: .raw(255))],
                                 answers: Array(records[0..<7]), authorities: [records[7]],
                                 additionals: Array(records[8...]))
        for compress in [true, false] {
            let decoded = try DNSMessage(parsing: try message.encoded(compress: compress))
            #expect(decoded == message)
        }
        #expect(records.map(\.type) == [.a, .aaaa, .mx, .mx, .txt, .cname, .ns, .soa, .tlsa, .raw(99), .opt])
        #expect(DNSRecordType(rawValue: 15) == .mx && DNSRecordType.raw(15) == .mx && DNSRecordType.raw(52) == .tlsa)
        #expect(DNSRecordType.raw(99).description == "TYPE99" && DNSRecordType.tlsa.description == "TLSA")
        #expect(DNSResponseCode(rawValue: 3) == .nameError && DNSResponseCode.nameError.description == "NXDOMAIN")
    }

    @Test func encoderCompressesRepeatedNames() throws {
        let message = DNSMessage(id: 1, isResponse: true, questions: [DNSQuestion(name: "example.test", type: .mx)],
                                 answers: (1...3).map {
                                     DNSResourceRecord(name: "example.test", ttl: 60,
                                                       data: .mx(preference: UInt16($0), exchange: "mx\($0).example.test"))
                                 })
        let compressed = try message.encoded()
        let plain = try message.encoded(compress: false)
        // Each answer: owner is a 2-octet pointer; RDATA is preference + "mxN" label + pointer.
        #expect(compressed.count == 12 + 18 + 3 * (2 + 10 + 2 + 4 + 2))
        #expect(plain.count > compressed.count)
        #expect(Array(compressed[30..<32]) == [0xC0, 0x0C])
        #expect(try DNSMessage(parsing: compressed) == DNSMessage(parsing: plain))
    }

    @Test func extendedResponseCodeJoinsOPTBits() throws {
        // RFC 6891 §6.1.3: BADVERS (16) = OPT extended RCODE 1, header RCODE 0.
        var opt = DNSResourceRecord.opt()
        opt.ttl = 0x0100_0000
        let message = DNSMessage(id: 1, isResponse: true, additionals: [opt])
        let decoded = try DNSMessage(parsing: try message.encoded())
        #expect(decoded.responseCode == .noError)
        #expect(decoded.extendedResponseCode == .raw(16))
    }

    @Test func ipv6TextIsCanonical() throws {
        func text(_ groups: [UInt16]) throws -> String { try #require(DNSIPv6Address(groups: groups)).description }
        #expect(try text([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]) == "2001:db8::1")
        #expect(try text([0, 0, 0, 0, 0, 0, 0, 1]) == "::1")
        #expect(try text([0, 0, 0, 0, 0, 0, 0, 0]) == "::")
        #expect(try text([0xfe80, 0, 0, 0, 0, 0, 0, 0]) == "fe80::")
        // RFC 5952 §4.2.2: a single zero group is not shortened.
        #expect(try text([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1]) == "2001:db8:0:1:1:1:1:1")
        // §4.2.3: the longest run wins; on a tie, the first.
        #expect(try text([0x2001, 0, 0, 1, 0, 0, 0, 1]) == "2001:0:0:1::1")
        #expect(try text([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]) == "2001:db8::1:0:0:1")
        // §4.3 lowercase, §4.1 no leading zeros.
        #expect(try text([0x2001, 0x0DB8, 0xABCD, 0x0012, 0, 0, 0, 0x00FF]) == "2001:db8:abcd:12::ff")
        // §5 IPv4-mapped.
        #expect(try text([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201]) == "::ffff:192.0.2.1")
        #expect(DNSIPv6Address(bytes: [1, 2, 3]) == nil)
        let address = try #require(DNSIPv6Address(bytes: Array(1...16)))
        #expect(address.bytes == Array(1...16))
        #expect(DNSIPv4Address(bytes: [192, 0, 2, 255])?.description == "192.0.2.255")
        #expect(DNSIPv4Address(bytes: [1, 2, 3]) == nil)
    }

    // MARK: - Names

    @Test func encoderValidatesNames() throws {
        let label63 = String(repeating: "a", count: 63)
        #expect(throws: Never.self) { try DNSMessage.query(id: 1, name: "\(label63).test", type: .a) }
        // Four 63-octet labels and one of 1: 4*64 + 2 + 1 = 259 > 255; 3*64 + 62 + 1 = 255 fits.
        let tooLong = [label63, label63, label63, label63, "a"].joined(separator: ".")
        let longest = [label63, label63, label63, String(repeating: "b", count: 61)].joined(separator: ".")
        #expect(throws: Never.self) { try DNSMessage.query(id: 1, name: longest, type: .a) }
        for bad in ["\(label63)a.test", tooLong, "a..test", ".test", "..", "bücher.test", "a b.test",
                    "back\\slash.test", "tab\t.test"] {
            #expect(throws: DNSWireError.invalidName(bad)) { try DNSMessage.query(id: 1, name: bad, type: .a) }
        }
        // Root, with or without the dot; underscores for TLSA/DKIM names.
        #expect(try DNSMessage(parsing: DNSMessage.query(id: 1, name: ".", type: .ns)).questions[0].name == "")
        #expect(try DNSMessage(parsing: DNSMessage.query(id: 1, name: "", type: .ns)).questions[0].name == "")
        #expect(try DNSMessage.normalizedName("_25._TCP.Mx.Example.test.") == "_25._tcp.mx.example.test")
    }

    @Test func decoderEscapesOddLabelOctets() throws {
        // Question name: a label holding "a.B" (a dot octet inside a label), then "test".
        let bytes = hex("0001 8000 0001 0000 0000 0000  03 612e42 04 74657374 00 0001 0001")
        let name = try DNSMessage(parsing: bytes).questions[0].name
        #expect(name == "a\\046b.test")
        #expect(throws: DNSWireError.self) { try DNSMessage.query(id: 1, name: name, type: .a) }
        let binary = hex("0001 8000 0001 0000 0000 0000  02 00ff 00 0001 0001")
        #expect(try DNSMessage(parsing: binary).questions[0].name == "\\000\\255")
    }

    @Test func rejectsSelfAndForwardPointers() {
        // Question name is a pointer to itself (offset 12).
        #expect(throws: DNSWireError.forwardPointer(offset: 12)) {
            try DNSMessage(parsing: hex("0001 8000 0001 0000 0000 0000  c00c 0001 0001"))
        }
        // Pointer to a later offset (the "test" label after it).
        #expect(throws: DNSWireError.forwardPointer(offset: 14)) {
            try DNSMessage(parsing: hex("0001 8000 0001 0000 0000 0000  01 61 c010 04 74657374 00 0001 0001"))
        }
    }

    @Test func rejectsPointerLoops() {
        // "a" then a pointer back to the start of the same name: a → a → a ...
        #expect(throws: DNSWireError.pointerLoop(offset: 14)) {
            try DNSMessage(parsing: hex("0001 8000 0001 0000 0000 0000  01 61 c00c 0001 0001"))
        }
        // Two names pointing into each other: the answer owner jumps to offset 12, whose name jumps back
        // into the answer's own region is impossible (that would be forward), so the loop is made through
        // the question: question "b" + pointer to offset 12 + 2 = itself after one label.
        #expect(throws: DNSWireError.pointerLoop(offset: 16)) {
            try DNSMessage(parsing: hex("0001 8000 0001 0001 0000 0000  01 61 01 62 c00e 0001 0001  c00c 0001 0001 00000000 0000"))
        }
        // An answer whose owner points at the question's pointer, which itself points back at the answer
        // chain's start: caught as forward from the question's point of view.
        #expect(throws: DNSWireError.self) {
            try DNSMessage(parsing: hex("0001 8000 0001 0001 0000 0000  c012 0001 0001  c00c 0001 0001 00000000 0000"))
        }
    }

    @Test func rejectsOverlongLabelsAndNames() throws {
        // Length octets 0x40 (64) and 0x80 have the reserved top bits set (RFC 6891 §5).
        #expect(throws: DNSWireError.unsupportedLabelType(offset: 12)) {
            try DNSMessage(parsing: hex("0001 8000 0001 0000 0000 0000  40") + Array(repeating: 0x61, count: 64) + [0, 0, 1, 0, 1])
        }
        #expect(throws: DNSWireError.unsupportedLabelType(offset: 12)) {
            try DNSMessage(parsing: hex("0001 8000 0001 0000 0000 0000  80 00 0001 0001"))
        }
        // Five labels of 63 octets: 321 octets in wire form.
        var header = hex("0001 8000 0001 0000 0000 0000")
        for _ in 0..<5 { header += [63] + Array(repeating: 0x61, count: 63) }
        header += [0, 0, 1, 0, 1]
        // 1 + 4 * 64 = 257: the fourth label (offset 12 + 3 * 64) crosses the limit.
        #expect(throws: DNSWireError.nameTooLong(offset: 12 + 3 * 64)) { try DNSMessage(parsing: header) }
        // Over 255 octets only through pointers: each answer name adds a 63-octet label to the previous one.
        var chained = hex("0001 8000 0001 0004 0000 0000")
        chained += [63] + Array(repeating: 0x61, count: 63) + [0, 0, 1, 0, 1]  // question at 12
        var previous = 12
        for _ in 0..<4 {
            let start = chained.count
            chained += [63] + Array(repeating: 0x62, count: 63) + [0xC0, UInt8(previous)]
            chained += hex("0063 0001 00000000 0000")  // TYPE99, empty RDATA
            previous = start
        }
        // The third answer's owner: its label (65), then answer 2's (129), answer 1's (193), and the
        // question's label at offset 12 crosses 255.
        #expect(throws: DNSWireError.nameTooLong(offset: 12)) { try DNSMessage(parsing: chained) }
        chained[7] = 2  // only two answers: every name stays within 255 octets
        chained.removeLast(2 * 76)
        let decoded = try DNSMessage(parsing: chained)
        #expect(decoded.answers[1].name.count == 3 * 63 + 2)
    }

    @Test func rejectsLyingCountsAndLengths() throws {
        var moreAnswers = recordedMXAnswer
        moreAnswers[7] = 3  // ANCOUNT 3 with 2 present: the OPT and A records are read as answers, then nothing is left
        #expect(throws: DNSWireError.self) { try DNSMessage(parsing: moreAnswers) }

        var huge = recordedMXAnswer
        huge[6] = 0xFF
        huge[7] = 0xFF
        #expect(throws: DNSWireError.tooManyRecords(65535 + 1 + 2)) { try DNSMessage(parsing: huge) }

        var manyQuestions = hex("0001 8000 03e8 0000 0000 0000")  // 1000 questions, 0 present
        #expect(throws: DNSWireError.truncated(offset: 12)) { try DNSMessage(parsing: manyQuestions) }
        manyQuestions += [0, 0, 1, 0, 1]
        #expect(throws: DNSWireError.truncated(offset: 17)) { try DNSMessage(parsing: manyQuestions) }

        // RDLENGTH of the A record (offset 80) raised past the end of the message.
        var overrun = recordedMXAnswer
        overrun[80] = 0x01
        #expect(throws: DNSWireError.rdataOverrun(offset: 82)) { try DNSMessage(parsing: overrun) }

        // An A record with RDLENGTH 5: a mismatch, not a 5-octet address.
        let badA = hex("0001 8000 0000 0001 0000 0000  00 0001 0001 00000000 0005 c0000201 ff")
        #expect(throws: DNSWireError.rdataLengthMismatch(type: 1, offset: 23)) { try DNSMessage(parsing: badA) }
        // An MX whose exchange runs past its RDLENGTH (3 octets: preference + one length octet).
        let badMX = hex("0001 8000 0000 0001 0000 0000  00 000f 0001 00000000 0003 000a 03 6d7831 00")
        #expect(throws: DNSWireError.rdataLengthMismatch(type: 15, offset: 23)) { try DNSMessage(parsing: badMX) }
        // A TXT string longer than what is left of its RDATA.
        let badTXT = hex("0001 8000 0000 0001 0000 0000  00 0010 0001 00000000 0003 05 6869 00")
        #expect(throws: DNSWireError.rdataLengthMismatch(type: 16, offset: 23)) { try DNSMessage(parsing: badTXT) }
        // A TLSA shorter than its three fixed fields.
        let badTLSA = hex("0001 8000 0000 0001 0000 0000  00 0034 0001 00000000 0002 0301")
        #expect(throws: DNSWireError.rdataLengthMismatch(type: 52, offset: 23)) { try DNSMessage(parsing: badTLSA) }
        // An SOA cut before MINIMUM.
        let badSOA = hex("0001 8000 0000 0001 0000 0000  00 0006 0001 00000000 0012 00 00 00000001 00000002 00000003 00000004")
        #expect(throws: DNSWireError.rdataLengthMismatch(type: 6, offset: 23)) { try DNSMessage(parsing: badSOA) }
    }

    @Test func everyTruncationOfValidPacketsThrows() throws {
        let generated = try DNSMessage(
            id: 3, isResponse: true, questions: [DNSQuestion(name: "example.test", type: .txt)],
            answers: [
                DNSResourceRecord(name: "example.test", ttl: 5, data: .txt([Array("hello".utf8), Array("world".utf8)])),
                DNSResourceRecord(name: "example.test", ttl: 5,
                                  data: .tlsa(usage: 3, selector: 1, matchingType: 1, data: Array(0..<32))),
                DNSResourceRecord(name: "example.test", ttl: 5,
                                  data: .aaaa(try #require(DNSIPv6Address(groups: [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1])))),
            ],
            authorities: [soaRecord()], additionals: [.opt()]).encoded()
        for packet in [recordedMXAnswer, recordedNXDomain, generated] {
            #expect(throws: Never.self) { try DNSMessage(parsing: packet) }
            for length in 0..<packet.count {
                #expect(throws: DNSWireError.self, "prefix of \(length) octets") {
                    try DNSMessage(parsing: Array(packet[0..<length]))
                }
            }
        }
    }

    @Test func randomGarbageNeverCrashes() {
        var generator = SplitMix64(seed: 0x5EED_D115)
        var decoded = 0
        for _ in 0..<3000 {
            let length = Int.random(in: 0...600, using: &generator)
            var bytes: [UInt8] = []
            bytes.reserveCapacity(length + 8)
            while bytes.count < length {
                let word = generator.next()
                for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: word >> shift)) }
            }
            bytes.removeLast(bytes.count - length)
            // Small counts make the decoder reach names and RDATA instead of stopping at the header.
            if bytes.count >= 12 {
                for index in 4..<12 where index % 2 == 0 { bytes[index] = 0 }
                for index in [5, 7, 9, 11] { bytes[index] %= 4 }
            }
            if (try? DNSMessage(parsing: bytes)) != nil { decoded += 1 }
        }
        // Mutations of real packets reach deep into the decoder: flip 1–4 random octets each time.
        for packet in [recordedMXAnswer, recordedNXDomain] {
            for _ in 0..<1000 {
                var bytes = packet
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: .min ... .max, using: &generator)
                }
                if let message = try? DNSMessage(parsing: bytes) {
                    decoded += 1
                    // Whatever decodes must either re-encode or be refused cleanly, never trap.
                    _ = try? message.encoded()
                }
            }
        }
        #expect(decoded > 0)
    }
}

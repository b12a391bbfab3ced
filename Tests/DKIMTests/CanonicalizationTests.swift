import Crypto
import Testing

@testable import DKIM

/// An independent, line-based statement of relaxed body canonicalization (RFC 6376 §3.4.4), written
/// the way the RFC reads: split into lines, fix each line, drop trailing empty lines, join with CRLF.
func referenceRelaxedBody(_ body: [UInt8]) -> [UInt8] {
    var lines: [[UInt8]] = []
    var current: [UInt8] = []
    for byte in body {
        if byte == 0x0A {
            if current.last == 0x0D { current.removeLast() }
            lines.append(current)
            current = []
        } else {
            current.append(byte)
        }
    }
    if !current.isEmpty { lines.append(current) }  // an unterminated last line
    var canonical: [[UInt8]] = lines.map { line in
        var out: [UInt8] = []
        var inWSP = false
        for byte in line {
            if byte == 0x20 || byte == 0x09 {
                inWSP = true
            } else {
                if inWSP { out.append(0x20) }
                inWSP = false
                out.append(byte)
            }
        }
        return out  // WSP at the end of the line is never written
    }
    while canonical.last?.isEmpty == true { canonical.removeLast() }
    return canonical.flatMap { $0 + [0x0D, 0x0A] }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

func sha256(_ data: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: data)) }

/// Bodies that stress every state of the streaming canonicalizer.
let trickyBodies: [String] = [
    "",
    "\r\n",
    "\r\n\r\n\r\n",
    " \t \r\n\t\r\n",
    " C \r\nD \t E\r\n\r\n\r\n",
    "a  b \t c\t \r\n\r\n \t\r\n\r\n",
    "line1\nline2\n\n\n",
    "mixed\r\nendings\n\r\n \n",
    "x\r\r\ny\r",
    "lone\rcr\r\n\r",
    "end without newline   ",
    "\r\n\r\nstarts after empty lines\r\n  \r\n\t\r\nmiddle\r\n\r\n",
    "Grüße  \t aus Köln — ça va?\r\n日本語\t\t\r\n\r\n",
    "a\r\n \r\n",
    "    leading\r\n\t\tleading tab\r\n",
    "trailing CR LF split\r",
]

@Suite struct CanonicalizationTests {
    @Test func rfc6376Section345Example() {
        // RFC 6376 §3.4.5: "A: <SP> X <CRLF> B <SP> : <SP> Y <HTAB><CRLF> <HTAB> Z <SP><SP><CRLF>"
        let headerBlock = bytes("A: X\r\nB : Y\t\r\n\tZ  \r\n")
        let fields = DKIMHeaderBlock.fields(in: headerBlock[...])
        #expect(fields.count == 2)
        let canonical = fields.flatMap {
            DKIMCanonicalization.relaxedHeader(name: String(decoding: $0.name, as: UTF8.self), value: $0.value)
        }
        #expect(canonical == bytes("a:X\r\nb:Y Z\r\n"))

        let body = bytes(" C \r\nD \t E\r\n\r\n\r\n")
        #expect(DKIMCanonicalization.relaxedBody(body[...]) == bytes(" C\r\nD E\r\n"))
    }

    @Test func relaxedHeaderRules() {
        #expect(DKIMCanonicalization.relaxedHeader(name: "SUBJECT", value: bytes("  Hello   World  ")[...])
            == bytes("subject:Hello World\r\n"))
        #expect(DKIMCanonicalization.relaxedHeader(name: "Subject \t", value: bytes("\tfolded\r\n  over\r\n\tlines ")[...])
            == bytes("subject:folded over lines\r\n"))
        #expect(DKIMCanonicalization.relaxedHeader(name: "X-Empty", value: bytes("   ")[...]) == bytes("x-empty:\r\n"))
        // Bare LF folds unfold the same way as CRLF folds.
        #expect(DKIMCanonicalization.relaxedHeader(name: "To", value: bytes(" a@b,\n c@d")[...]) == bytes("to:a@b, c@d\r\n"))
        // Only ASCII letters are lowercased; 8-bit bytes pass through.
        #expect(DKIMCanonicalization.relaxedHeader(name: "Subject", value: bytes(" Grüße")[...]) == bytes("subject:Grüße\r\n"))
    }

    @Test func relaxedBodyRules() {
        #expect(DKIMCanonicalization.relaxedBody([][...]) == [])  // RFC 6376 §3.4.4: empty stays empty
        #expect(DKIMCanonicalization.relaxedBody(bytes("\r\n\r\n")[...]) == [])
        #expect(DKIMCanonicalization.relaxedBody(bytes("no newline")[...]) == bytes("no newline\r\n"))
        #expect(DKIMCanonicalization.relaxedBody(bytes("a\nb\n")[...]) == bytes("a\r\nb\r\n"))
        #expect(DKIMCanonicalization.relaxedBody(bytes("a \t\r\n\r\nb\t\r\n \r\n")[...]) == bytes("a\r\n\r\nb\r\n"))
        // The empty-body hash every relaxed implementation agrees on.
        var hasher = DKIMBodyHasher()
        #expect(hasher.finalize() == sha256([]))
    }

    @Test(arguments: trickyBodies)
    func oneShotMatchesReference(body: String) {
        #expect(DKIMCanonicalization.relaxedBody(bytes(body)[...]) == referenceRelaxedBody(bytes(body)))
    }

    @Test(arguments: trickyBodies)
    func streamingEqualsOneShotAtEverySplitPoint(body: String) {
        let data = bytes(body)
        let expected = sha256(referenceRelaxedBody(data))
        for split in 0...data.count {
            var hasher = DKIMBodyHasher()
            hasher.update(data[..<split])
            hasher.update(data[split...])
            #expect(hasher.finalize() == expected, "split at \(split)")
        }
    }

    @Test(arguments: trickyBodies)
    func streamingEqualsOneShotAtEveryPairOfSplitPoints(body: String) {
        let data = bytes(body)
        let expected = sha256(referenceRelaxedBody(data))
        for first in 0...data.count {
            for second in first...data.count {
                var hasher = DKIMBodyHasher()
                hasher.update(data[..<first])
                hasher.update(data[first..<second])
                hasher.update(data[second...])
                #expect(hasher.finalize() == expected, "splits at \(first), \(second)")
            }
        }
    }

    @Test func streamingEqualsReferenceWithRandomChunking() {
        var random = SplitMix64(seed: 0x5EED_D11C)
        let alphabet: [[UInt8]] = [[0x61], [0x62], [0x20], [0x09], [0x0D], [0x0A], [0x0D, 0x0A], bytes("é"), [0x2E]]
        for round in 0..<300 {
            var body: [UInt8] = []
            let pieces = Int(random.next() % 200)
            for _ in 0..<pieces { body += alphabet[Int(random.next() % UInt64(alphabet.count))] }
            var hasher = DKIMBodyHasher()
            var offset = 0
            while offset < body.count {
                let size = 1 + Int(random.next() % 17)
                let end = min(body.count, offset + size)
                hasher.update(body[offset..<end])
                offset = end
            }
            #expect(hasher.finalize() == sha256(referenceRelaxedBody(body)), "round \(round): \(body)")
        }
    }

    @Test func manyTrailingEmptyLinesAcrossChunksAreDroppedOrKept() {
        var dropped = DKIMBodyHasher()
        dropped.update(bytes("text\r\n")[...])
        for _ in 0..<10_000 { dropped.update(bytes("\r\n")[...]) }
        #expect(dropped.finalize() == sha256(bytes("text\r\n")))

        var kept = DKIMBodyHasher()
        kept.update(bytes("text\r\n")[...])
        for _ in 0..<3 { kept.update(bytes(" \t\r")[...]); kept.update(bytes("\n")[...]) }
        kept.update(bytes("more")[...])
        #expect(kept.finalize() == sha256(bytes("text\r\n\r\n\r\n\r\nmore\r\n")))

        // More held empty lines than one batch of line ends, then content: all written, in order.
        var many = DKIMBodyHasher()
        many.update(bytes("a\r\n")[...])
        for _ in 0..<5_000 { many.update(bytes("\t\r\n")[...]) }
        many.update(bytes("b")[...])
        #expect(many.finalize() == sha256(bytes("a\r\n") + Array(repeating: bytes("\r\n"), count: 5_000).flatMap { $0 } + bytes("b\r\n")))
    }

    @Test func lengthLimitHashesOnlyThePrefix() {
        let body = bytes("one  line\r\ntwo\r\n\r\n")
        var limited = DKIMBodyHasher(limit: 5)
        limited.update(body[...])
        #expect(limited.finalize() == sha256(bytes("one l")))
        #expect(limited.canonicalLength == bytes("one line\r\ntwo\r\n").count)
    }

    @Test func finalizeIsIdempotent() {
        var hasher = DKIMBodyHasher()
        hasher.update(bytes("x\r\n")[...])
        let first = hasher.finalize()
        #expect(hasher.finalize() == first)
        #expect(first == sha256(bytes("x\r\n")))
    }

    @Test func simpleCanonicalizationForVerification() {
        #expect(DKIMCanonicalization.simpleBody([][...]) == bytes("\r\n"))
        #expect(DKIMCanonicalization.simpleBody(bytes("a  b\r\n\r\n\r\n")[...]) == bytes("a  b\r\n"))
        #expect(DKIMCanonicalization.simpleBody(bytes("a\nb")[...]) == bytes("a\r\nb\r\n"))
        #expect(DKIMCanonicalization.simpleHeaderWithoutLineEnd(name: bytes("Subject")[...], value: bytes(" a\n b ")[...])
            == bytes("Subject: a\r\n b "))
    }

    @Test func headerBlockSplitAndFields() {
        let message = bytes("From: a@b\r\nSubject: one\r\n two\r\nnot a field line\r\nTo:c@d\n\nbody\r\n")
        let (header, body) = DKIMHeaderBlock.split(message[...])
        #expect(Array(body) == bytes("body\r\n"))
        let fields = DKIMHeaderBlock.fields(in: header)
        #expect(fields.map(\.key) == ["from", "subject", "to"])
        #expect(Array(fields[1].value) == bytes(" one\r\n two"))

        let headersOnly = bytes("From: a@b\r\nTo: c@d")
        let split = DKIMHeaderBlock.split(headersOnly[...])
        #expect(split.header.count == headersOnly.count && split.body.isEmpty)

        let noHeaders = bytes("\r\nbody")
        let empty = DKIMHeaderBlock.split(noHeaders[...])
        #expect(empty.header.isEmpty && Array(empty.body) == bytes("body"))
    }

    @Test func headerSelectionIsBottomUp() {
        let block = bytes("X-A: 1\r\nX-B: only\r\nx-a: 2\r\nX-A: 3\r\n")
        let fields = DKIMHeaderBlock.fields(in: block[...])
        // Each x-a takes the lowest remaining instance; the fourth finds none and selects nothing.
        #expect(DKIMHeaderBlock.select(["x-a", "x-b", "x-a", "x-a", "x-a"], from: fields) == [3, 1, 2, 0])
        #expect(DKIMHeaderBlock.select(["x-a"], from: fields, excluding: 3) == [2])
    }

    @Test func signatureValueRemoval() {
        let value = bytes(" v=1; a=rsa-sha256; bh=abc=;\r\n b=AAAA\r\n BBBB== ; t=5")
        #expect(DKIMTagList.removingSignatureValue(from: value[...]) == bytes(" v=1; a=rsa-sha256; bh=abc=;\r\n b=; t=5"))
        let last = bytes("d=x; b = QUJD")
        #expect(DKIMTagList.removingSignatureValue(from: last[...]) == bytes("d=x; b ="))
    }

    @Test func tagListGrammar() throws {
        let tags = try DKIMTagList(" v=1;\r\n a = rsa-sha256 ;d=example.com;")
        #expect(tags["v"] == "1" && tags["a"] == "rsa-sha256" && tags["d"] == "example.com")
        #expect(throws: DKIMTagList.ParseError.duplicateTag("a")) { try DKIMTagList("a=1; a=2") }
        #expect(throws: DKIMTagList.ParseError.missingEquals) { try DKIMTagList("a=1; junk") }
        #expect(throws: DKIMTagList.ParseError.invalidTagName("1a")) { try DKIMTagList("1a=x") }
    }
}

/// A small deterministic generator, so a failing random case can be replayed.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import Crypto
import Foundation
import Testing

@testable import DKIM

let sampleMessage = bytes("""
    From: Alice Example <alice@example.com>\r
    To: Bob <bob@example.net>\r
    Subject: Lunch\r
     on Friday?\r
    Date: Wed, 01 Jan 2025 00:00:00 +0000\r
    Message-ID: <lunch-1@example.com>\r
    MIME-Version: 1.0\r
    Content-Type: text/plain; charset=utf-8\r
    \r
    Hi Bob,\r
    \r
    shall we have lunch?  \r
    \r
    Alice\r
    \r
    \r

    """)

/// Splits a folded field into its lines (without CRLF).
func lines(of field: String) -> [Substring] {
    field.split(separator: "\r\n", omittingEmptySubsequences: false).dropLast().map { $0 }
}

/// The value of tag `name` in a signature field, FWS removed.
func tag(_ name: String, in field: String) throws -> String? {
    let value = field.drop(while: { $0 != ":" }).dropFirst()
    return try DKIMTagList(String(value))[name].map(DKIMTagList.removingFWS)
}

@Suite struct SigningTests {
    @Test(arguments: [DKIMAlgorithm.rsaSHA256, .ed25519SHA256])
    func signatureFieldShape(algorithm: DKIMAlgorithm) throws {
        let signer = try #require(TestKeys.signers.first { $0.key.algorithm == algorithm })
        let field = try signer.signatureField(message: sampleMessage, at: signingTime)
        #expect(field.hasPrefix("DKIM-Signature: v=1; a=\(algorithm.rawValue); c=relaxed/relaxed; d=example.com;"))
        #expect(try tag("s", in: field) == signer.selector)
        #expect(field.hasSuffix("\r\n") && !field.hasSuffix("\r\n\r\n"))
        for (index, line) in lines(of: field).enumerated() {
            #expect(line.utf8.count <= 78, "line \(index) is \(line.utf8.count) long: \(line)")
            if index > 0 { #expect(line.first == " ") }
        }
        #expect(try tag("t", in: field) == "1735689600")
        #expect(try tag("x", in: field) == nil)
        #expect(try tag("i", in: field) == nil)
        #expect(try tag("h", in: field) == "from:to:subject:date:message-id:mime-version:content-type:from")
        let bodyHash = Data(sha256(referenceRelaxedBody(bytes("Hi Bob,\r\n\r\nshall we have lunch?  \r\n\r\nAlice\r\n"))))
        #expect(try tag("bh", in: field) == bodyHash.base64EncodedString())
        let encodedSignature = try #require(try tag("b", in: field))
        let signature = try #require(Data(base64Encoded: encodedSignature))
        #expect(signature.count == (algorithm == .rsaSHA256 ? 256 : 64))
    }

    @Test func signAndVerifyBothAlgorithms() throws {
        let message = try signed(sampleMessage)
        let result = DKIMVerifier.verify(message: message, dnsRecord: TestKeys.lookup)
        #expect(result.signatures.map(\.status) == [.pass, .pass])
        #expect(result.signatures.map(\.algorithm) == ["rsa-sha256", "ed25519-sha256"])
        #expect(result.signatures.map(\.selector) == [TestKeys.rsaSelector, TestKeys.ed25519Selector])
        #expect(result.hasPass && result.passed(domain: "EXAMPLE.com") && !result.passed(domain: "example.net"))
    }

    @Test func tamperedBodyFails() throws {
        var message = try signed(sampleMessage)
        let offset = try #require(message.indices.reversed().first { message[$0] == UInt8(ascii: "?") })
        message[offset] = UInt8(ascii: "!")
        let result = DKIMVerifier.verify(message: message, dnsRecord: TestKeys.lookup)
        #expect(result.signatures.map(\.status) == [.fail(.bodyHashMismatch), .fail(.bodyHashMismatch)])
    }

    @Test func tamperedHeaderFails() throws {
        let message = String(decoding: try signed(sampleMessage), as: UTF8.self)
            .replacingOccurrences(of: "To: Bob <bob@example.net>", with: "To: Bob <bob@example.org>")
        let result = DKIMVerifier.verify(message: bytes(message), dnsRecord: TestKeys.lookup)
        #expect(result.signatures.map(\.status) == [.fail(.signatureMismatch), .fail(.signatureMismatch)])
    }

    @Test func addedFromFails() throws {
        let message = try signed(sampleMessage)
        // Above the signatures, and at the bottom of the header block (where bottom-up selection looks first).
        let atTop = bytes("From: Mallory <boss@example.com>\r\n") + message
        let text = String(decoding: message, as: UTF8.self)
        let atBottom = bytes(text.replacingOccurrences(
            of: "Content-Type: text/plain; charset=utf-8\r\n",
            with: "Content-Type: text/plain; charset=utf-8\r\nFrom: Mallory <boss@example.com>\r\n"))
        // The over-signed "from" slot takes the added field, so the header hash no longer matches.
        for tampered in [atTop, atBottom] {
            let result = DKIMVerifier.verify(message: tampered, dnsRecord: TestKeys.lookup)
            #expect(result.signatures.map(\.status) == [.fail(.signatureMismatch), .fail(.signatureMismatch)])
        }
        // More From fields than h= names (a second one added, or a signer that does not over-sign) is
        // refused before any hashing.
        let twoAdded = bytes("From: Mallory <boss@example.com>\r\nFrom: Eve <eve@example.com>\r\n") + message
        #expect(DKIMVerifier.verify(message: twoAdded, dnsRecord: TestKeys.lookup).signatures.map(\.status)
            == [.fail(.unsignedFromField), .fail(.unsignedFromField)])
        let value = " v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.com; s=ed2025; h=from:to; bh=\(sampleBodyHash); b="
        let notOverSigned = try customSigned(sampleMessage, value: value, names: ["from", "to"], key: TestKeys.ed25519)
        #expect(DKIMVerifier.verify(message: notOverSigned, dnsRecord: TestKeys.lookup).signatures.map(\.status) == [.pass])
        let addedToNotOverSigned = bytes("From: Mallory <boss@example.com>\r\n") + notOverSigned
        #expect(DKIMVerifier.verify(message: addedToNotOverSigned, dnsRecord: TestKeys.lookup).signatures.map(\.status)
            == [.fail(.unsignedFromField)])
    }

    @Test func overSignedFromBreaksTheHashItself() throws {
        // The extra "from" in h= selects nothing when signing; an added From fills that slot, so the
        // header hash changes even for a verifier that does not count From fields.
        let signer = TestKeys.signers[1]
        let field = try signer.signatureField(message: sampleMessage, at: signingTime)
        let names = try #require(try tag("h", in: field)).split(separator: ":").map(String.init)
        let value = Array(field.utf8.drop { $0 != ASCII.colon }.dropFirst().dropLast(2))
        let unsignedValue = String(decoding: DKIMTagList.removingSignatureValue(from: value[...]), as: UTF8.self)
        let original = DKIMHeaderBlock.fields(in: DKIMHeaderBlock.split(sampleMessage[...]).header)
        let withExtraFrom = DKIMHeaderBlock.fields(in: (bytes("From: x@evil.test\r\n") + sampleMessage)[...])
        let resign = { (fields: [DKIMHeaderField]) in
            try DKIMSigner.sign(fields: fields, signedNames: names, signatureFieldValue: unsignedValue, key: signer.key)
        }
        let signature = Data(base64Encoded: try #require(try tag("b", in: field))).map(Array.init)
        #expect(try resign(original) == signature)  // Ed25519 is deterministic: same input, same signature
        #expect(try resign(withExtraFrom) != signature)
    }

    @Test func relaxedChangesStillVerify() throws {
        let message = String(decoding: try signed(sampleMessage), as: UTF8.self)
        let rewritten = message
            .replacingOccurrences(of: "Subject: Lunch\r\n on Friday?", with: "SUBJECT:   Lunch on\t Friday?   ")
            .replacingOccurrences(of: "shall we have lunch?  \r\n", with: "shall  we have\tlunch?\r\n")
            .replacingOccurrences(of: "Alice\r\n\r\n\r\n", with: "Alice  \r\n")
        let result = DKIMVerifier.verify(message: bytes(rewritten), dnsRecord: TestKeys.lookup)
        #expect(result.signatures.map(\.status) == [.pass, .pass])
    }

    @Test func repeatedHeadersAreAllSignedInOrder() throws {
        let message = bytes("""
            From: a@example.com\r
            X-Tag: one\r
            To: b@example.net\r
            X-Tag: two\r
            Subject: s\r
            X-Tag: three\r
            \r
            body\r

            """)
        let signer = DKIMSigner(domain: "example.com", selector: "sel", key: TestKeys.ed25519, headers: ["From", "X-Tag", "Subject", "To"])
        let field = try signer.signatureField(message: message, at: signingTime)
        #expect(try tag("h", in: field) == "from:x-tag:x-tag:x-tag:subject:to:from")
        let lookup = { (_: String, _: String) -> String? in TestKeys.ed25519.dnsRecord }
        let signedMessage = bytes(field) + message
        #expect(DKIMVerifier.verify(message: signedMessage, dnsRecord: lookup).signatures.map(\.status) == [.pass])

        let text = String(decoding: signedMessage, as: UTF8.self)
        let swappedTags = text.replacingOccurrences(of: "X-Tag: one", with: "X-Tag: tmp")
            .replacingOccurrences(of: "X-Tag: three", with: "X-Tag: one")
            .replacingOccurrences(of: "X-Tag: tmp", with: "X-Tag: three")
        #expect(DKIMVerifier.verify(message: bytes(swappedTags), dnsRecord: lookup).signatures.map(\.status)
            == [.fail(.signatureMismatch)])
        // Distinct fields may move: selection is by name.
        let movedSubject = text.replacingOccurrences(of: "Subject: s\r\n", with: "")
            .replacingOccurrences(of: "From: a@example.com\r\n", with: "Subject: s\r\nFrom: a@example.com\r\n")
        #expect(DKIMVerifier.verify(message: bytes(movedSubject), dnsRecord: lookup).signatures.map(\.status) == [.pass])
    }

    @Test func bareLineFeedsAreSignedAsCRLF() throws {
        let crlf = String(decoding: sampleMessage, as: UTF8.self)
        let lf = crlf.replacingOccurrences(of: "\r\n", with: "\n")
        for signer in TestKeys.signers {
            #expect(try signer.signatureField(message: bytes(lf), at: signingTime)
                == signer.signatureField(message: sampleMessage, at: signingTime))
        }
        let signedLF = try signed(bytes(lf))
        let onTheWire = bytes(String(decoding: signedLF, as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n")
            .replacingOccurrences(of: "\r\r\n", with: "\r\n"))
        #expect(DKIMVerifier.verify(message: onTheWire, dnsRecord: TestKeys.lookup).signatures.map(\.status) == [.pass, .pass])
    }

    @Test func fileAndHeaderBlockVariantsMatchInMemorySigning() throws {
        let scratch = try ScratchDirectory()
        // A header block and a body that each span several 64 KiB reads.
        var message = Array(DKIMHeaderBlock.split(sampleMessage[...]).header)
        for hop in 0..<2_000 { message += bytes("Received: from relay\(hop).example.net by mx.example.com; Wed, 1 Jan 2025\r\n") }
        message += bytes("\r\n")
        for line in 0..<5_000 { message += bytes("line \(line)  with\tsome   spacing \t\r\n") }
        message += bytes("\r\n\r\n")
        let path = scratch.file("message.eml")
        try Data(message).write(to: URL(fileURLWithPath: path))
        for signer in TestKeys.signers {
            let expected = try signer.signatureField(message: message, at: signingTime)
            #expect(try signer.signatureField(fileAt: path, at: signingTime) == expected)
            let (header, body) = DKIMHeaderBlock.split(message[...])
            var hasher = DKIMBodyHasher()
            hasher.update(body)
            #expect(try signer.signatureField(headerBlock: header, bodyHash: hasher.finalize(), at: signingTime) == expected)
            // The header block may also be given with its terminating empty line.
            let withEmptyLine = message[..<(header.count + 2)]
            #expect(try signer.signatureField(headerBlock: withEmptyLine, bodyHash: hasher.finalize(), at: signingTime) == expected)
        }
    }

    @Test func invalidInputsThrow() throws {
        let key = TestKeys.ed25519
        for domain in ["exa mple.com", "example.com;", "", "-bad.example", "a..b"] {
            #expect(throws: DKIMError.invalidDomain(domain)) {
                try DKIMSigner(domain: domain, selector: "s", key: key).signatureField(message: sampleMessage)
            }
        }
        for selector in ["sel;x", "s s", ""] {
            #expect(throws: DKIMError.invalidSelector(selector)) {
                try DKIMSigner(domain: "example.com", selector: selector, key: key).signatureField(message: sampleMessage)
            }
        }
        #expect(throws: DKIMError.invalidHeaderName("bad name")) {
            try DKIMSigner(domain: "example.com", selector: "s", key: key, headers: ["from", "bad name"])
                .signatureField(message: sampleMessage)
        }
        let signer = DKIMSigner(domain: "example.com", selector: "s", key: key)
        #expect(throws: DKIMError.missingFromHeader) {
            try signer.signatureField(message: bytes("To: b@example.net\r\n\r\nbody\r\n"))
        }
        #expect(throws: DKIMError.invalidBodyHash) {
            try signer.signatureField(headerBlock: sampleMessage[...], bodyHash: [1, 2, 3], at: signingTime)
        }
        let hugeHeader = bytes("From: a@example.com\r\n") + Array(repeating: UInt8(ascii: "X"), count: DKIMHeaderBlock.maximumSize)
        #expect(throws: DKIMError.headerBlockTooLarge(limit: DKIMHeaderBlock.maximumSize)) {
            try signer.signatureField(message: hugeHeader)
        }
        let scratch = try ScratchDirectory()
        let path = scratch.file("huge-header.eml")
        try Data(hugeHeader + bytes("\r\n\r\nbody\r\n")).write(to: URL(fileURLWithPath: path))
        #expect(throws: DKIMError.headerBlockTooLarge(limit: DKIMHeaderBlock.maximumSize)) {
            try signer.signatureField(fileAt: path)
        }
        #expect(throws: DKIMError.fileUnreadable(path: scratch.file("missing"), reason: "cannot open")) {
            try signer.signatureField(fileAt: scratch.file("missing"))
        }
    }

    @Test func foldingKeepsLongNamesAndSignaturesWithinLimits() throws {
        var headers = DKIMSigner.defaultHeaders
        var message = bytes("From: a@example.com\r\n")
        for index in 0..<30 {
            headers.append("x-custom-header-number-\(index)")
            message += bytes("X-Custom-Header-Number-\(index): value \(index)\r\n")
        }
        message += bytes("\r\nbody\r\n")
        let signer = DKIMSigner(domain: "a-rather-long-subdomain.of.example.com", selector: "selector-2025-01",
                                key: TestKeys.rsa, headers: headers)
        let field = try signer.signatureField(message: message, at: signingTime)
        for line in lines(of: field) { #expect(line.utf8.count <= 78) }
        let lookup = { (_: String, _: String) -> String? in TestKeys.rsa.dnsRecord }
        #expect(DKIMVerifier.verify(message: bytes(field) + message, dnsRecord: lookup).signatures.map(\.status) == [.pass])
    }
}

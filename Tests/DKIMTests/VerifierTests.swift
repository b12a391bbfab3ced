import Crypto
import Foundation
import Testing

@testable import DKIM

/// Signs `message` with a hand-written signature value (ending in "b="), for tags the signer never emits.
func customSigned(_ message: [UInt8], value: String, names: [String], key: DKIMPrivateKey) throws -> [UInt8] {
    let fields = DKIMHeaderBlock.fields(in: DKIMHeaderBlock.split(message[...]).header)
    let signature = try DKIMSigner.sign(fields: fields, signedNames: names, signatureFieldValue: value, key: key)
    return bytes("DKIM-Signature:" + value + Data(signature).base64EncodedString() + "\r\n") + message
}

let sampleBodyHash: String = {
    var hasher = DKIMBodyHasher()
    hasher.update(DKIMHeaderBlock.split(sampleMessage[...]).body)
    return Data(hasher.finalize()).base64EncodedString()
}()

func status(_ message: [UInt8], record: String? = TestKeys.ed25519.dnsRecord, at time: Date = signingTime) -> [DKIMSignatureStatus] {
    DKIMVerifier.verify(message: message, at: time) { _, _ in record }.signatures.map(\.status)
}

func ed25519Value(_ extraTags: String, names: String = "from:to:subject") -> String {
    " v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.com; s=ed2025; t=1735689600;\(extraTags) h=\(names); bh=\(sampleBodyHash); b="
}

@Suite struct VerifierTests {
    let names = ["from", "to", "subject"]

    @Test func unsignedMessageHasNoResults() {
        let result = DKIMVerifier.verify(message: sampleMessage, dnsRecord: TestKeys.lookup)
        #expect(result.signatures.isEmpty && !result.hasPass)
    }

    @Test func keyRecordProblems() throws {
        let message = try signed(sampleMessage, by: [TestKeys.signers[1]])
        #expect(status(message, record: nil) == [.fail(.keyUnavailable)])
        #expect(status(message, record: "v=DKIM1; k=ed25519; p=") == [.fail(.keyRevoked)])
        #expect(status(message, record: TestKeys.rsa.dnsRecord) == [.fail(.keyUnsuitable("k=rsa for a=ed25519-sha256"))])
        #expect(status(message, record: TestKeys.ed25519.dnsRecord + "; h=sha1") == [.fail(.keyUnsuitable("h=sha1"))])
        #expect(status(message, record: TestKeys.ed25519.dnsRecord + "; s=other") == [.fail(.keyUnsuitable("s=other"))])
        #expect(status(message, record: TestKeys.ed25519.dnsRecord + "; s=email; h=sha256; t=y") == [.pass])
        #expect(status(message, record: "garbage") == [.fail(.malformedKey("tag list: missingEquals"))])
        #expect(status(message, record: "v=DKIM2; k=ed25519; p=\(TestKeys.ed25519.publicKeyBase64)") == [.fail(.malformedKey("v=DKIM2"))])
        #expect(status(message, record: "v=DKIM1; k=ed25519; p=!!!") == [.fail(.malformedKey("p= is not base64"))])
        #expect(status(message, record: "v=DKIM1; k=ed25519; p=AAAA") == [.fail(.malformedKey("not a 32-byte Ed25519 public key"))])
        #expect(status(message, record: "v=DKIM1; k=ed25519") == [.fail(.malformedKey("no p="))])
        // A key record split into TXT strings and joined with whitespace inside p= still works.
        let p = TestKeys.ed25519.publicKeyBase64
        let split = "v=DKIM1; k=ed25519; p=\(p.prefix(20)) \(p.dropFirst(20))"
        #expect(status(message, record: split) == [.pass])
    }

    @Test func rsaKeyRecordProblems() throws {
        let message = try signed(sampleMessage, by: [TestKeys.signers[0]])
        #expect(status(message, record: TestKeys.rsa.dnsRecord) == [.pass])
        #expect(status(message, record: "v=DKIM1; p=\(TestKeys.rsa.publicKeyBase64)") == [.pass])  // k= defaults to rsa
        #expect(status(message, record: TestKeys.ed25519.dnsRecord) == [.fail(.keyUnsuitable("k=ed25519 for a=rsa-sha256"))])
        #expect(status(message, record: "v=DKIM1; k=rsa; p=AAAA") == [.fail(.malformedKey("not an RSA public key of 1024 bits or more"))])
    }

    @Test func expiry() throws {
        let message = try customSigned(sampleMessage, value: ed25519Value(" x=1735689700;"), names: names, key: TestKeys.ed25519)
        #expect(status(message, at: Date(timeIntervalSince1970: 1_735_689_650)) == [.pass])
        #expect(status(message, at: Date(timeIntervalSince1970: 1_735_689_800)) == [.fail(.expired)])
        let backwards = try customSigned(sampleMessage, value: ed25519Value(" x=1735689500;"), names: names, key: TestKeys.ed25519)
        #expect(status(backwards) == [.fail(.malformedSignature("x= before t="))])
    }

    @Test func identity() throws {
        let cases: [(String, String?, DKIMSignatureStatus)] = [
            (" i=@example.com;", nil, .pass),
            (" i=alice@mail.example.com;", nil, .pass),
            (" i=alice@example.org;", nil, .fail(.identityNotInDomain)),
            (" i=alice@badexample.com;", nil, .fail(.identityNotInDomain)),
            (" i=alice@mail.example.com;", "; t=s", .fail(.keyUnsuitable("t=s"))),
            (" i=@example.com;", "; t=s", .pass),
        ]
        for (tags, recordSuffix, expected) in cases {
            let message = try customSigned(sampleMessage, value: ed25519Value(tags), names: names, key: TestKeys.ed25519)
            #expect(status(message, record: TestKeys.ed25519.dnsRecord + (recordSuffix ?? "")) == [expected], "\(tags)")
        }
    }

    @Test func bodyLengthTag() throws {
        // l=10 covers "Hi Bob,\r\n\r" of the canonical body.
        var hasher = DKIMBodyHasher(limit: 10)
        hasher.update(DKIMHeaderBlock.split(sampleMessage[...]).body)
        let limitedHash = Data(hasher.finalize()).base64EncodedString()
        let value = " v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.com; s=ed2025; l=10; h=from; bh=\(limitedHash); b="
        let message = try customSigned(sampleMessage, value: value, names: ["from"], key: TestKeys.ed25519)
        #expect(status(message) == [.pass])
        #expect(status(message + bytes("appended text\r\n")) == [.pass])

        let tooLong = value.replacingOccurrences(of: "l=10", with: "l=100000")
        let overLength = try customSigned(sampleMessage, value: tooLong, names: ["from"], key: TestKeys.ed25519)
        #expect(status(overLength) == [.fail(.bodyShorterThanLength)])
    }

    @Test func malformedSignatures() throws {
        let cases: [(String, [String], DKIMFailureReason)] = [
            (" v=1; v=1; a=ed25519-sha256; d=example.com; s=s; h=from; bh=\(sampleBodyHash); b=", ["from"],
             .malformedSignature("tag list: duplicateTag(\"v\")")),
            (" v=1; a=ed25519-sha256; d=example.com; s=s; h=from; b=", ["from"], .malformedSignature("missing bh=")),
            (" v=2; a=ed25519-sha256; d=example.com; s=s; h=from; bh=\(sampleBodyHash); b=", ["from"], .unsupportedVersion("2")),
            (" v=1; a=rsa-sha1; d=example.com; s=s; h=from; bh=\(sampleBodyHash); b=", ["from"], .unsupportedAlgorithm("rsa-sha1")),
            (" v=1; a=ed25519-sha256; c=bogus/relaxed; d=example.com; s=s; h=from; bh=\(sampleBodyHash); b=", ["from"],
             .unsupportedCanonicalization("bogus/relaxed")),
            (" v=1; a=ed25519-sha256; q=other; d=example.com; s=s; h=from; bh=\(sampleBodyHash); b=", ["from"],
             .unsupportedQueryMethod("other")),
            (" v=1; a=ed25519-sha256; d=example.com; s=s; h=to:subject; bh=\(sampleBodyHash); b=", ["to", "subject"], .fromNotSigned),
            (" v=1; a=ed25519-sha256; d=exa mple.com; s=s; h=from; bh=\(sampleBodyHash); b=", ["from"],
             .malformedSignature("d= is not a domain name")),
            (" v=1; a=ed25519-sha256; d=example.com; s=s; h=from::to; bh=\(sampleBodyHash); b=", ["from"],
             .malformedSignature("h= has an empty or invalid name")),
            (" v=1; a=ed25519-sha256; d=example.com; s=s; t=soon; h=from; bh=\(sampleBodyHash); b=", ["from"],
             .malformedSignature("t= is not a number")),
            (" v=1; a=ed25519-sha256; d=example.com; s=s; h=from; bh=AAAA; b=", ["from"],
             .malformedSignature("bh= is not a base64 SHA-256 digest")),
        ]
        for (value, signedNames, reason) in cases {
            let message = try customSigned(sampleMessage, value: value, names: signedNames, key: TestKeys.ed25519)
            #expect(status(message) == [.fail(reason)], "\(value)")
        }
        let noSignature = bytes("DKIM-Signature: v=1; a=ed25519-sha256; d=example.com; s=s; h=from; bh=\(sampleBodyHash); b=!!\r\n")
        #expect(status(noSignature + sampleMessage) == [.fail(.malformedSignature("b= is not base64"))])
        let garbage = bytes("DKIM-Signature: this is not a tag list\r\n")
        let result = DKIMVerifier.verify(message: garbage + sampleMessage) { _, _ in nil }
        #expect(result.signatures == [DKIMSignatureResult(domain: "", selector: "", algorithm: "",
                                                          status: .fail(.malformedSignature("tag list: missingEquals")))])
    }

    @Test func simpleCanonicalizationVerifies() throws {
        // The signer only makes relaxed/relaxed; simple is for inbound mail. Build one by hand.
        let body = DKIMHeaderBlock.split(sampleMessage[...]).body
        let bodyHash = Data(sha256(DKIMCanonicalization.simpleBody(body))).base64EncodedString()
        let value = " v=1; a=ed25519-sha256; c=simple/simple; d=example.com; s=ed2025; h=from:subject; bh=\(bodyHash); b="
        let fields = DKIMHeaderBlock.fields(in: DKIMHeaderBlock.split(sampleMessage[...]).header)
        var input: [UInt8] = []
        for index in DKIMHeaderBlock.select(["from", "subject"], from: fields) {
            input += DKIMCanonicalization.simpleHeaderWithoutLineEnd(name: fields[index].name, value: fields[index].value) + [13, 10]
        }
        input += bytes("DKIM-Signature:" + value)
        let signature = try TestKeys.ed25519.signature(forHeaderHash: .init(sha256Of: input))
        let message = bytes("DKIM-Signature:" + value + Data(signature).base64EncodedString() + "\r\n") + sampleMessage
        #expect(status(message) == [.pass])
        // Simple is strict: refolding a signed field breaks it.
        let refolded = String(decoding: message, as: UTF8.self).replacingOccurrences(of: "Lunch\r\n on", with: "Lunch on")
        #expect(status(bytes(refolded)) == [.fail(.signatureMismatch)])
        // And a changed trailing space in the body breaks the body hash.
        let respaced = String(decoding: message, as: UTF8.self).replacingOccurrences(of: "lunch?  ", with: "lunch? ")
        #expect(status(bytes(respaced)) == [.fail(.bodyHashMismatch)])
    }

    @Test func signatureCountIsBounded() throws {
        let field = try TestKeys.signers[1].signatureField(message: sampleMessage, at: signingTime)
        let message = bytes(String(repeating: field, count: DKIMVerifier.maximumSignatures + 2)) + sampleMessage
        let statuses = status(message)
        #expect(statuses.count == DKIMVerifier.maximumSignatures + 2)
        #expect(statuses.prefix(DKIMVerifier.maximumSignatures).allSatisfy { $0 == .pass })
        #expect(statuses.suffix(2) == [.fail(.notEvaluated), .fail(.notEvaluated)])
    }

    @Test func damagedMessagesAndGarbageDoNotPass() throws {
        var random = SplitMix64(seed: 42)
        let signedMessage = try signed(sampleMessage)
        let bodyStart = signedMessage.count - DKIMHeaderBlock.split(signedMessage[...]).body.count
        let signatureFieldsEnd = signedMessage.count - sampleMessage.count
        for round in 0..<400 {
            // One byte replaced by a letter it was not. Inside one signature field it breaks that signature;
            // anywhere in the signed fields or the body it breaks both. The exception: the unused low bits
            // of the last base64 character of b= (RFC 4648 §3.5), which leave the signature bytes as they were.
            var message = signedMessage
            let position = Int(random.next() % UInt64(message.count))
            message[position] = message[position] == UInt8(ascii: "q") ? UInt8(ascii: "z") : UInt8(ascii: "q")
            let passes = DKIMVerifier.verify(message: message, dnsRecord: TestKeys.lookup).signatures.filter(\.passed).count
            if position >= bodyStart {
                #expect(passes == 0, "round \(round), byte \(position)")
            } else if passes == 2 {
                #expect(position < signatureFieldsEnd && decodedSignatures(message) == decodedSignatures(signedMessage),
                        "round \(round), byte \(position)")
            }

            let garbage = (0..<Int(random.next() % 2048)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            #expect(!DKIMVerifier.verify(message: bytes("DKIM-Signature: v=1; a=rsa-sha256; ") + garbage,
                                         dnsRecord: TestKeys.lookup).hasPass)
        }
    }
}

/// The decoded b= values of the DKIM-Signature fields (nil where missing or not base64).
func decodedSignatures(_ message: [UInt8]) -> [[UInt8]?] {
    DKIMHeaderBlock.fields(in: DKIMHeaderBlock.split(message[...]).header)
        .filter { $0.key == "dkim-signature" }
        .map { field in
            (try? DKIMTagList(field.value))?["b"].flatMap { Data(base64Encoded: DKIMTagList.removingFWS($0)) }.map(Array.init)
        }
}

extension SHA256Digest {
    init(sha256Of bytes: [UInt8]) {
        self = SHA256.hash(data: bytes)
    }
}

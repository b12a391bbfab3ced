import Crypto
import Foundation
import Testing
import _CryptoExtras

@testable import DKIM

@Suite struct KeyTests {
    @Test(arguments: [DKIMAlgorithm.rsaSHA256, .ed25519SHA256])
    func pemRoundTrip(algorithm: DKIMAlgorithm) throws {
        let key = algorithm == .rsaSHA256 ? TestKeys.rsa : TestKeys.ed25519
        let pem = key.pemRepresentation
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        #expect(pem.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("-----END PRIVATE KEY-----"))
        let reloaded = try DKIMPrivateKey(pem: pem)
        #expect(reloaded.algorithm == algorithm)
        #expect(reloaded.publicKeyBase64 == key.publicKeyBase64)
        #expect(reloaded.pemRepresentation == pem)
        // The reloaded key signs what the original's record verifies.
        let field = try DKIMSigner(domain: "example.com", selector: "s", key: reloaded).signatureField(message: sampleMessage)
        let result = DKIMVerifier.verify(message: bytes(field) + sampleMessage) { _, _ in key.dnsRecord }
        #expect(result.signatures.map(\.status) == [.pass])
    }

    @Test func acceptsPKCS1RSAKeys() throws {
        let pkcs1 = try _RSA.Signing.PrivateKey(pemRepresentation: TestKeys.rsa.pemRepresentation).pemRepresentation
        #expect(pkcs1.hasPrefix("-----BEGIN RSA PRIVATE KEY-----"))
        let key = try DKIMPrivateKey(pem: pkcs1)
        #expect(key.algorithm == .rsaSHA256)
        #expect(key.publicKeyBase64 == TestKeys.rsa.publicKeyBase64)
        #expect(key.pemRepresentation == TestKeys.rsa.pemRepresentation)
    }

    @Test func generatedKeySizes() throws {
        let rsaPublic = try #require(Data(base64Encoded: TestKeys.rsa.publicKeyBase64))
        #expect(try _RSA.Signing.PublicKey(derRepresentation: rsaPublic).keySizeInBits == 2048)
        #expect(Data(base64Encoded: TestKeys.ed25519.publicKeyBase64)?.count == 32)
        #expect(TestKeys.rsa.algorithm == .rsaSHA256 && TestKeys.ed25519.algorithm == .ed25519SHA256)
    }

    @Test func dnsRecordFormat() throws {
        #expect(TestKeys.rsa.dnsRecord == "v=DKIM1; k=rsa; p=\(TestKeys.rsa.publicKeyBase64)")
        #expect(TestKeys.ed25519.dnsRecord == "v=DKIM1; k=ed25519; p=\(TestKeys.ed25519.publicKeyBase64)")
        // RFC 8463 §4.2: the Ed25519 p= is the bare key, 44 base64 characters.
        #expect(TestKeys.ed25519.publicKeyBase64.count == 44)
        // RSA p= is a SubjectPublicKeyInfo (starts with SEQUENCE, rsaEncryption OID inside).
        let spki = try #require(Data(base64Encoded: TestKeys.rsa.publicKeyBase64))
        #expect(spki.first == 0x30)
        #expect(Array(spki).windows(PKCS8.rsaOID.count).contains(PKCS8.rsaOID))

        let strings = TestKeys.rsa.dnsRecordStrings
        #expect(strings.count == 2 && strings.allSatisfy { $0.utf8.count <= 255 })
        #expect(strings.joined() == TestKeys.rsa.dnsRecord)
        #expect(TestKeys.ed25519.dnsRecordStrings == [TestKeys.ed25519.dnsRecord])
    }

    @Test func rejectsUnusableKeys() {
        let cases: [String] = [
            "",
            "not a key",
            "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n",
            "-----BEGIN RSA PRIVATE KEY-----\nMAA=\n-----END RSA PRIVATE KEY-----\n",
            // A P-256 key in PKCS#8: neither RSA nor Ed25519.
            P256.Signing.PrivateKey().pemRepresentation,
            // A truncated Ed25519 key.
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v\n-----END PRIVATE KEY-----\n",
        ]
        for pem in cases {
            #expect(throws: DKIMError.self, "\(pem)") { try DKIMPrivateKey(pem: pem) }
        }
    }
}

extension Array where Element == UInt8 {
    func windows(_ size: Int) -> [ArraySlice<UInt8>] {
        guard size > 0, count >= size else { return [] }
        return (0...(count - size)).map { self[$0..<($0 + size)] }
    }
}

extension Array where Element == ArraySlice<UInt8> {
    func contains(_ bytes: [UInt8]) -> Bool { contains { $0.elementsEqual(bytes) } }
}

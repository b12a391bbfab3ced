import Testing
@testable import MailStore

@Suite struct PasswordHashTests {
    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    // RFC 7914 §12 test vectors (the first one has an empty password, which we refuse by design).
    @Test func rfc7914Vector2() throws {
        let out = try PasswordHash.derive(Array("password".utf8), salt: Array("NaCl".utf8), logN: 10, r: 8, p: 16, length: 64)
        #expect(Self.hex(out) == "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")
    }

    @Test func rfc7914Vector3() throws {
        let out = try PasswordHash.derive(Array("pleaseletmein".utf8), salt: Array("SodiumChloride".utf8), logN: 14, r: 8, p: 1, length: 64)
        #expect(Self.hex(out) == "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887")
    }

    @Test func verifyRightAndWrong() throws {
        let hash = try PasswordHash.make(password: "correct horse battery", logN: 10)
        #expect(hash.verify("correct horse battery"))
        #expect(!hash.verify("correct horse batterY"))
        #expect(!hash.verify(""))
        #expect(!hash.verify("correct horse battery "))
        let again = try PasswordHash(encoded: hash.encoded)
        #expect(again == hash)
        #expect(again.verify("correct horse battery"))
        #expect(!hash.description.contains(Base64NoPad.encode(hash.hash)))
    }

    @Test func saltsDiffer() throws {
        let a = try PasswordHash.make(password: "same password", logN: 10)
        let b = try PasswordHash.make(password: "same password", logN: 10)
        #expect(a.salt != b.salt)
        #expect(a.hash != b.hash)
    }

    @Test func defaultCostIsStrong() throws {
        let hash = try PasswordHash.make(password: "x-strong-enough")
        #expect(hash.logN >= 15)
        #expect(hash.encoded.hasPrefix("$scrypt$ln=15,r=8,p=1$"))
    }

    @Test(arguments: ["", "$scrypt$", "$scrypt$ln=15,r=8$AAAA$BBBB", "$bcrypt$ln=15,r=8,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
                      "$scrypt$ln=99,r=8,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "$scrypt$ln=15,r=8,p=1$!!$AAAAAAAAAAAAAAAAAAAAAA"])
    func malformedEncodings(_ text: String) {
        #expect(throws: PasswordHash.Failure.malformed) { try PasswordHash(encoded: text) }
    }

    @Test func emptyPasswordRefused() {
        #expect(throws: PasswordHash.Failure.emptyPassword) { try PasswordHash.make(password: "", logN: 10) }
    }

    @Test func generatedPasswords() throws {
        let a = PasswordGenerator.generate()
        let b = PasswordGenerator.generate()
        #expect(a != b)
        #expect(a.count == 23)
        try PasswordGenerator.check(a)
    }
}

@Suite struct EmailAddressTests {
    @Test func caseInsensitiveKeyKeepsGivenForm() throws {
        let a = try EmailAddress("Alice.Smith@Example.ORG")
        #expect(a.given == "Alice.Smith@Example.ORG")
        #expect(a.key == "alice.smith@example.org")
        #expect(a == (try EmailAddress("alice.smith@example.org")))
    }

    @Test(arguments: ["", "nobody", "@example.org", "a@", "a b@example.org", "a..b@example.org", ".a@example.org",
                      "a@exa mple.org", "a@-example.org", "a@example..org", "a\u{0}b@example.org",
                      String(repeating: "x", count: 65) + "@example.org"])
    func malformed(_ text: String) {
        #expect(throws: DirectoryError.malformedAddress(text)) { try EmailAddress(text) }
    }

    @Test func utf8LocalPart() throws {
        let a = try EmailAddress("Jörg@Bücher.example")
        #expect(a.key == "jörg@bücher.example")
    }
}

import Testing
@testable import SMTPProtocol

@Suite("SASL base64, PLAIN and LOGIN")
struct SASLTests {
    @Test("RFC 4648 §10 test vectors")
    func base64Vectors() {
        let vectors = [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")]
        for (plain, encoded) in vectors {
            #expect(SASLBase64.encode(bytes(plain)) == encoded)
            #expect(SASLBase64.decode(bytes(encoded)) == bytes(plain))
        }
        #expect(SASLBase64.decode(bytes("+/+/")) == [0xFB, 0xFF, 0xBF])
    }

    @Test("strict decoding refuses garbage", arguments: [
        "Zg=", "Zg", "Z===", "====", "Zh==", "Zm9=", "Zm 9v", "Zm9v\n", "Zg==Zg==", "Zm9v!", "Zm9v-_", "Zm=v", "=Zm9", "Zg=A", "é",
    ])
    func base64Garbage(text: String) {
        #expect(SASLBase64.decode(bytes(text)) == nil)
        #expect(SASLResponse.decode(line: bytes(text)) == .failure(.invalidBase64))
    }

    @Test("base64 round-trips random data of every small length")
    func base64RoundTrip() {
        var rng = SplitMix64(seed: 4648)
        for length in 0...64 {
            let data = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(SASLBase64.decode(bytes(SASLBase64.encode(data))) == data)
        }
    }

    @Test("PLAIN messages (RFC 4616 §4 examples)")
    func plainVectors() throws {
        let tim = try SASLPlain.decode(bytes("\0tim\0tanstaaftanstaaf")).get()
        #expect(tim == SASLCredentials(authorizationID: nil, authenticationID: "tim", password: "tanstaaftanstaaf"))
        let kurt = try SASLPlain.decode(bytes("Ursel\0Kurt\0xipj3plmq")).get()
        #expect(kurt.authorizationID == "Ursel" && kurt.authenticationID == "Kurt" && kurt.password == "xipj3plmq")
        let utf8 = try SASLPlain.decode(bytes("\0jürgen\0pässwörd ☃")).get()
        #expect(utf8.authenticationID == "jürgen" && utf8.password == "pässwörd ☃")
    }

    @Test("malformed PLAIN messages are refused", arguments: [
        bytes("timtanstaaf"), bytes("tim\0tanstaaf"), bytes("a\0b\0c\0d"), bytes("\0\0pass"), bytes("\0tim\0"),
        bytes("\0tim\0") + [0xFF], bytes("\0") + [0xC0, 0xAF] + bytes("\0pw"), [0xED, 0xA0, 0x80] + bytes("\0tim\0pw"), [], bytes("\0\0"),
    ])
    func plainMalformed(message: [UInt8]) {
        #expect(SASLPlain.decode(message) == .failure(.malformedResponse))
    }

    @Test("PLAIN exchange with and without an initial response")
    func plainExchange() throws {
        var withResponse = try #require(SASLServerExchange(mechanism: "plain"))
        #expect(withResponse.mechanism == .plain)
        #expect(withResponse.start(initialResponse: bytes("\0tim\0tanstaaftanstaaf"))
                == .credentials(SASLCredentials(authorizationID: nil, authenticationID: "tim", password: "tanstaaftanstaaf")))
        #expect(withResponse.receive(line: bytes("AHRpbQB4")) == .failure(.exchangeFinished))

        var withoutResponse = try #require(SASLServerExchange(mechanism: "PLAIN"))
        #expect(withoutResponse.start(initialResponse: nil) == .challenge([]))
        #expect(withoutResponse.receive(line: bytes("AHRpbQB0YW5zdGFhZnRhbnN0YWFm"))
                == .credentials(SASLCredentials(authorizationID: nil, authenticationID: "tim", password: "tanstaaftanstaaf")))

        var empty = try #require(SASLServerExchange(mechanism: "PLAIN"))
        #expect(empty.start(initialResponse: []) == .failure(.malformedResponse))  // "AUTH PLAIN ="
        #expect(SASLError.malformedResponse.reply == .authenticationFailed)
    }

    @Test("cancel with \"*\" and undecodable responses")
    func cancelAndGarbage() throws {
        var plain = try #require(SASLServerExchange(mechanism: "PLAIN"))
        _ = plain.start(initialResponse: nil)
        let cancelled = plain.receive(line: bytes("*"))
        #expect(cancelled == .failure(.cancelled))
        #expect(SASLError.cancelled.reply.encode() == bytes("501 5.0.0 Authentication cancelled\r\n"))

        var login = try #require(SASLServerExchange(mechanism: "LOGIN"))
        _ = login.start(initialResponse: nil)
        #expect(login.receive(line: bytes("dGlt!")) == .failure(.invalidBase64))
        #expect(SASLError.invalidBase64.reply.code == 501 && SASLError.invalidBase64.reply.enhancedCode == EnhancedStatusCode(5, 5, 2))
        #expect(SASLResponse.decode(line: bytes("")) == .success([]))
        #expect(SASLResponse.decode(line: bytes("**")) == .failure(.invalidBase64))
    }

    @Test("LOGIN exchange with the standard prompts")
    func loginExchange() throws {
        var login = try #require(SASLServerExchange(mechanism: "login"))
        let first = login.start(initialResponse: nil)
        #expect(first == .challenge(bytes("Username:")))
        if case .challenge(let prompt) = first { #expect(SASLBase64.encode(prompt) == "VXNlcm5hbWU6") }
        let second = login.receive(line: bytes(SASLBase64.encode(bytes("tim"))))
        #expect(second == .challenge(bytes("Password:")))
        if case .challenge(let prompt) = second { #expect(SASLBase64.encode(prompt) == "UGFzc3dvcmQ6") }
        #expect(login.receive(line: bytes(SASLBase64.encode(bytes("tanstaaf"))))
                == .credentials(SASLCredentials(authorizationID: nil, authenticationID: "tim", password: "tanstaaf")))
        #expect(login.receive(line: bytes("eA==")) == .failure(.exchangeFinished))
    }

    @Test("LOGIN with the user name as initial response, and refusals")
    func loginVariants() throws {
        var withUser = SASLLogin()
        #expect(withUser.start(initialResponse: bytes("tim")) == .challenge(SASLLogin.passwordPrompt))
        #expect(withUser.receive(bytes("pw")) == .credentials(SASLCredentials(authorizationID: nil, authenticationID: "tim", password: "pw")))

        var emptyUser = SASLLogin()
        _ = emptyUser.start(initialResponse: nil)
        #expect(emptyUser.receive([]) == .failure(.malformedResponse))
        #expect(emptyUser.receive(bytes("x")) == .failure(.exchangeFinished))

        var emptyPassword = SASLLogin()
        _ = emptyPassword.start(initialResponse: nil)
        _ = emptyPassword.receive(bytes("tim"))
        #expect(emptyPassword.receive([]) == .failure(.malformedResponse))

        var badUTF8 = SASLLogin()
        _ = badUTF8.start(initialResponse: nil)
        _ = badUTF8.receive(bytes("tim"))
        #expect(badUTF8.receive([0x70, 0xFF]) == .failure(.malformedResponse))

        var nul = SASLLogin()
        #expect(nul.start(initialResponse: [0x61, 0, 0x62]) == .failure(.malformedResponse))

        var cancelAtPassword = try #require(SASLServerExchange(mechanism: "LOGIN"))
        _ = cancelAtPassword.start(initialResponse: bytes("tim"))
        #expect(cancelAtPassword.receive(line: bytes("*")) == .failure(.cancelled))
    }

    @Test("unsupported mechanisms and redacted credentials")
    func misc() {
        #expect(SASLServerExchange(mechanism: "CRAM-MD5") == nil)
        #expect(SASLServerExchange(mechanism: "") == nil)
        let credentials = SASLCredentials(authorizationID: nil, authenticationID: "tim", password: "hunter2")
        #expect(!credentials.description.contains("hunter2"))
        #expect(!String(reflecting: credentials).contains("hunter2"))
        #expect(!"\(credentials)".contains("hunter2"))
    }
}

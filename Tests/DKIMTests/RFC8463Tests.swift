import Foundation
import Testing

@testable import DKIM

/// The example of RFC 8463 Appendix A: keys (A.1), DNS records (A.2) and the signed message (A.3).
enum RFC8463 {
    /// A.1: the Ed25519 secret key (the RFC 8032 §7.1 test 1 seed), raw and base64.
    static let ed25519Seed = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="
    static let ed25519PublicKey = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

    /// A.1: the RSA key, PKCS#1 PEM (1024 bits).
    static let rsaPEM = """
        -----BEGIN RSA PRIVATE KEY-----
        MIICXQIBAAKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQi
        Y/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqM
        KrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB
        AoGAH0cxOhFZDgzXWhDhnAJDw5s4roOXN4OhjiXa8W7Y3rhX3FJqmJSPuC8N9vQm
        6SVbaLAE4SG5mLMueHlh4KXffEpuLEiNp9Ss3O4YfLiQpbRqE7Tm5SxKjvvQoZZe
        zHorimOaChRL2it47iuWxzxSiRMv4c+j70GiWdxXnxe4UoECQQDzJB/0U58W7RZy
        6enGVj2kWF732CoWFZWzi1FicudrBFoy63QwcowpoCazKtvZGMNlPWnC7x/6o8Gc
        uSe0ga2xAkEA8C7PipPm1/1fTRQvj1o/dDmZp243044ZNyxjg+/OPN0oWCbXIGxy
        WvmZbXriOWoSALJTjExEgraHEgnXssuk7QJBALl5ICsYMu6hMxO73gnfNayNgPxd
        WFV6Z7ULnKyV7HSVYF0hgYOHjeYe9gaMtiJYoo0zGN+L3AAtNP9huqkWlzECQE1a
        licIeVlo1e+qJ6Mgqr0Q7Aa7falZ448ccbSFYEPD6oFxiOl9Y9se9iYHZKKfIcst
        o7DUw1/hz2Ck4N5JrgUCQQCyKveNvjzkkd8HjYs0SwM0fPjK16//5qDZ2UiDGnOe
        uEzxBDAr518Z8VFbR41in3W4Y3yCDgQlLlcETrS+zYcL
        -----END RSA PRIVATE KEY-----
        """

    /// A.2: the key records.
    static let records = [
        "brisbane._domainkey.football.example.com": "v=DKIM1; k=ed25519; p=\(ed25519PublicKey)",
        "test._domainkey.football.example.com": "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWR"
            + "iGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutAC"
            + "DfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3"
            + "Ip3G+2kryOTIKT+l/K4w3QIDAQAB",
    ]

    /// A.3: the two signature field values up to and including "b=", and the b= values.
    static let ed25519Unsigned = """
         v=1; a=ed25519-sha256; c=relaxed/relaxed;\r
         d=football.example.com; i=@football.example.com;\r
         q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r
         subject : date : message-id : from : subject : date;\r
         bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r
         b=
        """
    static let ed25519Signature = "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw=="
    static let rsaUnsigned = """
         v=1; a=rsa-sha256; c=relaxed/relaxed;\r
         d=football.example.com; i=@football.example.com;\r
         q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r
         date : message-id : from : subject : date;\r
         bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r
         b=
        """
    static let rsaSignature = "F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8="

    static let unsignedMessage = """
        From: Joe SixPack <joe@football.example.com>\r
        To: Suzie Q <suzie@shopping.example.net>\r
        Subject: Is dinner ready?\r
        Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r
        Message-ID: <20030712040037.46341.5F8J@football.example.com>\r
        \r
        Hi.\r
        \r
        We lost the game.  Are you hungry yet?\r
        \r
        Joe.\r

        """

    static var signedMessage: String {
        "DKIM-Signature:" + ed25519Unsigned + ed25519Signature + "\r\n"
            + "DKIM-Signature:" + rsaUnsigned + rsaSignature + "\r\n" + unsignedMessage
    }

    static let signedNames = ["from", "to", "subject", "date", "message-id", "from", "subject", "date"]

    /// The seed wrapped as PKCS#8 (RFC 8410 §7): SEQUENCE { 0, { id-Ed25519 }, OCTET STRING { OCTET STRING seed } }.
    static var ed25519PEM: String {
        let prefix: [UInt8] = [0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]
        let der = prefix + Array(Data(base64Encoded: ed25519Seed) ?? Data())
        return "-----BEGIN PRIVATE KEY-----\n\(Data(der).base64EncodedString())\n-----END PRIVATE KEY-----\n"
    }
}

@Suite struct RFC8463Tests {
    @Test func bodyHash() {
        let body = DKIMHeaderBlock.split(bytes(RFC8463.unsignedMessage)[...]).body
        var hasher = DKIMBodyHasher()
        hasher.update(body)
        #expect(Data(hasher.finalize()).base64EncodedString() == "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=")
    }

    @Test func keysMatchTheirRecords() throws {
        let ed25519 = try DKIMPrivateKey(pem: RFC8463.ed25519PEM)
        #expect(ed25519.algorithm == .ed25519SHA256)
        #expect(ed25519.publicKeyBase64 == RFC8463.ed25519PublicKey)
        #expect(ed25519.dnsRecord == RFC8463.records["brisbane._domainkey.football.example.com"])

        let rsa = try DKIMPrivateKey(pem: RFC8463.rsaPEM)
        #expect(rsa.algorithm == .rsaSHA256)
        #expect(rsa.dnsRecord == RFC8463.records["test._domainkey.football.example.com"])
    }

    /// Both algorithms are deterministic (Ed25519 by design, PKCS#1 v1.5 by construction), so the
    /// signatures of the RFC can be reproduced exactly.
    @Test func signaturesReproduceTheRFC() throws {
        let fields = DKIMHeaderBlock.fields(in: DKIMHeaderBlock.split(bytes(RFC8463.unsignedMessage)[...]).header)
        let cases = [
            (RFC8463.ed25519PEM, RFC8463.ed25519Unsigned, RFC8463.ed25519Signature),
            (RFC8463.rsaPEM, RFC8463.rsaUnsigned, RFC8463.rsaSignature),
        ]
        for (pem, unsigned, expected) in cases {
            let key = try DKIMPrivateKey(pem: pem)
            let signature = try DKIMSigner.sign(
                fields: fields, signedNames: RFC8463.signedNames, signatureFieldValue: unsigned, key: key)
            #if canImport(Darwin)
            // CryptoKit randomizes Ed25519 signatures on Apple platforms; verification below still applies.
            if key.algorithm == .ed25519SHA256 { continue }
            #endif
            #expect(Data(signature).base64EncodedString() == DKIMTagList.removingFWS(expected))
        }
    }

    @Test func verifierPassesTheRFCMessage() {
        let result = DKIMVerifier.verify(message: bytes(RFC8463.signedMessage)) { domain, selector in
            RFC8463.records["\(selector)._domainkey.\(domain)"]
        }
        #expect(result.signatures.map(\.status) == [.pass, .pass])
        #expect(result.signatures.map(\.algorithm) == ["ed25519-sha256", "rsa-sha256"])
        #expect(result.passed(domain: "football.example.com"))
    }

    @Test func ourSignerOnTheRFCMessageVerifies() throws {
        let signers = [
            DKIMSigner(domain: "football.example.com", selector: "brisbane", key: try DKIMPrivateKey(pem: RFC8463.ed25519PEM)),
            DKIMSigner(domain: "football.example.com", selector: "test", key: try DKIMPrivateKey(pem: RFC8463.rsaPEM)),
        ]
        let message = try signed(bytes(RFC8463.unsignedMessage), by: signers, at: Date(timeIntervalSince1970: 1_528_637_909))
        let text = String(decoding: message, as: UTF8.self)
        #expect(text.contains("bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;"))
        let result = DKIMVerifier.verify(message: message) { domain, selector in
            RFC8463.records["\(selector)._domainkey.\(domain)"]
        }
        #expect(result.signatures.map(\.status) == [.pass, .pass])
    }
}

import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Testing

@testable import MailServerCore

@Suite("TLS: STARTTLS, implicit TLS, certificates")
struct TLSTests {
    static let tls13Ciphers: Set<String> = [
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
    ]
    static let tls12Ciphers: Set<String> = [
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    ]

    @Test("STARTTLS: plaintext pipelined after the command is discarded, not executed")
    func startTLSDiscardsInjectedPlaintext() async throws {
        let serverTLS = try TestCertificate.serverTLS()
        let clientTLS = try TestCertificate.clientConfiguration()
        try await withListener(startTLS: serverTLS) { _, port in
            let replies = try await withClient(port: port) { client -> [String?] in
                var replies = [try await client.readLine()]
                try await client.send("TLSINFO\r\n")
                replies.append(try await client.readLine())
                // The injection: commands sent in plaintext in the same segment as STARTTLS.
                try await client.send("STARTTLS\r\nINJECTED\r\nQUIT\r\n")
                replies.append(try await client.readLine())
                try await client.startTLS(clientTLS)
                try await client.send("TLSINFO\r\nAFTER\r\nQUIT\r\n")
                for _ in 0..<3 { replies.append(try await client.readLine()) }
                return replies
            }
            #expect(replies.count == 6)
            #expect(replies[0] == "+READY")
            #expect(replies[1] == "+PLAIN")
            #expect(replies[2] == "+GO")
            let info = replies[3]?.split(separator: " ").map(String.init) ?? []
            #expect(info.count == 3 && info[0] == "+TLS" && info[1] == "TLSv1.3")
            #expect(info.count == 3 && Self.tls13Ciphers.contains(info[2]))
            // Had INJECTED been executed, "+ECHO INJECTED" (or an early +BYE) would come here.
            #expect(replies[4] == "+ECHO AFTER")
            #expect(replies[5] == "+BYE")
        }
    }

    @Test("STARTTLS without a configured certificate throws startTLSUnavailable; offersStartTLS is false")
    func startTLSUnavailable() async throws {
        let outcome = LockedBox<(Bool, MailConnectionError?)?>(nil)
        try await withListener(handler: { connection in
            do {
                try await connection.startTLS()
                outcome.withLock { $0 = (connection.offersStartTLS, nil) }
            } catch let error as MailConnectionError {
                outcome.withLock { $0 = (connection.offersStartTLS, error) }
            } catch {}
            try? await connection.write("+DONE\r\n", flush: true)
        }) { _, port in
            let reply = try await withClient(port: port) { client in try await client.readLine() }
            #expect(reply == "+DONE")
        }
        let (offered, error) = try #require(outcome.withLock { $0 })
        #expect(offered == false)
        #expect(error == .startTLSUnavailable)
    }

    @Test("implicit TLS: TLS 1.3 and 1.2 clients connect; tlsInfo reports version and cipher")
    func implicitTLSVersions() async throws {
        let serverTLS = try TestCertificate.serverTLS()
        let tls13 = try TestCertificate.clientConfiguration()
        let tls12 = try TestCertificate.clientConfiguration(maximum: .tlsv12)
        try await withListener(implicitTLS: serverTLS) { _, port in
            for (configuration, version, ciphers) in [
                (tls13, "TLSv1.3", Self.tls13Ciphers), (tls12, "TLSv1.2", Self.tls12Ciphers),
            ] {
                let replies = try await withClient(port: port, tls: configuration) { client -> [String?] in
                    let greeting = try await client.readLine()
                    try await client.send("TLSINFO\r\nQUIT\r\n")
                    return [greeting, try await client.readLine(), try await client.readLine()]
                }
                #expect(replies[0] == "+READY")
                let info = replies[1]?.split(separator: " ").map(String.init) ?? []
                #expect(info.count == 3 && info[1] == version, "\(replies)")
                #expect(info.count == 3 && ciphers.contains(info[2]), "\(replies)")
                #expect(replies[2] == "+BYE")
            }
        }
    }

    @Test("implicit TLS: a client limited to TLS 1.1 is refused and never reaches the session")
    func implicitTLSRefusesOldVersions() async throws {
        let serverTLS = try TestCertificate.serverTLS()
        let tls11 = try TestCertificate.clientConfiguration(minimum: .tlsv1, maximum: .tlsv11)
        let sessions = LockedBox(0)
        try await withListener(implicitTLS: serverTLS, handler: { connection in
            sessions.withLock { $0 += 1 }
            await EchoSession.run(connection)
        }) { _, port in
            let reply: String? = try? await withClient(port: port, tls: tls11) { client in
                try await client.readLine()
            }
            #expect(reply == nil)
        }
        #expect(sessions.withLock { $0 } == 0)
    }

    @Test("implicit TLS: a client that never starts the handshake is dropped after the timeout")
    func implicitTLSHandshakeTimeout() async throws {
        let serverTLS = try TestCertificate.serverTLS()
        let listener = MailListener(
            name: "test", host: "127.0.0.1", port: 0, implicitTLS: serverTLS,
            maxConnections: 4, maxConnectionsPerAddress: 4, idleTimeout: .seconds(30),
            handshakeTimeout: .milliseconds(300), handler: EchoSession.run
        )
        let port = try await listener.bind()
        try await withTimeout {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await listener.run() }
                let started = ContinuousClock.now
                let received = try await withClient(port: port) { client in try await client.readToEnd() }
                #expect(received == "")
                #expect(ContinuousClock.now - started < .seconds(3))
                listener.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
    }

    @Test("the TLS policy: TLS 1.2 minimum, forward-secret AEAD suites, no renegotiation")
    func policy() throws {
        let serverTLS = try TestCertificate.serverTLS()
        _ = serverTLS
        let certificate = try NIOSSLCertificate.fromPEMFile(TestCertificate.directory + "/cert.pem")
        let key = try NIOSSLPrivateKey(file: TestCertificate.directory + "/key.pem", format: .pem)
        let configuration = ServerTLS.serverConfiguration(certificateChain: certificate, privateKey: key)
        #expect(configuration.minimumTLSVersion == .tlsv12)
        #expect(configuration.cipherSuites == "ECDHE+AESGCM:ECDHE+CHACHA20")
        #expect(configuration.renegotiationSupport == .none)
    }
}

@Suite("ServerTLS files")
struct ServerTLSFileTests {
    @Test("selfSigned generates once (0700 dir, 0600 key) and loads the same certificate afterwards")
    func selfSignedOnce() throws {
        let base = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let directory = base + "/tls"
        let first = try ServerTLS.selfSigned(hostname: "localhost", directory: directory)
        let keyMode = try FileManager.default.attributesOfItem(atPath: directory + "/key.pem")[.posixPermissions] as? Int
        let dirMode = try FileManager.default.attributesOfItem(atPath: directory)[.posixPermissions] as? Int
        #expect(keyMode == 0o600)
        #expect(dirMode == 0o700)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(leftovers == ["cert.pem", "key.pem"])

        let second = try ServerTLS.selfSigned(hostname: "localhost", directory: directory)
        #expect(first.leafFingerprintSHA256 == second.leafFingerprintSHA256)
        #expect(first.leafFingerprintSHA256.count == 32 * 3 - 1)
        #expect(second.certificatePath == directory + "/cert.pem")
    }

    @Test("load errors name the file: missing, not PEM, mismatched key")
    func loadErrors() throws {
        let base = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        _ = try ServerTLS.selfSigned(hostname: "mail.example.org", directory: base + "/a")
        _ = try ServerTLS.selfSigned(hostname: "mail.example.org", directory: base + "/b")

        #expect {
            try ServerTLS.load(certPath: base + "/missing.pem", keyPath: base + "/a/key.pem")
        } throws: { error in
            guard case ServerTLSError.unreadableFile(let path, _) = error else { return false }
            return path == base + "/missing.pem"
        }

        try Data("not a certificate".utf8).write(to: URL(fileURLWithPath: base + "/junk.pem"))
        #expect {
            try ServerTLS.load(certPath: base + "/junk.pem", keyPath: base + "/a/key.pem")
        } throws: { error in
            guard case ServerTLSError.invalidCertificate(let path, _) = error else { return false }
            return path == base + "/junk.pem"
        }

        #expect(throws: ServerTLSError.keyDoesNotMatchCertificate(
            certificatePath: base + "/a/cert.pem", keyPath: base + "/b/key.pem"
        )) {
            try ServerTLS.load(certPath: base + "/a/cert.pem", keyPath: base + "/b/key.pem")
        }
        // The matching pair loads.
        _ = try ServerTLS.load(certPath: base + "/a/cert.pem", keyPath: base + "/a/key.pem")
    }

    @Test("generated certificate: SANs for the host name, loopback IPs for localhost, IP literals as IP SANs")
    func generatedNames() throws {
        #expect(SelfSignedCertificate.isLocalhostLike("localhost"))
        #expect(SelfSignedCertificate.isLocalhostLike("mail.localhost"))
        #expect(!SelfSignedCertificate.isLocalhostLike("mail.example.org"))
        #expect(SelfSignedCertificate.ipAddressBytes("127.0.0.1") == [127, 0, 0, 1])
        #expect(SelfSignedCertificate.ipAddressBytes("::1") == [UInt8](repeating: 0, count: 15) + [1])
        #expect(SelfSignedCertificate.ipAddressBytes("mail.example.org") == nil)

        // A client verifying "localhost" against the generated certificate is exercised by the TLS
        // tests; here, the IP literal case parses and loads.
        let generated = try SelfSignedCertificate.generate(hostname: "192.0.2.10")
        _ = try ServerTLS(
            pemCertificateChain: Array(generated.certificatePEM.utf8),
            pemPrivateKey: Array(generated.privateKeyPEM.utf8)
        )
    }
}

@Suite("ServerHello scanner")
struct ServerHelloScannerTests {
    /// A TLS 1.3-style ServerHello record: 32-byte session id echo, cipher 0x1302.
    static func serverHelloRecord(cipher: UInt16, sessionIDLength: Int = 32) -> [UInt8] {
        var body: [UInt8] = [0x03, 0x03]
        body += [UInt8](repeating: 0xAB, count: 32)
        body.append(UInt8(sessionIDLength))
        body += [UInt8](repeating: 0xCD, count: sessionIDLength)
        body += [UInt8(cipher >> 8), UInt8(cipher & 0xFF), 0x00]
        body += [0x00, 0x06, 0x00, 0x2B, 0x00, 0x02, 0x03, 0x04]  // supported_versions: TLS 1.3
        let handshake: [UInt8] = [0x02, 0x00, UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
        return [0x16, 0x03, 0x03, UInt8(handshake.count >> 8), UInt8(handshake.count & 0xFF)] + handshake
    }

    @Test("finds the cipher suite whatever the split point")
    func everySplit() {
        let record = Self.serverHelloRecord(cipher: 0x1302)
        let cipherEnd = 5 + 4 + 2 + 32 + 1 + 32 + 2
        for length in 0...record.count {
            let result = ServerHelloScanner.scan(Array(record[..<length]))
            if length >= cipherEnd {
                #expect(result == .cipherSuite(0x1302), "prefix \(length)")
            } else {
                #expect(result == .needMoreBytes, "prefix \(length)")
            }
        }
    }

    @Test("handshake fragmented over two records, and non-handshake input")
    func fragmentsAndGarbage() {
        let record = Self.serverHelloRecord(cipher: 0xC02B, sessionIDLength: 0)
        let handshake = Array(record[5...])
        let first = Array(handshake[..<20]), second = Array(handshake[20...])
        let fragmented = [0x16, 0x03, 0x03, 0x00, UInt8(first.count)] + first
            + [0x16, 0x03, 0x03, 0x00, UInt8(second.count)] + second
        #expect(ServerHelloScanner.scan(fragmented) == .cipherSuite(0xC02B))
        #expect(ServerHelloScanner.scan([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]) == .notServerHello)
        #expect(ServerHelloScanner.scan([0x16, 0x03, 0x03, 0x00, 0x04, 0x0B, 0x00, 0x00, 0x00]) == .notServerHello)
        var badSessionID = Self.serverHelloRecord(cipher: 0x1301)
        badSessionID[5 + 4 + 34] = 200
        #expect(ServerHelloScanner.scan(badSessionID) == .notServerHello)
        #expect(TLSInfo(version: "TLSv1.3", cipherSuite: 0x1301).description == "TLSv1.3 TLS_AES_128_GCM_SHA256")
        #expect(TLSInfo(version: "TLSv1.2", cipherSuite: 0x00FF).cipher == "0x00FF")
    }
}

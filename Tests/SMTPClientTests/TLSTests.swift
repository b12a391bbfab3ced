import Foundation
import MailServerCore
import MailTesting
import NIOCore
import NIOSSL
import Testing
@testable import SMTPClient

@Suite("STARTTLS")
struct TLSTests {
    @Test("bytes sent after the STARTTLS 220 are never read as a reply (RFC 3207 §6)")
    func startTLSInjection() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let serverTLS = try ServerTLS.selfSigned(hostname: "localhost", directory: directory.path)
        let script: FakeSMTPServer.Script = { command in
            if command == "STARTTLS" { return .startTLS("220 go ahead\r\n250 injected\r\n") }
            if command.hasPrefix("EHLO") { return .reply(ehloReply(["PIPELINING", "STARTTLS", "XAFTERTLS"])) }
            return standardScript()(command)
        }
        try await withFakeServer(tlsContext: serverTLS.sslContext, script: script) { server in
            let connection = try await SMTPClientConnection.connect(
                host: "localhost", port: server.port, settings: testSettings(tls: .required))
            let tls = try #require(connection.tls)
            #expect(tls.version == "TLSv1.3")
            #expect(tls.cipher.hasPrefix("TLS_"))
            // Had "250 injected" been taken as the EHLO reply, the real one would answer MAIL and all would shift.
            #expect(connection.helloReply.lines.first == "fake.test greets you")
            #expect(connection.extensions["XAFTERTLS"] != nil)
            let result = try await connection.send(message())
            #expect(result.mailFrom.description == "250 2.1.0 sender ok")
            #expect(result.isDelivered)
            await connection.quit()
            #expect(server.received.commands == [
                "EHLO client.test", "STARTTLS", "EHLO client.test",
                "MAIL FROM:<sender@client.test>", "RCPT TO:<rcpt@fake.test>", "DATA", "QUIT",
            ])
        }
    }

    @Test("a failed handshake is reported and closes the connection")
    func handshakeFailure() async throws {
        // The "server" answers 220 to STARTTLS and then plaintext to the ClientHello.
        let script = standardScript(ehlo: ["STARTTLS"]) { command in
            command == "STARTTLS" ? .replyThenAnswerAnything("220 ready\r\n", with: "500 what is this?\r\n") : nil
        }
        try await withFakeServer(script: script) { server in
            let error = await clientError {
                _ = try await SMTPClientConnection.connect(
                    host: "127.0.0.1", port: server.port, settings: testSettings(tls: .opportunistic))
            }
            guard case .tlsHandshakeFailed? = error else {
                Issue.record("expected tlsHandshakeFailed, got \(String(describing: error))")
                return
            }
        }
    }
}

/// A real peer: Python's aiosmtpd with STARTTLS required, a self-signed certificate from openssl, and a
/// handler that stores each message's content as received.
@Suite("Against aiosmtpd", .serialized)
struct AiosmtpdTests {
    static let toolsMissing: String? = {
        guard pythonAvailable() else { return "python3 not found" }
        guard let (status, _) = try? runPython("import aiosmtpd", []), status == 0 else { return "aiosmtpd not installed" }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else { return "openssl not found" }
        return nil
    }()

    static var toolsAvailable: Bool {
        if let reason = toolsMissing {
            print("Skipping aiosmtpd tests: \(reason)")
            return false
        }
        return true
    }

    @Test("STARTTLS upgrade, TLS details, byte-exact delivery", .enabled(if: toolsAvailable))
    func realStartTLS() async throws {
        try await AiosmtpdPeer.with { peer in
            let connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: peer.port, settings: testSettings(tls: .opportunistic))
            let tls = try #require(connection.tls)
            #expect(["TLSv1.3", "TLSv1.2"].contains(tls.version))
            #expect(tls.cipher != "unknown")
            #expect(tls.cipher.hasPrefix("TLS_"))
            #expect(connection.extensions["STARTTLS"] == nil)  // RFC 3207 §4.2: not offered again

            let prefix = Array("DKIM-Signature: v=1; a=rsa-sha256; d=client.test;\r\n\tb=abc\r\n".utf8)
            let body = Array("From: a@client.test\r\nTo: b@aiosmtpd.test\r\nSubject: exact\r\n\r\n.leading dot\r\n..two\r\n.\r\nbinary \u{00e9}\r\nlast line".utf8)
            var outgoing = message(from: "a@client.test", to: ["b@aiosmtpd.test", "c@aiosmtpd.test"], body: body, prefix: prefix)
            outgoing.eightBit = true
            let result = try await connection.send(outgoing)
            #expect(result.recipients.map(\.code) == [250, 250])
            #expect(result.data?.code == 250)
            #expect(result.data?.lines == ["stored"])
            await connection.quit()

            let stored = try peer.storedMessage(0)
            #expect(stored.content == prefix + body + [13, 10])
            #expect(stored.envelope == "a@client.test b@aiosmtpd.test,c@aiosmtpd.test tls=1")
        }
    }

    @Test("AUTH PLAIN after STARTTLS", .enabled(if: toolsAvailable))
    func realAuth() async throws {
        try await AiosmtpdPeer.with { peer in
            var settings = testSettings(tls: .required)
            settings.credentials = SMTPClientCredentials(username: "relay", password: "s3cret pass")
            let connection = try await SMTPClientConnection.connect(host: "127.0.0.1", port: peer.port, settings: settings)
            #expect(connection.isAuthenticated)
            #expect(try await connection.send(message(to: ["b@aiosmtpd.test"])).isDelivered)
            await connection.quit()

            settings.credentials = SMTPClientCredentials(username: "relay", password: "wrong")
            let error = await clientError {
                _ = try await SMTPClientConnection.connect(host: "127.0.0.1", port: peer.port, settings: settings)
            }
            guard case .authenticationFailed(let reply)? = error else {
                Issue.record("expected authenticationFailed, got \(String(describing: error))")
                return
            }
            #expect(reply.code == 535)
            #expect(error?.isPermanent == true)
        }
    }

    @Test("required TLS with certificate verification", .enabled(if: toolsAvailable))
    func realVerification() async throws {
        try await AiosmtpdPeer.with { peer in
            var settings = testSettings(tls: .required)
            settings.certificateVerification = .trustRoots(pemFile: peer.certificatePath)
            let verified = try await SMTPClientConnection.connect(host: "localhost", port: peer.port, settings: settings)
            #expect(verified.tls != nil)
            await verified.quit()

            settings.certificateVerification = .systemTrustRoots
            let error = await clientError {
                _ = try await SMTPClientConnection.connect(host: "localhost", port: peer.port, settings: settings)
            }
            guard case .tlsHandshakeFailed? = error else {
                Issue.record("expected tlsHandshakeFailed, got \(String(describing: error))")
                return
            }
        }
    }
}

/// Runs the aiosmtpd script in a child process; the port and each message go through files in a temp dir.
final class AiosmtpdPeer: Sendable {
    let port: Int
    let directory: URL
    private let process: Process

    var certificatePath: String { directory.appendingPathComponent("cert.pem").path }

    private init(port: Int, directory: URL, process: Process) {
        self.port = port
        self.directory = directory
        self.process = process
    }

    static let script = #"""
import asyncio, os, signal, ssl, sys
# A child spawned from a Dispatch thread inherits its blocked signals; let SIGTERM end us.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

directory = sys.argv[1]

def publish(name, data):
    path = os.path.join(directory, name)
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.rename(path + ".tmp", path)

class Handler:
    def __init__(self):
        self.count = 0
    async def handle_DATA(self, server, session, envelope):
        index = self.count
        self.count += 1
        publish("envelope-%d" % index, ("%s %s tls=%d" % (envelope.mail_from, ",".join(envelope.rcpt_tos),
                1 if session.ssl else 0)).encode())
        publish("message-%d" % index, envelope.original_content)
        return "250 stored"

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"relay" and auth_data.password == b"s3cret pass"
    return AuthResult(success=ok, handled=False)

async def main():
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem"))
    handler = Handler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, tls_context=context, require_starttls=True, hostname="aiosmtpd.test",
                     authenticator=authenticator, auth_required=False),
        "127.0.0.1", 0)
    publish("port", str(server.sockets[0].getsockname()[1]).encode())
    await asyncio.Event().wait()

asyncio.run(main())
"""#

    static func start() async throws -> AiosmtpdPeer {
        let directory = try temporaryDirectory()
        try await blocking {
            let openssl = Process()
            openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            openssl.arguments = [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", directory.appendingPathComponent("key.pem").path,
                "-out", directory.appendingPathComponent("cert.pem").path,
                "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ]
            openssl.standardOutput = FileHandle.nullDevice
            openssl.standardError = FileHandle.nullDevice
            try openssl.run()
            openssl.waitUntilExit()
            guard openssl.terminationStatus == 0 else { throw PeerError.certificate }
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, directory.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let portFile = directory.appendingPathComponent("port")
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), let port = Int(text) {
                return AiosmtpdPeer(port: port, directory: directory, process: process)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(process.processIdentifier, SIGKILL)
        throw PeerError.didNotStart
    }

    /// The `index`th message's content and its envelope line ("from rcpt,rcpt tls=1").
    func storedMessage(_ index: Int) throws -> (content: [UInt8], envelope: String) {
        let content = try Data(contentsOf: directory.appendingPathComponent("message-\(index)"))
        let envelope = try String(contentsOf: directory.appendingPathComponent("envelope-\(index)"), encoding: .utf8)
        return ([UInt8](content), envelope)
    }

    /// Ends the child (SIGTERM, then SIGKILL after 5 s) without blocking a cooperative thread.
    func stop() async {
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(5)
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `body` with a fresh peer and stops it afterwards, also when `body` throws.
    static func with(_ body: (AiosmtpdPeer) async throws -> Void) async throws {
        let peer = try await start()
        do {
            try await body(peer)
        } catch {
            await peer.stop()
            throw error
        }
        await peer.stop()
    }

    enum PeerError: Error {
        case certificate
        case didNotStart
    }
}

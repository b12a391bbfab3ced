import Foundation
import NIOCore
import NIOSSL
@testable import SMTPClient

/// Settings for loopback tests: plaintext unless said otherwise, timeouts short enough that a hang fails
/// the test quickly.
func testSettings(tls: SMTPClientTLSMode = .disabled, timeout: Duration = .seconds(10)) -> SMTPClientSettings {
    var settings = SMTPClientSettings(heloName: "client.test", tls: tls)
    settings.connectTimeout = timeout
    settings.greetingTimeout = timeout
    settings.commandTimeout = timeout
    settings.dataBlockTimeout = timeout
    settings.dataTerminationTimeout = timeout
    return settings
}

/// A script answering like a well-behaved ESMTP server with the given extensions; `overrides` decides first.
func standardScript(
    ehlo: [String] = ["PIPELINING", "SIZE 10000000", "8BITMIME", "ENHANCEDSTATUSCODES"],
    overrides: @escaping @Sendable (String) -> FakeAction? = { _ in nil }
) -> FakeSMTPServer.Script {
    { command in
        if let action = overrides(command) { return action }
        let upper = command.uppercased()
        if command == FakeSMTPServer.endOfData { return .reply("250 2.0.0 queued as 1\r\n") }
        if upper.hasPrefix("EHLO ") { return .reply(ehloReply(ehlo)) }
        if upper.hasPrefix("HELO ") { return .reply("250 fake.test\r\n") }
        if upper.hasPrefix("MAIL FROM:") { return .reply("250 2.1.0 sender ok\r\n") }
        if upper.hasPrefix("RCPT TO:") { return .reply("250 2.1.5 recipient ok\r\n") }
        if upper == "DATA" { return .startData("354 end with <CRLF>.<CRLF>\r\n") }
        if upper == "RSET" { return .reply("250 2.0.0 reset\r\n") }
        if upper == "QUIT" { return .replyAndClose("221 2.0.0 bye\r\n") }
        return .reply("502 5.5.1 unknown command\r\n")
    }
}

/// Runs `body` against a fresh fake server and stops it afterwards.
func withFakeServer<T>(
    greeting: String? = "220 fake.test ESMTP\r\n",
    pipelining: Bool = true,
    keepRaw: Bool = true,
    tlsContext: NIOSSLContext? = nil,
    script: @escaping FakeSMTPServer.Script,
    _ body: (FakeSMTPServer) async throws -> T
) async throws -> T {
    let server = try await FakeSMTPServer.start(
        greeting: greeting, pipelining: pipelining, tlsContext: tlsContext, keepRaw: keepRaw, script: script)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

/// The error `body` throws, nil when it does not throw.
func clientError(_ body: () async throws -> Void) async -> SMTPClientError? {
    do {
        try await body()
        return nil
    } catch let error as SMTPClientError {
        return error
    } catch {
        return .protocolViolation("unexpected error type: \(error)")
    }
}

func message(
    from sender: String = "sender@client.test",
    to recipients: [String] = ["rcpt@fake.test"],
    body: [UInt8] = Array("Subject: test\r\n\r\nHello\r\n".utf8),
    prefix: [UInt8] = []
) -> SMTPOutgoingMessage {
    SMTPOutgoingMessage(
        sender: sender,
        recipients: recipients.map { SMTPOutgoingRecipient(address: $0) },
        prefix: prefix,
        body: .bytes(body),
        size: Int64(prefix.count + body.count)
    )
}

/// A fresh temporary directory, removed by the caller.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("smtpc-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

extension FakeSMTPServer {
    /// What the server saw once `condition` holds, or after 5 s (so that the assertion shows what it saw):
    /// for checks right after the client closed, which the server may not have processed yet.
    func received(when condition: (FakeServerRecord) -> Bool) async -> FakeServerRecord {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition(received) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return received
    }
}

import Foundation
import Logging
import MailServerCore
import MailStore
import MailTesting
import SMTPServer
import Testing

/// Robustness: connection caps and slow-client deadlines answered the SMTP way (`421`, then closed).
@Suite struct SMTPLimitsTests {
    /// An MX listener over `server`'s store with one connection per address and short deadlines.
    static func limitedListener(_ server: TestServer, commandTimeout: Duration = .milliseconds(500),
                                minimumDataRate: Int = 1000) throws -> MailListener {
        var logger = Logger(label: "test.smtp.limits")
        logger.logLevel = .critical
        let settings = SMTPServerSettings(role: .mx, hostname: "mx.example.test", maximumMessageSize: 1 << 20,
                                          spoolDirectory: server.spool, idleTimeout: .seconds(20))
        return SMTPListeners.listener(name: "smtp", host: "127.0.0.1", port: 0, implicitTLS: false, tls: try TestServer.sharedTLS.get(),
                                      settings: settings, store: server.store, logger: logger, maxConnections: 4,
                                      maxConnectionsPerAddress: 1,
                                      deadlines: ClientDeadlines(handshakeTimeout: .seconds(1), commandTimeout: commandTimeout,
                                                                 minimumDataRate: minimumDataRate))
    }

    /// Runs `body` with the listener serving, then shuts it down.
    static func serving(_ listener: MailListener, _ body: (Int) async throws -> Void) async throws {
        let port = try await listener.bind()
        let task = Task { try? await listener.run() }
        do {
            try await body(port)
        } catch {
            listener.triggerGracefulShutdown()
            await task.value
            throw error
        }
        listener.triggerGracefulShutdown()
        await task.value
    }

    /// Sends `bytes` one at a time, `interval` apart, from a thread of its own, until done or the send fails.
    static func trickle(_ bytes: [UInt8], every interval: Duration, on client: RawClient) -> Task<Void, Never> {
        Task.detached {
            for byte in bytes {
                if Task.isCancelled { return }
                do { try client.send([byte]) } catch { return }
                try? await Task.sleep(for: interval)
            }
        }
    }

    @Test("a second connection from one address over the cap gets 421 4.7.0 and is closed")
    func perAddressCap() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        try await Self.serving(try Self.limitedListener(server)) { port in
            try await blocking {
                let first = try RawClient(port: port)
                try first.expect("220 mx.example.test")
                let second = try RawClient(port: port)
                try second.expect("421 4.7.0 mx.example.test Too many connections from your address")
                #expect(second.isClosed())
                try first.command("QUIT", "221")
            }
        }
    }

    @Test("a command line trickled a byte at a time gets 421 at the command deadline, not after the 20 s idle timeout")
    func trickledCommandLine() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        try await Self.serving(try Self.limitedListener(server)) { port in
            let client = try RawClient(port: port, timeoutSeconds: 5)
            try await blocking { try client.expect("220 ") }
            let start = ContinuousClock.now
            // Four bytes over 400 ms, then silence (a byte sent after the server's close would draw a reset
            // that can race the reply): the deadline at 500 ms cuts the line, far before the idle timeout.
            let sender = Self.trickle(Array("EHLO".utf8), every: .milliseconds(100), on: client)
            defer { sender.cancel() }
            let reply = try await blocking { try client.reply() }
            #expect(reply.last?.hasPrefix("421 4.4.2") == true, "\(reply)")
            #expect(ContinuousClock.now - start < .seconds(10), "the 20 s idle timeout would have come later")
            #expect(try await blocking { client.isClosed() })
        }
    }

    @Test("DATA sent slower than min_data_rate gets 421 and nothing is delivered")
    func trickledData() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        try await Self.serving(try Self.limitedListener(server)) { port in
            let client = try RawClient(port: port, timeoutSeconds: 5)
            try await blocking {
                try client.expect("220 ")
                try client.command("EHLO sender.example.org", "250 ")
                try client.command("MAIL FROM:<someone@example.org>", "250 ")
                try client.command("RCPT TO:<alice@example.test>", "250 ")
                try client.command("DATA", "354")
            }
            let start = ContinuousClock.now
            // 20 bytes/s where 1000 are required, for 400 ms: cut at about 0.5 s.
            let sender = Self.trickle(Array("Subject:".utf8), every: .milliseconds(50), on: client)
            defer { sender.cancel() }
            let reply = try await blocking { try client.reply() }
            #expect(reply.last?.hasPrefix("421 4.4.2") == true, "\(reply)")
            #expect(ContinuousClock.now - start < .seconds(10), "the 20 s idle timeout would have come later")
        }
        #expect(try await server.inbox("alice@example.test").isEmpty)
    }

    @Test("DATA at a normal pace is unaffected by the deadlines (and takes longer than the command timeout)")
    func steadyData() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        // 1 s command timeout, 10 kB/s: 5 chunks of 10 kB, 300 ms apart, stay ahead of their allowance (1 s more each).
        try await Self.serving(try Self.limitedListener(server, commandTimeout: .seconds(1), minimumDataRate: 10_000)) { port in
            try await blocking {
                let client = try RawClient(port: port, timeoutSeconds: 5)
                try client.expect("220 ")
                try client.command("EHLO sender.example.org", "250 ")
                try client.command("MAIL FROM:<someone@example.org>", "250 ")
                try client.command("RCPT TO:<alice@example.test>", "250 ")
                try client.command("DATA", "354")
                try client.send("Subject: steady\r\n\r\n")
                for _ in 0..<5 {
                    try client.send((0..<10).flatMap { _ in [UInt8](repeating: 0x62, count: 998) + [13, 10] })
                    Thread.sleep(forTimeInterval: 0.3)
                }
                try client.send(".\r\n")
                try client.expect("250 2.0.0")
                try client.command("QUIT", "221")
            }
        }
        #expect(try await server.inbox("alice@example.test").count == 1)
    }
}

import Foundation
import IMAPServer
import Logging
import MailServerCore
import MailTesting
import Testing

/// Robustness: connection caps and slow-client deadlines answered the IMAP way (`* BYE`, then closed).
@Suite struct IMAPLimitsTests {
    /// An IMAP listener (plaintext port) over `server`'s store with one connection per address and
    /// short deadlines.
    static func limitedListener(_ server: IMAPTestServer) throws -> MailListener {
        var logger = Logger(label: "test.imap.limits")
        logger.logLevel = .critical
        let settings = IMAPServerSettings(hostname: "localhost", temporaryDirectory: server.directory + "/spool")
        return IMAPListeners.listener(name: "imap", host: "127.0.0.1", port: 0, implicitTLS: false, tls: try IMAPTestServer.sharedTLS.get(),
                                      settings: settings, store: server.store, logger: logger, maxConnections: 4,
                                      maxConnectionsPerAddress: 1,
                                      deadlines: ClientDeadlines(handshakeTimeout: .seconds(1), commandTimeout: .milliseconds(500),
                                                                 minimumDataRate: 1000))
    }

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

    /// Sends `bytes` one at a time, `interval` apart, then stops (never after the server could have closed).
    static func trickle(_ bytes: [UInt8], every interval: Duration, on client: RawClient) -> Task<Void, Never> {
        Task.detached {
            for byte in bytes {
                if Task.isCancelled { return }
                do { try client.send([byte]) } catch { return }
                try? await Task.sleep(for: interval)
            }
        }
    }

    @Test("a connection over the per-address cap gets * BYE [UNAVAILABLE] and is closed")
    func perAddressCap() async throws {
        let server = try await IMAPTestServer()
        defer { Task { await server.stop() } }
        try await Self.serving(try Self.limitedListener(server)) { port in
            try await blocking {
                let first = try RawClient(port: port)
                #expect(try first.readLine().hasPrefix("* OK"))
                let second = try RawClient(port: port)
                #expect(try second.readLine() == "* BYE [UNAVAILABLE] Too many connections, try again later")
                #expect(second.isClosed())
                try first.send("a1 LOGOUT\r\n")
                #expect(try first.readLine().hasPrefix("* BYE"))
            }
        }
    }

    @Test("a trickled command line gets * BYE at the command deadline, long before the 2-minute login timeout")
    func trickledCommandLine() async throws {
        let server = try await IMAPTestServer()
        defer { Task { await server.stop() } }
        try await Self.serving(try Self.limitedListener(server)) { port in
            let client = try RawClient(port: port, timeoutSeconds: 5)
            #expect(try await blocking { try client.readLine() }.hasPrefix("* OK"))
            let start = ContinuousClock.now
            let sender = Self.trickle(Array("a1 N".utf8), every: .milliseconds(100), on: client)
            defer { sender.cancel() }
            #expect(try await blocking { try client.readLine() } == "* BYE Autologout; idle or too slow")
            #expect(ContinuousClock.now - start < .seconds(10), "the 2-minute login timeout would have come later")
            #expect(try await blocking { client.isClosed() })
        }
    }

    @Test("a literal sent slower than min_data_rate gets * BYE")
    func trickledLiteral() async throws {
        let server = try await IMAPTestServer()
        defer { Task { await server.stop() } }
        try await Self.serving(try Self.limitedListener(server)) { port in
            let client = try RawClient(port: port, timeoutSeconds: 5)
            #expect(try await blocking { try client.readLine() }.hasPrefix("* OK"))
            try await blocking { try client.send("a1 LOGIN {200}\r\n") }
            #expect(try await blocking { try client.readLine() }.hasPrefix("+ "))
            let start = ContinuousClock.now
            // 20 bytes/s where 1000 are required, for 400 ms: cut at about 0.5 s.
            let sender = Self.trickle(Array("alice@ex".utf8), every: .milliseconds(50), on: client)
            defer { sender.cancel() }
            #expect(try await blocking { try client.readLine() } == "* BYE Autologout; idle or too slow")
            #expect(ContinuousClock.now - start < .seconds(10), "the 2-minute login timeout would have come later")
        }
    }
}

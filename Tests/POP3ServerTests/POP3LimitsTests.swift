import Foundation
import Logging
import MailServerCore
import MailTesting
import POP3Server
import Testing

/// Robustness: connection caps and slow-client deadlines answered the POP3 way (`-ERR [SYS/TEMP]`).
@Suite struct POP3LimitsTests {
    @Test("over the per-address cap: -ERR [SYS/TEMP]; a trickled command: -ERR [SYS/TEMP] at the command deadline")
    func capAndSlowCommand() async throws {
        let server = try await POP3TestServer()
        defer { Task { await server.stop() } }
        var logger = Logger(label: "test.pop3.limits")
        logger.logLevel = .critical
        let listener = POP3Listeners.listener(
            name: "pop3", host: "127.0.0.1", port: 0, implicitTLS: false, tls: try POP3TestServer.sharedTLS.get(),
            settings: POP3ServerSettings(hostname: "localhost"), store: server.store, logger: logger, locks: MaildropLocks(),
            maxConnections: 4, maxConnectionsPerAddress: 1,
            deadlines: ClientDeadlines(handshakeTimeout: .seconds(1), commandTimeout: .milliseconds(500), minimumDataRate: 1000))
        let port = try await listener.bind()
        let task = Task { try? await listener.run() }
        do {
            try await Self.exercise(port: port)
        } catch {
            listener.triggerGracefulShutdown()
            await task.value
            throw error
        }
        listener.triggerGracefulShutdown()
        await task.value
    }

    private static func exercise(port: Int) async throws {
        let first = try RawClient(port: port, timeoutSeconds: 5)
        try await blocking {
            #expect(try first.readLine().hasPrefix("+OK"))
            let second = try RawClient(port: port)
            #expect(try second.readLine() == "-ERR [SYS/TEMP] Too many connections, try again later")
            #expect(second.isClosed())
        }
        let start = ContinuousClock.now
        // Four bytes over 400 ms, then nothing: the 500 ms deadline ends the session, not the 10-minute idle timeout.
        let sender = Task.detached {
            for byte in Array("USER".utf8) {
                do { try first.send([byte]) } catch { return }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        defer { sender.cancel() }
        #expect(try await blocking { try first.readLine() } == "-ERR [SYS/TEMP] Autologout; idle or too slow")
        #expect(ContinuousClock.now - start < .seconds(10), "the 10-minute idle timeout would have come later")
        #expect(try await blocking { first.isClosed() })
    }
}

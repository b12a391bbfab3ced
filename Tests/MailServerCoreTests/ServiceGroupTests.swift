import Logging
import NIOCore
import ServiceLifecycle
import Testing

@testable import MailServerCore

@Suite("MailListener as a ServiceLifecycle service")
struct ServiceGroupTests {
    @Test("ServiceGroup graceful shutdown reaches waiting sessions, and the group ends")
    func serviceGroupShutdown() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let listener = MailListener(
            name: "test", host: "127.0.0.1", port: 0, implicitTLS: nil,
            maxConnections: 4, maxConnectionsPerAddress: 4, idleTimeout: .seconds(30),
            logger: logger, handler: EchoSession.run
        )
        let port = try await listener.bind()
        let group = ServiceGroup(services: [listener], logger: logger)
        try await withTimeout {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let tail = try await withClient(port: port) { client -> String in
                    #expect(try await client.readLine() == "+READY")
                    await group.triggerGracefulShutdown()
                    return try await client.readToEnd()
                }
                #expect(tail == "-SHUTDOWN\r\n")
                try await tasks.waitForAll()
            }
        }
    }
}

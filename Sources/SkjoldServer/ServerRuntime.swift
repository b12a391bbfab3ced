import Foundation
import Logging
import MailServerCore
import MailStore
import MailStoreSQLite
import ServiceLifecycle
import SkjoldConfig

/// The composition root: wires configuration, storage, TLS and the protocol listeners into one
/// ServiceGroup that drains gracefully on SIGTERM/SIGINT.
public struct ServerRuntime: Sendable {
    public let config: SkjoldConfig
    public let store: SQLiteMailStore
    public let logger: Logger

    public init(config: SkjoldConfig, store: SQLiteMailStore, logger: Logger) {
        self.config = config
        self.store = store
        self.logger = logger
    }

    /// TLS material: the configured files, or a self-signed certificate for `hostname` kept in data_dir/tls.
    public func loadTLS() throws -> ServerTLS {
        if let cert = config.tls.cert, let key = config.tls.key {
            return try ServerTLS.load(certPath: cert, keyPath: key)
        }
        return try ServerTLS.selfSigned(hostname: config.hostname, directory: config.dataDir + "/tls")
    }

    /// Binds every configured listener that this build implements, prints them, then serves until a signal.
    public func run(printer: @escaping @Sendable (String) -> Void) async throws {
        let tls = try loadTLS()
        let endpoints = ProtocolEndpoints(config: config, store: store, tls: tls, logger: logger)
        let listeners = try endpoints.listeners()
        var lines: [String] = []
        var ports: [String: Int] = [:]
        for (listener, role) in listeners {
            let port = try await listener.bind()
            ports[listener.name] = port
            let name = listener.name.padding(toLength: 12, withPad: " ", startingAt: 0)
            let address = (listener.host.contains(":") ? "[\(listener.host)]" : listener.host) + ":\(port)"
            lines.append("  \(name) \(address.padding(toLength: 22, withPad: " ", startingAt: 0)) \(role)")
        }
        if listeners.isEmpty {
            printer("no listeners configured: add a [listen] section to the configuration")
        } else {
            printer("listening:")
            for line in lines { printer(line) }
        }
        if let client = endpoints.clientHint(ports: ports) { printer(client) }
        printer("TLS certificate: \(tls.certificatePath ?? "configured") (SHA-256 \(tls.leafFingerprintSHA256))")
        // "ready" is printed from inside the running group, once its signal handlers are installed: a SIGTERM
        // right after "ready" then drains gracefully instead of killing the process.
        let ready = ReadyAnnouncer { printer("ready; stop with Ctrl-C or SIGTERM") }
        let group = ServiceGroup(configuration: .init(
            services: listeners.map { .init(service: $0.0) } + [.init(service: ready)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [],
            logger: logger))
        try await group.run()
        logger.info("stopped")
    }
}

/// Announces readiness once the ServiceGroup runs, then stays until graceful shutdown.
struct ReadyAnnouncer: Service {
    let announce: @Sendable () -> Void

    func run() async throws {
        announce()
        try? await gracefulShutdown()
    }
}

import DNSClient
import Delivery
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
    /// Who to become once the ports are bound (see `Privileges`).
    public let privileges: Privileges.Plan

    public init(config: SkjoldConfig, store: SQLiteMailStore, logger: Logger,
                privileges: Privileges.Plan = .unprivileged(ignoredUser: nil)) {
        self.config = config
        self.store = store
        self.logger = logger
        self.privileges = privileges
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
        let openFiles = Privileges.raiseOpenFileLimit()
        let needed = listeners.reduce(UInt64(0)) { sum, entry in
            sum + UInt64(entry.0.name.hasPrefix("imap") ? config.limits.maxIMAPConnections : config.limits.maxConnections)
        }
        if openFiles < needed {
            logger.warning("open file limit \(openFiles) is below the connection caps: raise it (e.g. LimitNOFILE=\(needed * 2) in the systemd unit)")
        }
        var lines: [String] = []
        var ports: [String: Int] = [:]
        for (listener, role) in listeners {
            let port = try await listener.bind()
            ports[listener.name] = port
            let name = listener.name.padding(toLength: 12, withPad: " ", startingAt: 0)
            let address = (listener.host.contains(":") ? "[\(listener.host)]" : listener.host) + ":\(port)"
            lines.append("  \(name) \(address.padding(toLength: 22, withPad: " ", startingAt: 0)) \(role)")
        }
        // Ports bound, no client byte parsed yet: become the unprivileged user now.
        let account = try Privileges.apply(privileges, ownedPaths: [config.dataDir, config.nobackupDir])
        if listeners.isEmpty {
            printer("no listeners configured: add a [listen] section to the configuration")
        } else {
            printer("listening:")
            for line in lines { printer(line) }
        }
        if let account { printer("running as user \(account.name) (uid \(account.uid), gid \(account.gid))") }
        if let client = endpoints.clientHint(ports: ports) { printer(client) }
        printer("TLS certificate: \(tls.certificatePath ?? "configured") (SHA-256 \(tls.leafFingerprintSHA256))")
        // "ready" is printed from inside the running group, once its signal handlers are installed: a SIGTERM
        // right after "ready" then drains gracefully instead of killing the process.
        let ready = ReadyAnnouncer { printer("ready; stop with Ctrl-C or SIGTERM") }
        let delivery = try await makeDelivery()
        let group = ServiceGroup(configuration: .init(
            services: listeners.map { .init(service: $0.0) } + [.init(service: delivery), .init(service: ready)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [],
            logger: logger))
        try await group.run()
        // Traffic counted in the last second is written before the process ends.
        try? await store.sqliteDirectory.flushTraffic()
        logger.info("stopped")
    }
}

extension ServerRuntime {
    /// Outbound delivery: DKIM keys for every hosted domain (created when missing), the DNS resolver
    /// (`[delivery] dns_server` or /etc/resolv.conf), the queue runner.
    func makeDelivery() async throws -> DeliveryService {
        try await DKIMProvisioning.ensureAllDomains(directory: store.directory, keys: store.dkimKeys)
        let dns: DNSResolver?
        if let server = config.delivery.dnsServer {
            dns = DNSResolver(servers: [DNSServerAddress(host: server.host, port: server.port)])
        } else {
            do {
                dns = try DNSResolver.system()
            } catch {
                logger.warning("no DNS resolver (\(error)); mail to other domains waits in the queue until one is configured ([delivery] dns_server)")
                dns = nil
            }
        }
        return DeliveryService(config: config, queue: store.queue, directory: store.directory, mailStore: store,
                               dkimKeys: store.dkimKeys, dns: dns, logger: logger)
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

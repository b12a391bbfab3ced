import Foundation
import Logging
import MailServerCore
import MailStore
import POP3Protocol

/// Settings of the POP3 listeners' sessions.
public struct POP3ServerSettings: Sendable {
    public var hostname: String
    /// RFC 1939 §3: the autologout timer is at least 10 minutes.
    public var idleTimeout: Duration
    /// Bad commands tolerated per session before it is closed.
    public var maximumErrors: Int
    /// Failed logins per session before it is closed.
    public var maximumAuthFailures: Int
    public var logIPAddresses: Bool
    /// Weekly download allowance per plan name (bytes); accounts on unknown plans get `defaultBandwidth`.
    public var bandwidthPerWeek: [String: Int64]
    public var defaultBandwidth: Int64

    public init(hostname: String, idleTimeout: Duration = .seconds(600), maximumErrors: Int = 20,
                maximumAuthFailures: Int = 5, logIPAddresses: Bool = false,
                bandwidthPerWeek: [String: Int64] = [:], defaultBandwidth: Int64 = 10_000_000_000) {
        self.hostname = hostname
        self.idleTimeout = idleTimeout
        self.maximumErrors = maximumErrors
        self.maximumAuthFailures = maximumAuthFailures
        self.logIPAddresses = logIPAddresses
        self.bandwidthPerWeek = bandwidthPerWeek
        self.defaultBandwidth = defaultBandwidth
    }
}

/// One POP3 session per maildrop at a time (RFC 1939 §8: the server acquires an exclusive lock).
/// In memory: the lock belongs to this process, which is the only one serving POP3 for the data.
public final class MaildropLocks: @unchecked Sendable {
    private let lock = NSLock()
    private var held = Set<String>()

    public init() {}

    public static let shared = MaildropLocks()

    /// Takes the lock of `accountID`; false if another session holds it.
    public func acquire(_ accountID: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return held.insert(accountID).inserted
    }

    public func release(_ accountID: String) {
        lock.lock()
        defer { lock.unlock() }
        held.remove(accountID)
    }
}

/// Builds POP3 listeners (port 110 with STLS, port 995 with implicit TLS).
public enum POP3Listeners {
    public static func listener(name: String, host: String, port: Int, implicitTLS: Bool, tls: ServerTLS,
                                settings: POP3ServerSettings, store: any MailStore, logger: Logger,
                                throttle: LoginThrottle = .shared, locks: MaildropLocks = .shared,
                                quotas: (any QuotaLedger)? = nil,
                                maxConnections: Int = 1000, maxConnectionsPerAddress: Int = 50,
                                deadlines: ClientDeadlines = ClientDeadlines()) -> MailListener {
        MailListener(
            name: name, host: host, port: port,
            implicitTLS: implicitTLS ? tls : nil,
            startTLS: implicitTLS ? nil : tls,
            maxConnections: maxConnections,
            maxConnectionsPerAddress: maxConnectionsPerAddress,
            idleTimeout: settings.idleTimeout,
            handshakeTimeout: deadlines.handshakeTimeout,
            commandTimeout: deadlines.commandTimeout,
            minimumDataRate: deadlines.minimumDataRate,
            logger: logger,
            refusal: { _ in POP3Response.err("Too many connections, try again later", code: .sysTemp) }
        ) { connection in
            await POP3Session(connection: connection, settings: settings, store: store, throttle: throttle,
                              locks: locks, quotas: quotas, logger: logger).run()
        }
    }
}

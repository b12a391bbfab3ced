import Foundation
import IMAPProtocol
import Logging
import MailServerCore
import MailStore

/// Settings of the IMAP listeners' sessions.
public struct IMAPServerSettings: Sendable {
    public var hostname: String
    /// Autologout after this much client silence, IDLE included (RFC 9051 §5.4: at least 30 minutes).
    public var idleTimeout: Duration
    /// Silence allowed before login (RFC 9051 §5.4 lets it be shorter).
    public var loginTimeout: Duration
    /// Invalid commands (BAD) tolerated per session before `* BYE`.
    public var maximumErrors: Int
    /// Failed logins per session before `* BYE`.
    public var maximumAuthFailures: Int
    /// Largest APPEND message (APPENDLIMIT, RFC 7889): the server's `max_message_size`.
    public var maximumMessageSize: Int
    /// Where APPEND messages are spooled before they are stored (files end in `.eml`, so a crash's
    /// leftovers are removed with the SMTP spool's).
    public var temporaryDirectory: String
    public var logIPAddresses: Bool
    /// Storage allowance per plan name (bytes); accounts on unknown plans get `defaultStorage`. Purchased
    /// extras from the quota ledger come on top.
    public var storagePerPlan: [String: Int64]
    public var defaultStorage: Int64
    /// Weekly transfer allowance per plan name (bytes); accounts on unknown plans get `defaultBandwidth`.
    public var bandwidthPerWeek: [String: Int64]
    public var defaultBandwidth: Int64
    /// Largest message per plan name (bytes), when a plan allows less than `maximumMessageSize`.
    public var messageSizePerPlan: [String: Int]

    public init(hostname: String, idleTimeout: Duration = .seconds(30 * 60), loginTimeout: Duration = .seconds(120),
                maximumErrors: Int = 20, maximumAuthFailures: Int = 5, maximumMessageSize: Int = 50 << 20,
                temporaryDirectory: String = NSTemporaryDirectory(), logIPAddresses: Bool = false,
                storagePerPlan: [String: Int64] = [:], defaultStorage: Int64 = 10_000_000_000,
                bandwidthPerWeek: [String: Int64] = [:], defaultBandwidth: Int64 = 10_000_000_000,
                messageSizePerPlan: [String: Int] = [:]) {
        self.hostname = hostname
        self.idleTimeout = idleTimeout
        self.loginTimeout = loginTimeout
        self.maximumErrors = maximumErrors
        self.maximumAuthFailures = maximumAuthFailures
        self.maximumMessageSize = maximumMessageSize
        self.temporaryDirectory = temporaryDirectory
        self.logIPAddresses = logIPAddresses
        self.storagePerPlan = storagePerPlan
        self.defaultStorage = defaultStorage
        self.bandwidthPerWeek = bandwidthPerWeek
        self.defaultBandwidth = defaultBandwidth
        self.messageSizePerPlan = messageSizePerPlan
    }
}

/// Builds IMAP listeners: port 143 with STARTTLS (and LOGINDISABLED until TLS), port 993 with implicit TLS
/// (RFC 8314).
public enum IMAPListeners {
    public static func listener(name: String, host: String, port: Int, implicitTLS: Bool, tls: ServerTLS,
                                settings: IMAPServerSettings, store: any MailStore, logger: Logger,
                                throttle: LoginThrottle = .shared, feed: MailboxChangeFeed = .shared,
                                quotas: (any QuotaLedger)? = nil, maxConnections: Int = 5000, maxConnectionsPerAddress: Int = 100,
                                deadlines: ClientDeadlines = ClientDeadlines()) -> MailListener {
        MailListener(
            name: name, host: host, port: port,
            implicitTLS: implicitTLS ? tls : nil,
            startTLS: implicitTLS ? nil : tls,
            maxConnections: maxConnections,
            maxConnectionsPerAddress: maxConnectionsPerAddress,
            idleTimeout: settings.loginTimeout,
            handshakeTimeout: deadlines.handshakeTimeout,
            commandTimeout: deadlines.commandTimeout,
            minimumDataRate: deadlines.minimumDataRate,
            logger: logger,
            refusal: { _ in ResponseEncoder().encode(.untaggedStatus(.bye, code: .unavailable, text: "Too many connections, try again later")) }
        ) { connection in
            await IMAPSession(connection: connection, settings: settings, store: store, throttle: throttle,
                              feed: feed, quotas: quotas, logger: logger).run()
        }
    }
}

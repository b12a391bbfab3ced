#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The typed configuration of the Skjold mail server: built-in defaults, then the TOML file, then
/// command-line overrides. Every setting has a safe default.
public struct SkjoldConfig: Sendable, Equatable {
    /// Used in greetings, `Received` headers and as the certificate name.
    public var hostname: String
    public var dataDir: String
    /// The unprivileged user to switch to after binding the listeners; nil keeps the current user.
    public var user: String?
    public var listen: ListenConfig
    public var tls: TLSFiles
    public var storage: StorageConfig
    public var limits: LimitsConfig
    public var privacy: PrivacyConfig
    /// Outbound delivery: retries, DNS, routes, relay.
    public var delivery: DeliveryConfig = DeliveryConfig()
    /// Account plans by name; `standard` and `max` are built in.
    public var plans: [String: Plan]

    public init(hostname: String, dataDir: String, user: String? = nil, listen: ListenConfig,
                tls: TLSFiles = TLSFiles(), storage: StorageConfig = StorageConfig(),
                limits: LimitsConfig = LimitsConfig(), privacy: PrivacyConfig = PrivacyConfig(),
                plans: [String: Plan] = Plan.builtIn) {
        self.hostname = hostname
        self.dataDir = dataDir
        self.user = user
        self.listen = listen
        self.tls = tls
        self.storage = storage
        self.limits = limits
        self.privacy = privacy
        self.plans = plans
    }

    /// Where accounts marked "No Backup" keep their data: outside the backed-up data directory.
    public var nobackupDir: String { storage.nobackupDir ?? dataDir + "/nobackup" }

    public static let defaultDataDir = "/var/lib/skjold"

    /// The configuration without a file: every listener on its standard port on 0.0.0.0, data in
    /// /var/lib/skjold, and the system's host name (or "localhost" if it has none usable).
    public static var builtInDefault: SkjoldConfig {
        SkjoldConfig(
            hostname: systemHostname(),
            dataDir: defaultDataDir,
            listen: .on("0.0.0.0", ports: [
                "smtp": 25, "submission": 587, "submissions": 465, "imap": 143, "imaps": 993,
                "pop3": 110, "pop3s": 995, "https": 443, "http": 80,
            ]))
    }

    /// A configuration for development: unprivileged ports on 127.0.0.1, host name "localhost".
    public static func dev(dataDir: String) -> SkjoldConfig {
        SkjoldConfig(
            hostname: "localhost",
            dataDir: dataDir,
            listen: .on("127.0.0.1", ports: [
                "smtp": 2525, "submission": 2587, "submissions": 2465, "imap": 2143, "imaps": 2993,
                "pop3": 2110, "pop3s": 2995, "https": 8443, "http": 8080,
            ]))
    }

    /// The starting point for a configuration file: the built-in defaults with every listener off,
    /// so that a file enables exactly the listeners it names.
    static var fileBase: SkjoldConfig {
        var config = builtInDefault
        config.listen = .allOff
        return config
    }

    /// The host name from gethostname(2), if it is a usable DNS name.
    static func systemHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        let name = String(decoding: bytes, as: UTF8.self)
        return HostnameRules.isValid(name) ? name : "localhost"
    }
}

/// The certificate and private key to serve, as PEM files. Both nil: Skjold generates a
/// self-signed certificate; exactly one given is a configuration error.
public struct TLSFiles: Sendable, Equatable {
    public var cert: String?
    public var key: String?

    public init(cert: String? = nil, key: String? = nil) {
        self.cert = cert
        self.key = key
    }
}

/// Where mail and the directory are stored.
public enum StorageBackend: String, Sendable, Equatable, CaseIterable {
    /// Embedded: SQLite databases and blob files under the data directory.
    case sqlite
    /// Cluster: a shared PostgreSQL database.
    case postgres
}

/// The `[storage]` section.
public struct StorageConfig: Sendable, Equatable {
    public var backend: StorageBackend
    /// Overrides `<data_dir>/nobackup`; see `SkjoldConfig.nobackupDir`.
    public var nobackupDir: String?

    public init(backend: StorageBackend = .sqlite, nobackupDir: String? = nil) {
        self.backend = backend
        self.nobackupDir = nobackupDir
    }
}

/// The `[limits]` section: server-wide caps.
public struct LimitsConfig: Sendable, Equatable {
    /// Largest message accepted, in bytes (announced as the SMTP SIZE, RFC 1870).
    public var maxMessageSize: Int

    /// Outgoing recipients within `burstMinutes` that pause an account's submission until an admin runs
    /// `skjold account unlock` (a stolen password must not turn the server into a spam cannon).
    public var burstRecipients: Int
    public var burstMinutes: Int

    /// Open sessions per SMTP or POP3 listener; past it a client gets `421 4.7.0` / `-ERR [SYS/TEMP]`.
    public var maxConnections: Int
    /// Open sessions per SMTP or POP3 listener from one IPv4 address or IPv6 /64.
    public var maxConnectionsPerAddress: Int
    /// Open sessions per IMAP listener: IDLE keeps one (often several) open per client, all day.
    public var maxIMAPConnections: Int
    /// Open sessions per IMAP listener from one address: a household or office behind one NAT address
    /// runs several clients with several connections each.
    public var maxIMAPConnectionsPerAddress: Int
    /// Seconds a command line may take from its first byte (slow-client defence; see README).
    public var commandTimeoutSeconds: Int
    /// Bytes per second message data and literals must average beyond `commandTimeoutSeconds`.
    public var minDataRate: Int
    /// Seconds a TLS handshake (implicit TLS or STARTTLS) may take.
    public var tlsHandshakeTimeoutSeconds: Int

    public static let defaultMaxMessageSize = 140 << 20

    public init(maxMessageSize: Int = LimitsConfig.defaultMaxMessageSize, burstRecipients: Int = 1000, burstMinutes: Int = 10,
                maxConnections: Int = 1000, maxConnectionsPerAddress: Int = 20,
                maxIMAPConnections: Int = 5000, maxIMAPConnectionsPerAddress: Int = 100,
                commandTimeoutSeconds: Int = 60, minDataRate: Int = 500, tlsHandshakeTimeoutSeconds: Int = 15) {
        self.maxMessageSize = maxMessageSize
        self.burstRecipients = burstRecipients
        self.burstMinutes = burstMinutes
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
        self.maxIMAPConnections = maxIMAPConnections
        self.maxIMAPConnectionsPerAddress = maxIMAPConnectionsPerAddress
        self.commandTimeoutSeconds = commandTimeoutSeconds
        self.minDataRate = minDataRate
        self.tlsHandshakeTimeoutSeconds = tlsHandshakeTimeoutSeconds
    }
}

/// The `[privacy]` section. Privacy-first: nothing identifying is logged unless asked for.
public struct PrivacyConfig: Sendable, Equatable {
    /// Log client IP addresses.
    public var logIPAddresses: Bool
    /// Log envelope senders and recipients.
    public var logEnvelopes: Bool

    public init(logIPAddresses: Bool = false, logEnvelopes: Bool = false) {
        self.logIPAddresses = logIPAddresses
        self.logEnvelopes = logEnvelopes
    }
}

/// An account plan (`[plans.<name>]`): quotas that accounts on it get.
public struct Plan: Sendable, Equatable {
    public var name: String
    /// Mailbox storage, in bytes.
    public var storage: Int64
    /// Bytes an account may download (IMAP/POP3/web) per week.
    public var bandwidthPerWeek: Int64
    /// Recipients an account may send to per day.
    public var outgoingPerDay: Int
    public var aliases: Int
    /// Largest message an account may send or receive, in bytes.
    public var maxMessageSize: Int

    public init(name: String, storage: Int64, bandwidthPerWeek: Int64, outgoingPerDay: Int, aliases: Int,
                maxMessageSize: Int) {
        self.name = name
        self.storage = storage
        self.bandwidthPerWeek = bandwidthPerWeek
        self.outgoingPerDay = outgoingPerDay
        self.aliases = aliases
        self.maxMessageSize = maxMessageSize
    }

    /// The plan new accounts get, and the base for plans a file defines.
    public static let standard = Plan(name: "standard", storage: 10_000_000_000, bandwidthPerWeek: 10_000_000_000,
                                      outgoingPerDay: 500, aliases: 100, maxMessageSize: 140 << 20)
    public static let max = Plan(name: "max", storage: 100_000_000_000, bandwidthPerWeek: 100_000_000_000,
                                 outgoingPerDay: 2000, aliases: 500, maxMessageSize: 140 << 20)

    /// The plans shipped with Skjold.
    public static let builtIn: [String: Plan] = ["standard": standard, "max": max]
}

/// RFC 1123 §2.1 host names: letters, digits and hyphens in dot-separated labels.
enum HostnameRules {
    static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        for label in bytes.split(separator: 0x2E, omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= 63, label.first != 0x2D, label.last != 0x2D else { return false }
            for b in label {
                let isLetter = (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A
                guard isLetter || (b >= 0x30 && b <= 0x39) || b == 0x2D else { return false }
            }
        }
        return true
    }
}

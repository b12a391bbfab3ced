import Foundation
import MailStore
import SkjoldConfig

/// What kind of front door a listener is.
public enum SMTPRole: String, Sendable {
    /// Port 25: mail from the Internet for hosted domains only; no AUTH.
    case mx
    /// Ports 587 (STARTTLS) and 465 (implicit TLS): AUTH required before MAIL, any destination.
    case submission
}

/// The settings of one SMTP listener's sessions.
public struct SMTPServerSettings: Sendable {
    public var role: SMTPRole
    /// Announced in the greeting, EHLO reply and Received headers.
    public var hostname: String
    /// SIZE announced in EHLO and enforced during DATA/BDAT.
    public var maximumMessageSize: Int
    /// Folder for messages being received that are too big to keep in memory (deleted after delivery).
    public var spoolDirectory: String
    /// Messages up to this size stay in memory while being received.
    public var inMemoryMessageLimit: Int
    /// RCPT commands accepted per transaction on the MX port (RFC 5321 §4.5.3.1.8: at least 100); more get
    /// 452 4.5.3 and the sender retries them in another transaction.
    public var maximumRecipients: Int
    /// The same for authenticated submission, where the daily outgoing allowance is the real limit: a user
    /// may address a whole day's allowance in one message.
    public var maximumSubmissionRecipients: Int
    /// Bad commands tolerated per session before `421 4.7.0`.
    public var maximumErrors: Int
    /// Failed AUTH attempts per session before `421 4.7.0`.
    public var maximumAuthFailures: Int
    /// Wait for the next command (RFC 5321 §4.5.3.2.7 suggests 5 minutes).
    public var idleTimeout: Duration
    /// Put the client's IP address into Received headers and logs (`[privacy] log_ip_addresses`).
    public var logIPAddresses: Bool
    /// Log envelope addresses of each message (`[privacy] log_envelopes`).
    public var logEnvelopes: Bool
    /// Plans by name: storage quota and message size of recipients, daily recipients of senders.
    public var plans: [String: Plan]
    /// Submission: this many recipients within `burstWindow` pause the account until an admin unlocks it.
    public var burstRecipients: Int
    public var burstWindow: Duration

    public init(role: SMTPRole, hostname: String, maximumMessageSize: Int, spoolDirectory: String,
                inMemoryMessageLimit: Int = 1 << 20, maximumRecipients: Int = 100, maximumErrors: Int = 20,
                maximumAuthFailures: Int = 10, idleTimeout: Duration = .seconds(300),
                logIPAddresses: Bool = false, logEnvelopes: Bool = false, plans: [String: Plan] = Plan.builtIn,
                burstRecipients: Int = 1000, burstWindow: Duration = .seconds(600)) {
        self.role = role
        self.hostname = hostname
        self.maximumMessageSize = maximumMessageSize
        self.spoolDirectory = spoolDirectory
        self.inMemoryMessageLimit = inMemoryMessageLimit
        self.maximumRecipients = maximumRecipients
        self.maximumSubmissionRecipients = max(maximumRecipients, 2000)
        self.maximumErrors = maximumErrors
        self.maximumAuthFailures = maximumAuthFailures
        self.idleTimeout = idleTimeout
        self.logIPAddresses = logIPAddresses
        self.logEnvelopes = logEnvelopes
        self.plans = plans
        self.burstRecipients = burstRecipients
        self.burstWindow = burstWindow
    }

    /// An account's plan (an unknown name — a plan removed from the configuration — falls back to `standard`).
    func plan(of account: Account) -> Plan {
        plans[account.plan] ?? plans["standard"] ?? .standard
    }
}

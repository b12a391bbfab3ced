import Foundation

/// Purchased add-ons on top of an account's plan (`skjold account set --extra-...`).
public struct AccountExtras: Sendable, Hashable {
    public var storage: Int64
    public var outgoingPerDay: Int
    public var bandwidthPerWeek: Int64
    public init(storage: Int64 = 0, outgoingPerDay: Int = 0, bandwidthPerWeek: Int64 = 0) {
        self.storage = storage
        self.outgoingPerDay = outgoingPerDay
        self.bandwidthPerWeek = bandwidthPerWeek
    }
}

/// The outcome of counting outgoing recipients against the rolling 24-hour allowance.
public struct OutgoingReservation: Sendable, Hashable {
    /// True when the recipients were counted; false when they would exceed the allowance (nothing counted).
    public var allowed: Bool
    /// Recipients counted in the last 24 hours (after this reservation, if allowed).
    public var used: Int
    public var limit: Int
    /// When the oldest counted recipient leaves the window (nil when nothing is counted).
    public var freesAt: Date?
    public init(allowed: Bool, used: Int, limit: Int, freesAt: Date?) {
        self.allowed = allowed
        self.used = used
        self.limit = limit
        self.freesAt = freesAt
    }
}

/// Per-account usage ledgers that plans are enforced against. Counting is atomic: two sessions racing
/// for the last recipients of the day cannot both get them.
public protocol QuotaLedger: Sendable {
    func extras(ofAccount accountID: String) async throws -> AccountExtras
    func setExtras(_ address: String, _ extras: AccountExtras) async throws
    /// Counts `count` outgoing recipients if the rolling 24 h total stays within `limit`.
    func reserveOutgoing(accountID: String, count: Int, limit: Int, now: Date) async throws -> OutgoingReservation
    /// Recipients counted in the 24 h before `now`, and when the oldest of them leaves the window.
    func outgoingUsage(accountID: String, now: Date) async throws -> (used: Int, freesAt: Date?)
    /// Recipients counted since `since` (burst detection; windows up to 24 h).
    func outgoingCount(accountID: String, since: Date) async throws -> Int
    /// Adds bytes an account downloaded or uploaded (POP3, IMAP, submission, web) to its rolling 7-day total.
    func recordTraffic(accountID: String, bytes: Int64, now: Date) async throws
    /// Bytes counted in the 7 days before `now` (hourly buckets), and when the oldest bucket leaves the window.
    func trafficUsage(accountID: String, now: Date) async throws -> (used: Int64, freesAt: Date?)
}

/// An app password: a generated password for one mail client, usable for IMAP, POP3 and SMTP, listed and
/// revoked on its own. Only its scrypt hash is stored.
public struct AppPasswordInfo: Sendable, Hashable {
    public var name: String
    public var createdAt: Date
    public init(name: String, createdAt: Date) {
        self.name = name
        self.createdAt = createdAt
    }
}

/// App passwords and account protection flags (issue 7).
public protocol AccountProtection: Sendable {
    /// Creates an app password named `name` and returns it (shown once).
    func addAppPassword(_ address: String, name: String) async throws -> String
    func appPasswords(_ address: String) async throws -> [AppPasswordInfo]
    func revokeAppPassword(_ address: String, name: String) async throws
    /// Pauses the account's submission (burst of outgoing mail); returns false if it already was.
    func pauseSubmission(accountID: String, reason: String, now: Date) async throws -> Bool
    /// When and why submission was paused, nil when it is not.
    func submissionPause(accountID: String) async throws -> (since: Date, reason: String)?
    /// Clears a pause (`skjold account unlock`).
    func unlock(_ address: String) async throws
    /// Restricts the main password to the web: IMAP, POP3 and SMTP then accept app passwords only.
    func setMainPasswordWebOnly(_ address: String, _ webOnly: Bool) async throws
    func isMainPasswordWebOnly(accountID: String) async throws -> Bool
}

import Foundation

/// RFC 3461 DSN requests carried with a queued message.
public struct DSNEnvelope: Sendable, Hashable {
    /// RET=FULL|HDRS.
    public var ret: String?
    /// ENVID (already xtext-decoded).
    public var envelopeID: String?
    public init(ret: String? = nil, envelopeID: String? = nil) {
        self.ret = ret
        self.envelopeID = envelopeID
    }
}

/// One recipient of a queued message, with its own delivery state.
public struct QueuedRecipient: Sendable, Hashable {
    public enum State: String, Sendable { case pending, delivered, failed }
    public var address: String
    /// NOTIFY=... as given (e.g. "SUCCESS,FAILURE"), nil when absent.
    public var notify: String?
    /// ORCPT=type;address (decoded), nil when absent.
    public var originalRecipient: String?
    public var state: State
    public var lastReply: String?
    /// The remote host that gave `lastReply` ("mx.example.org[192.0.2.1]:25"), for DSNs (Remote-MTA).
    public var remoteHost: String?
    /// A delivery status notification about this recipient's final state has been made (or none was wanted).
    public var reported: Bool
    public init(address: String, notify: String? = nil, originalRecipient: String? = nil, state: State = .pending,
                lastReply: String? = nil, remoteHost: String? = nil, reported: Bool = false) {
        self.address = address
        self.notify = notify
        self.originalRecipient = originalRecipient
        self.state = state
        self.lastReply = lastReply
        self.remoteHost = remoteHost
        self.reported = reported
    }

    /// RFC 3461 §4.1: NOTIFY absent means FAILURE and DELAY (the MTA's choice; we send both); NEVER means none.
    public func wantsNotice(_ kind: String) -> Bool {
        guard let notify else { return kind == "FAILURE" || kind == "DELAY" }
        return notify.uppercased().split(separator: ",").contains { $0 == Substring(kind) }
    }
}

/// A message waiting for outbound delivery.
public struct QueuedMessage: Sendable, Hashable {
    public var id: String
    /// Envelope sender; empty for the null reverse-path `<>`.
    public var sender: String
    public var recipients: [QueuedRecipient]
    public var accountID: String?
    public var size: Int64
    public var dsn: DSNEnvelope
    public var createdAt: Date
    public var nextAttempt: Date
    public var attempts: Int
    /// A "delayed" notice went to the sender.
    public var warned: Bool = false
    /// DKIM-Signature fields made at the first attempt and reused for every later one (CRLF-terminated).
    public var signature: String?
    public init(id: String, sender: String, recipients: [QueuedRecipient], accountID: String?, size: Int64,
                dsn: DSNEnvelope, createdAt: Date, nextAttempt: Date, attempts: Int) {
        self.id = id
        self.sender = sender
        self.recipients = recipients
        self.accountID = accountID
        self.size = size
        self.dsn = dsn
        self.createdAt = createdAt
        self.nextAttempt = nextAttempt
        self.attempts = attempts
    }
}

/// The durable hand-off from submission to outbound delivery: `enqueue` returns only once the message file
/// and its entry are on disk, so the submission's 250 can follow.
public protocol OutboundQueue: Sendable {
    func enqueue(sender: String, recipients: [QueuedRecipient], source: MessageSource, accountID: String?,
                 dsn: DSNEnvelope) async throws -> QueuedMessage
    func list() async throws -> [QueuedMessage]
    func message(id: String) async throws -> QueuedMessage?
    /// Path of the queued message's bytes.
    func messagePath(id: String) -> String
    func remove(id: String) async throws

    /// Messages whose next attempt is due at `now`, oldest first, at most `limit`, skipping `excluding`.
    func due(at now: Date, limit: Int, excluding: Set<String>) async throws -> [QueuedMessage]
    /// Durably records recipients' new states (by index into `recipients`), before anything else happens;
    /// and the DKIM signature made for the message, when given (one transaction, one fsync).
    func update(id: String, recipients: [Int: QueuedRecipient], signature: String?) async throws
    /// Ends an attempt: counts it and sets the next one (nil leaves it), and the warned flag.
    func finishAttempt(id: String, nextAttempt: Date?, countAttempt: Bool, warned: Bool) async throws
    /// Makes one message (or every message, when nil) due now; returns how many.
    func retry(id: String?, at now: Date) async throws -> Int
}

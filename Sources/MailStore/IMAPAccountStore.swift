import Foundation

/// How a STORE changes a message's flags (RFC 9051 §6.4.6: FLAGS, +FLAGS, -FLAGS).
public enum FlagChange: Sendable, Hashable {
    case replace, add, remove

    /// The flags after applying this change with `flags` to `current`.
    public func apply(_ flags: Set<String>, to current: Set<String>) -> Set<String> {
        switch self {
        case .replace: return flags
        case .add: return current.union(flags)
        case .remove: return current.subtracting(flags)
        }
    }
}

/// A message's mutable state as an IMAP session tracks it: UID, mod-sequence (RFC 7162) and flags.
public struct MessageFlagState: Sendable, Hashable {
    public var uid: UID
    public var modSeq: ModSeq
    public var flags: Set<String>

    public init(uid: UID, modSeq: ModSeq, flags: Set<String>) {
        self.uid = uid
        self.modSeq = modSeq
        self.flags = flags
    }
}

/// What a flag update did.
public struct FlagUpdateResult: Sendable, Hashable {
    /// The state after the update of every addressed message that exists (changed or not), by UID.
    public var states: [MessageFlagState]
    /// UIDs left alone because their mod-sequence was above UNCHANGEDSINCE (RFC 7162 §3.1.3: MODIFIED).
    public var modified: [UID]

    public init(states: [MessageFlagState], modified: [UID]) {
        self.states = states
        self.modified = modified
    }
}

/// Where copied (or moved) messages ended up: source and destination UIDs pairwise, for COPYUID
/// (RFC 4315 §3).
public struct CopyResult: Sendable, Hashable {
    public var destinationUIDValidity: UIDValidity
    public var sourceUIDs: [UID]
    public var destinationUIDs: [UID]

    public init(destinationUIDValidity: UIDValidity, sourceUIDs: [UID], destinationUIDs: [UID]) {
        self.destinationUIDValidity = destinationUIDValidity
        self.sourceUIDs = sourceUIDs
        self.destinationUIDs = destinationUIDs
    }
}

/// Changes in a mailbox since a session last looked, for untagged EXISTS/EXPUNGE/FETCH (RFC 9051 §7.4).
public struct MailboxDelta: Sendable, Hashable {
    /// The mailbox's HIGHESTMODSEQ now.
    public var highestModSeq: ModSeq
    /// Messages whose mod-sequence is above the one asked for (new or with changed flags), by UID.
    public var changed: [MessageRecord]
    /// All UIDs up to the asked-for bound that still exist, when the count showed that some were expunged;
    /// nil when none were.
    public var survivingUIDs: [UID]?

    public init(highestModSeq: ModSeq, changed: [MessageRecord], survivingUIDs: [UID]?) {
        self.highestModSeq = highestModSeq
        self.changed = changed
        self.survivingUIDs = survivingUIDs
    }
}

/// The operations an IMAP server needs beyond ``AccountMailStore``: per-message flag changes with
/// mod-sequences, copies that share the stored bytes, incremental mailbox deltas, and a cache of each
/// message's MIME parse. Mailboxes are addressed by id once selected, so a rename by another session does
/// not redirect a selected session's writes.
public protocol IMAPAccountStore: AccountMailStore {
    /// Prepares the IMAP side tables and starts posting this account's changes on ``MailboxChangeFeed/shared``.
    /// Idempotent and cheap after the first call in a process.
    func prepareForIMAP() async throws

    func setSubscribed(_ mailbox: String, subscribed: Bool) async throws

    /// The mailbox's HIGHESTMODSEQ, or nil when it no longer exists.
    func highestModSeq(mailboxID: Int64) async throws -> ModSeq?

    /// Changes since `modSeq`; `knownUIDBound`/`knownCount` describe what the session holds (its largest
    /// UID and how many messages), so expunges are found without listing the mailbox when there are none.
    func delta(mailboxID: Int64, since modSeq: ModSeq, knownUIDBound: UID, knownCount: Int) async throws -> MailboxDelta

    /// The messages with UIDs in `ranges`, ascending.
    func messages(mailboxID: Int64, uids ranges: [ClosedRange<UID>]) async throws -> [MessageRecord]

    /// Applies a flag change to each listed message; one new mod-sequence for the whole command.
    func updateFlags(mailboxID: Int64, uids: [UID], change: FlagChange, flags: Set<String>,
                     unchangedSince: ModSeq?) async throws -> FlagUpdateResult

    /// Copies (sharing the stored bytes) or moves messages into `destination`, keeping flags and dates.
    /// Throws ``MailStoreError/noSuchMailbox(_:)`` when the destination does not exist.
    func copyMessages(mailboxID: Int64, uids: [UID], to destination: String, move: Bool) async throws -> CopyResult

    /// Removes the listed messages; returns the UIDs actually removed.
    func expungeMessages(mailboxID: Int64, uids: [UID]) async throws -> [UID]

    /// The cached parse of a stored message (an `IMAPMessageCache` in compact form), if computed before.
    func cachedParse(blobID: String) async throws -> [UInt8]?
    func storeCachedParse(blobID: String, _ data: [UInt8]) async throws

    /// The file holding a message's bytes.
    func blobFilePath(_ blobID: String) -> String
}

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
    /// The mod-sequence the update gave the messages it changed; nil when it changed none.
    public var modSeq: ModSeq?

    public init(states: [MessageFlagState], modified: [UID], modSeq: ModSeq? = nil) {
        self.states = states
        self.modified = modified
        self.modSeq = modSeq
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
public protocol IMAPAccountStore: AccountMailStore, FullTextIndex {
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

    /// The mailbox's id and stored name, without its counts: what APPEND, CREATE, RENAME and DELETE need
    /// to know (``AccountMailStore/mailbox(named:)`` counts the mailbox's messages).
    func mailboxID(named name: String) async throws -> (id: Int64, name: String)?
    /// The cached parse of a stored message (an `IMAPMessageCache` in compact form), if computed before.
    func cachedParse(blobID: String) async throws -> [UInt8]?
    func storeCachedParse(blobID: String, _ data: [UInt8]) async throws
    /// The messages with UIDs in `ranges`, ascending, each with its cached parse when there is one: what a
    /// FETCH of ENVELOPE or BODYSTRUCTURE needs, in one read.
    func messagesWithCachedParses(mailboxID: Int64, uids ranges: [ClosedRange<UID>]) async throws -> [(MessageRecord, [UInt8]?)]
    /// The cached parses of many blobs in one read; blobs without one are absent from the result.
    func cachedParses(blobIDs: [String]) async throws -> [String: [UInt8]]
    /// Stores many parses in one transaction, keeping entries that exist (for blobs that still exist).
    func storeCachedParses(_ parses: [String: [UInt8]]) async throws

    /// The file holding a message's bytes.
    func blobFilePath(_ blobID: String) -> String
}

extension IMAPAccountStore {
    /// Through ``AccountMailStore/mailbox(named:)``; stores that can do better implement the requirement.
    public func mailboxID(named name: String) async throws -> (id: Int64, name: String)? {
        try await mailbox(named: name).map { ($0.id, $0.name) }
    }

    /// Two reads; stores that can do better implement the requirement.
    public func messagesWithCachedParses(mailboxID: Int64, uids ranges: [ClosedRange<UID>]) async throws -> [(MessageRecord, [UInt8]?)] {
        let records = try await messages(mailboxID: mailboxID, uids: ranges)
        let parses = try await cachedParses(blobIDs: records.map(\.blobID))
        return records.map { ($0, parses[$0.blobID]) }
    }

    /// One read per blob; stores that can do better implement the requirement.
    public func cachedParses(blobIDs: [String]) async throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for blob in blobIDs where out[blob] == nil {
            if let data = try await cachedParse(blobID: blob) { out[blob] = data }
        }
        return out
    }

    /// One write per blob; stores that can do better implement the requirement.
    public func storeCachedParses(_ parses: [String: [UInt8]]) async throws {
        for (blob, data) in parses { try await storeCachedParse(blobID: blob, data) }
    }
}

/// The text of one stored message for the full-text index: decoded header field values and the decoded
/// text of its text parts (RFC 9051 §6.4.4: TEXT searches both, BODY only the body).
public struct SearchTextDocument: Sendable, Hashable {
    public var blobID: String
    public var header: String
    public var body: String

    public init(blobID: String, header: String, body: String) {
        self.blobID = blobID
        self.header = header
        self.body = body
    }
}

/// Messages a mailbox still needs indexed: their blobs (each once), and the UID the batch reaches.
public struct UnindexedBatch: Sendable, Hashable {
    public var blobIDs: [String]
    /// The largest UID looked at; nil when no message is left to look at.
    public var throughUID: UID?

    public init(blobIDs: [String], throughUID: UID?) {
        self.blobIDs = blobIDs
        self.throughUID = throughUID
    }
}

/// Which part of a message a full-text search looks at.
public enum TextSearchScope: Sendable, Hashable {
    /// SEARCH BODY: the body only.
    case body
    /// SEARCH TEXT: header and body.
    case text
}

/// A per-account full-text index over stored messages, filled lazily: the server computes a message's text
/// (it owns the MIME parser) and hands it in; the store keeps it keyed by blob, so copies share one entry.
/// Matching is case-insensitive substring matching, as SEARCH needs.
public protocol FullTextIndex: Sendable {
    /// The next messages of the mailbox that are not indexed yet, in UID order, at most `limit` looked at.
    func unindexedMessages(mailboxID: Int64, limit: Int) async throws -> UnindexedBatch
    /// Adds documents and records that the mailbox is indexed through `throughUID`; blobs that no longer
    /// exist are skipped (an expunge may have raced the indexing).
    func addToIndex(_ documents: [SearchTextDocument], mailboxID: Int64, throughUID: UID) async throws
    /// UIDs of the mailbox's indexed messages whose text contains `needle` (case-insensitive). Needles
    /// shorter than ``minimumIndexedNeedle`` characters cannot be answered from the index.
    func indexedUIDs(mailboxID: Int64, containing needle: String, scope: TextSearchScope) async throws -> Set<UID>
    /// Drops index entries of blobs that no longer exist (removed by any path); returns how many.
    @discardableResult
    func pruneIndex() async throws -> Int
    /// The shortest needle (in characters) the index answers.
    var minimumIndexedNeedle: Int { get }
}

import Foundation

/// RFC 6154 special-use attributes of the default mailboxes.
public enum SpecialUse: String, Sendable, CaseIterable {
    case drafts = "\\Drafts"
    case sent = "\\Sent"
    case junk = "\\Junk"
    case trash = "\\Trash"
    case archive = "\\Archive"
}

/// The mailboxes every new account gets (RFC 6154 names as used by Thunderbird, Apple Mail and K-9).
public let defaultMailboxes: [(name: String, specialUse: SpecialUse?)] = [
    ("INBOX", nil), ("Drafts", .drafts), ("Sent", .sent), ("Junk", .junk), ("Trash", .trash), ("Archive", .archive),
]

/// IMAP UIDVALIDITY (RFC 9051 §2.3.1.1): changes only when UIDs of a mailbox name stop meaning the same messages.
public typealias UIDValidity = UInt32
/// A message's UID in its mailbox, strictly increasing and never reused.
public typealias UID = UInt32
/// RFC 7162 mod-sequence.
public typealias ModSeq = UInt64

/// A mailbox's state as IMAP STATUS/SELECT need it.
public struct MailboxInfo: Sendable, Hashable {
    public var id: Int64
    public var name: String
    public var specialUse: SpecialUse?
    public var uidValidity: UIDValidity
    public var uidNext: UID
    public var highestModSeq: ModSeq
    public var messageCount: Int
    public var unseenCount: Int
    public var totalSize: Int64
    public var subscribed: Bool

    public init(id: Int64, name: String, specialUse: SpecialUse?, uidValidity: UIDValidity, uidNext: UID,
                highestModSeq: ModSeq, messageCount: Int, unseenCount: Int, totalSize: Int64, subscribed: Bool) {
        self.id = id
        self.name = name
        self.specialUse = specialUse
        self.uidValidity = uidValidity
        self.uidNext = uidNext
        self.highestModSeq = highestModSeq
        self.messageCount = messageCount
        self.unseenCount = unseenCount
        self.totalSize = totalSize
        self.subscribed = subscribed
    }
}

/// One message in one mailbox.
public struct MessageRecord: Sendable, Hashable {
    public var uid: UID
    public var modSeq: ModSeq
    /// System flags (`\Seen`...) and keywords, as IMAP names them.
    public var flags: Set<String>
    public var internalDate: Date
    public var size: Int64
    public var blobID: String

    public init(uid: UID, modSeq: ModSeq, flags: Set<String>, internalDate: Date, size: Int64, blobID: String) {
        self.uid = uid
        self.modSeq = modSeq
        self.flags = flags
        self.internalDate = internalDate
        self.size = size
        self.blobID = blobID
    }
}

/// The bytes of a message to store. `file` lets SMTP hand over a spooled temporary file (never the whole
/// message in memory); `prefix` carries per-recipient trace headers (Return-Path, Delivered-To, Received).
public enum MessageSource: Sendable {
    case bytes([UInt8])
    case file(path: String, prefix: [UInt8])
}

/// Where a stored message ended up.
public struct DeliveryReceipt: Sendable, Hashable {
    public var mailbox: String
    public var uidValidity: UIDValidity
    public var uid: UID
    public var size: Int64
    public init(mailbox: String, uidValidity: UIDValidity, uid: UID, size: Int64) {
        self.mailbox = mailbox
        self.uidValidity = uidValidity
        self.uid = uid
        self.size = size
    }
}

/// Storage failures, mapped to protocol replies at the server edge.
public enum MailStoreError: Error, Equatable, CustomStringConvertible {
    case noSuchMailbox(String)
    case mailboxExists(String)
    case invalidMailboxName(String)
    case cannotDelete(String, reason: String)
    case noSuchMessage(UID)
    case accountGone(String)
    case io(String)

    public var description: String {
        switch self {
        case .noSuchMailbox(let n): return "no mailbox \"\(n)\""
        case .mailboxExists(let n): return "mailbox \"\(n)\" already exists"
        case .invalidMailboxName(let n): return "invalid mailbox name \"\(n)\""
        case .cannotDelete(let n, let reason): return "cannot delete mailbox \"\(n)\": \(reason)"
        case .noSuchMessage(let uid): return "no message with UID \(uid)"
        case .accountGone(let id): return "account \(id) no longer exists"
        case .io(let what): return "storage error: \(what)"
        }
    }
}

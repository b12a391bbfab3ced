/// A server response (RFC 9051 §7): tagged completion, untagged data or status, or a continuation request.
public enum Response: Hashable, Sendable {
    /// `tag OK/NO/BAD [code] text`
    case tagged(tag: String, status: ResponseStatus, code: ResponseCode?, text: String)
    /// `* OK/NO/BAD/PREAUTH/BYE [code] text`
    case untaggedStatus(UntaggedStatus, code: ResponseCode?, text: String)
    /// `* ...` data (see ``UntaggedData``).
    case untagged(UntaggedData)
    /// `+ text`: ready for a literal, or idling.
    case continuation(String)
    /// `+ base64`: a SASL challenge; the bytes are base64-encoded by the encoder (empty gives `+ `).
    case challenge([UInt8])
}

/// Tagged completion results (RFC 9051 §7.1).
public enum ResponseStatus: String, Hashable, Sendable {
    case ok = "OK", no = "NO", bad = "BAD"
}

/// Untagged status responses (RFC 9051 §7.1).
public enum UntaggedStatus: String, Hashable, Sendable {
    case ok = "OK", no = "NO", bad = "BAD", preauth = "PREAUTH", bye = "BYE"
}

/// Response codes (RFC 9051 §7.1; UIDPLUS RFC 4315; CONDSTORE/QRESYNC RFC 7162; RFC 5530; RFC 4469
/// TOOBIG; RFC 3501 UNSEEN).
public enum ResponseCode: Hashable, Sendable {
    case alert
    case alreadyExists
    /// APPENDUID uidvalidity uid-set (one UID, or a set for MULTIAPPEND).
    case appendUID(uidValidity: UInt32, uids: NumberSet)
    case authenticationFailed
    case authorizationFailed
    /// BADCHARSET [(charsets)]
    case badCharset([String])
    case cannot
    case capability([String])
    case clientBug
    case closed
    case contactAdmin
    /// COPYUID uidvalidity source-uids destination-uids (same order, RFC 4315 §3).
    case copyUID(uidValidity: UInt32, source: NumberSet, destination: NumberSet)
    case corruption
    case expired
    case expungeIssued
    case hasChildren
    case highestModSeq(UInt64)
    case inUse
    case limit
    case modified(NumberSet)
    case noModSeq
    case nonExistent
    case noPerm
    case overQuota
    case parse
    /// PERMANENTFLAGS (flags [\*]).
    case permanentFlags([Flag], allowsNewKeywords: Bool)
    case privacyRequired
    case readOnly
    case readWrite
    case serverBug
    case tooBig
    case tryCreate
    case uidNext(UInt32)
    case uidNotSticky
    case uidValidity(UInt32)
    case unavailable
    case unknownCTE
    /// UNSEEN n (IMAP4rev1 SELECT).
    case unseen(UInt32)
    /// Any other code: atom and optional text (must not contain `]`).
    case other(String, String?)
}

/// Untagged data responses (RFC 9051 §7.2–7.5 and extensions).
public enum UntaggedData: Hashable, Sendable {
    case capability([String])
    /// ENABLED (RFC 5161 §3.2).
    case enabled([String])
    case list(ListResponse)
    /// LSUB (IMAP4rev1).
    case lsub(ListResponse)
    /// NAMESPACE personal other shared (RFC 2342, RFC 9051 §7.3.2); nil is NIL.
    case namespace(personal: [NamespaceDescription]?, other: [NamespaceDescription]?, shared: [NamespaceDescription]?)
    case status(MailboxName, [StatusValue])
    case flags([Flag])
    case exists(UInt32)
    /// RECENT (IMAP4rev1).
    case recent(UInt32)
    case expunge(UInt32)
    /// VANISHED [(EARLIER)] uids (RFC 7162 §3.2.10).
    case vanished(earlier: Bool, NumberSet)
    /// SEARCH nums [(MODSEQ n)] (RFC 3501 §7.2.5, RFC 7162 §3.1.6).
    case search([UInt32], modSeq: UInt64?)
    case esearch(ESearchResponse)
    /// SORT nums [(MODSEQ n)] (RFC 5256 §4).
    case sort([UInt32], modSeq: UInt64?)
    /// THREAD (RFC 5256 §4).
    case thread([ThreadNode])
    /// ID (RFC 2971); nil is NIL.
    case id([IDField]?)
    /// QUOTA root (resource usage limit ...) (RFC 9208 §5.1).
    case quota(root: String, [QuotaUsage])
    /// QUOTAROOT mailbox root ... (RFC 9208 §5.2).
    case quotaRoot(MailboxName, roots: [String])
    /// FETCH with complete values; to stream bodies use ``FetchResponseEncoder``.
    case fetch(UInt32, [FetchValue])
}

/// A LIST/LSUB reply line (RFC 9051 §7.3.1, RFC 5258 §3).
public struct ListResponse: Hashable, Sendable {
    public var attributes: [MailboxAttribute]
    /// Hierarchy delimiter; nil is NIL (flat namespace).
    public var delimiter: Character?
    public var mailbox: MailboxName
    public var extended: [ListExtendedItem]

    public init(attributes: [MailboxAttribute], delimiter: Character?, mailbox: MailboxName,
                extended: [ListExtendedItem] = []) {
        self.attributes = attributes
        self.delimiter = delimiter
        self.mailbox = mailbox
        self.extended = extended
    }
}

/// mbox-list-extended items (RFC 5258 §3.5, RFC 9051 §7.3.1).
public enum ListExtendedItem: Hashable, Sendable {
    /// `("CHILDINFO" ("SUBSCRIBED"))`
    case childInfo([String])
    /// `("OLDNAME" ("name"))`
    case oldName(MailboxName)
}

/// One namespace: prefix and delimiter.
public struct NamespaceDescription: Hashable, Sendable {
    public var prefix: String
    public var delimiter: Character?

    public init(prefix: String, delimiter: Character?) {
        self.prefix = prefix
        self.delimiter = delimiter
    }
}

/// A STATUS reply item.
public enum StatusValue: Hashable, Sendable {
    case messages(UInt32)
    case uidNext(UInt32)
    case uidValidity(UInt32)
    case unseen(UInt32)
    case deleted(UInt32)
    case size(UInt64)
    case recent(UInt32)
    case highestModSeq(UInt64)
    /// nil is NIL (no limit), RFC 7889 §3.
    case appendLimit(UInt64?)
}

/// ESEARCH reply (RFC 4731 §3.1, RFC 9051 §7.3.4).
public struct ESearchResponse: Hashable, Sendable {
    /// The command's tag, as the `(TAG "...")` correlator.
    public var tag: String?
    public var uid: Bool
    public var min: UInt32?
    public var max: UInt32?
    public var count: UInt32?
    /// Omitted when nil or empty (a sequence-set cannot be empty).
    public var all: NumberSet?
    public var modSeq: UInt64?

    public init(tag: String?, uid: Bool, min: UInt32? = nil, max: UInt32? = nil, count: UInt32? = nil,
                all: NumberSet? = nil, modSeq: UInt64? = nil) {
        self.tag = tag
        self.uid = uid
        self.min = min
        self.max = max
        self.count = count
        self.all = all
        self.modSeq = modSeq
    }
}

/// A thread (RFC 5256 §4): a chain of messages, then its branches. A node with no `messages` is a dummy
/// parent grouping its children.
public struct ThreadNode: Hashable, Sendable {
    public var messages: [UInt32]
    public var children: [ThreadNode]

    public init(_ messages: [UInt32], children: [ThreadNode] = []) {
        self.messages = messages
        self.children = children
    }
}

/// QUOTA resource usage (RFC 9208 §5.1).
public struct QuotaUsage: Hashable, Sendable {
    public var resource: String
    public var usage: UInt64
    public var limit: UInt64

    public init(resource: String, usage: UInt64, limit: UInt64) {
        self.resource = resource
        self.usage = usage
        self.limit = limit
    }
}

/// A FETCH response item with its whole value (RFC 9051 §7.5.2). Bodies may instead be streamed with
/// ``FetchResponseEncoder/appendLiteralHeader(for:size:into:)``.
public enum FetchValue: Hashable, Sendable {
    case uid(UInt32)
    case flags([Flag])
    case internalDate(IMAPDateTime)
    case rfc822Size(UInt64)
    case modSeq(UInt64)
    /// Pre-encoded `envelope` production, e.g. `("date" "subject" ...)`, cached from the MIME layer.
    case envelope(encoded: [UInt8])
    /// Pre-encoded body structure; `extensible` selects the BODYSTRUCTURE name over BODY.
    case bodyStructure(encoded: [UInt8], extensible: Bool)
    /// BODY[section]<origin> with its content, or NIL.
    case bodySection(SectionSpec, origin: UInt64?, data: [UInt8]?)
    /// BINARY[part]<origin>; sent as literal8 when it contains NUL (RFC 3516 §4.2).
    case binary(part: [UInt32], origin: UInt64?, data: [UInt8]?)
    case binarySize(part: [UInt32], size: UInt64)
    case rfc822(data: [UInt8]?)
    case rfc822Header(data: [UInt8]?)
    case rfc822Text(data: [UInt8]?)
}

/// A FETCH item whose content the caller writes itself after the literal header (see
/// ``FetchResponseEncoder/appendLiteralHeader(for:size:into:)``).
public enum StreamedFetchItem: Hashable, Sendable {
    case bodySection(SectionSpec, origin: UInt64?)
    /// `binary` uses literal8 (`~{n}`), required when the content may contain NUL.
    case binary(part: [UInt32], origin: UInt64?, literal8: Bool)
    case rfc822
    case rfc822Header
    case rfc822Text
}

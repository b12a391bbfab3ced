/// A command with its tag.
public struct TaggedCommand: Hashable, Sendable {
    public var tag: String
    public var command: Command

    public init(tag: String, command: Command) {
        self.tag = tag
        self.command = command
    }
}

/// Every IMAP4rev1 (RFC 3501) and IMAP4rev2 (RFC 9051) command and the extensions Skjold offers, one case
/// per command (STYLE habit 1). `UID` variants carry `uid: true`.
///
/// APPEND is absent on purpose: its message literals are streamed, so the parser reports it as a sequence
/// of events (``IMAPCommandEvent/appendMessage(_:)`` ... ``IMAPCommandEvent/appendEnd(tag:)``) rather
/// than as one value holding whole messages.
public enum Command: Hashable, Sendable {
    // Any state (RFC 9051 §6.1).
    case capability
    case noop
    case logout
    /// ID (RFC 2971): field/value pairs, or nil for `ID NIL`.
    case id([IDField]?)

    // Not authenticated (RFC 9051 §6.2).
    case startTLS
    /// AUTHENTICATE mechanism [initial-response] (RFC 9051 §6.2.2, SASL-IR RFC 4959).
    case authenticate(mechanism: String, initialResponse: SASLInitialResponse?)
    case login(username: String, password: String)

    // Authenticated (RFC 9051 §6.3).
    /// ENABLE (RFC 5161): capability names, uppercased.
    case enable([String])
    case select(MailboxName, SelectParameters)
    case examine(MailboxName, SelectParameters)
    /// CREATE [(USE (...))] (RFC 6154 §3).
    case create(MailboxName, specialUse: [MailboxAttribute])
    case delete(MailboxName)
    case rename(from: MailboxName, to: MailboxName)
    case subscribe(MailboxName)
    case unsubscribe(MailboxName)
    case list(ListCommand)
    /// LSUB reference pattern (IMAP4rev1; RFC 3501 §6.3.9).
    case lsub(reference: String, pattern: String)
    case namespace
    case status(MailboxName, [StatusAttribute])
    /// IDLE (RFC 2177): after `+ idling`, call ``IMAPCommandParser/expectIdleDone()``.
    case idle
    /// COMPRESS algorithm (RFC 4978), uppercased (DEFLATE).
    case compress(algorithm: String)
    /// GETQUOTA root (RFC 9208 §4.2).
    case getQuota(root: String)
    /// GETQUOTAROOT mailbox (RFC 9208 §4.3).
    case getQuotaRoot(MailboxName)
    /// SETQUOTA root (resource limit ...) (RFC 9208 §4.1).
    case setQuota(root: String, limits: [QuotaLimit])

    // Selected (RFC 9051 §6.4).
    /// CHECK (IMAP4rev1 only).
    case check
    case close
    /// UNSELECT (RFC 3691).
    case unselect
    case expunge
    /// UID EXPUNGE set (UIDPLUS, RFC 4315 §2.1).
    case uidExpunge(SequenceSet)
    case search(SearchCommand, uid: Bool)
    case fetch(SequenceSet, [FetchAttribute], FetchModifiers, uid: Bool)
    case store(SequenceSet, StoreCommand, uid: Bool)
    case copy(SequenceSet, MailboxName, uid: Bool)
    /// MOVE (RFC 6851).
    case move(SequenceSet, MailboxName, uid: Bool)
    /// SORT (RFC 5256 §3), with ESORT RETURN options (RFC 5267).
    case sort(SortCommand, uid: Bool)
    /// THREAD (RFC 5256 §3).
    case thread(ThreadCommand, uid: Bool)

    /// The command name as written on the wire (for logs and `tag OK <NAME> completed`).
    public var name: String {
        switch self {
        case .capability: return "CAPABILITY"
        case .noop: return "NOOP"
        case .logout: return "LOGOUT"
        case .id: return "ID"
        case .startTLS: return "STARTTLS"
        case .authenticate: return "AUTHENTICATE"
        case .login: return "LOGIN"
        case .enable: return "ENABLE"
        case .select: return "SELECT"
        case .examine: return "EXAMINE"
        case .create: return "CREATE"
        case .delete: return "DELETE"
        case .rename: return "RENAME"
        case .subscribe: return "SUBSCRIBE"
        case .unsubscribe: return "UNSUBSCRIBE"
        case .list: return "LIST"
        case .lsub: return "LSUB"
        case .namespace: return "NAMESPACE"
        case .status: return "STATUS"
        case .idle: return "IDLE"
        case .compress: return "COMPRESS"
        case .getQuota: return "GETQUOTA"
        case .getQuotaRoot: return "GETQUOTAROOT"
        case .setQuota: return "SETQUOTA"
        case .check: return "CHECK"
        case .close: return "CLOSE"
        case .unselect: return "UNSELECT"
        case .expunge: return "EXPUNGE"
        case .uidExpunge: return "UID EXPUNGE"
        case .search(_, let uid): return uid ? "UID SEARCH" : "SEARCH"
        case .fetch(_, _, _, let uid): return uid ? "UID FETCH" : "FETCH"
        case .store(_, _, let uid): return uid ? "UID STORE" : "STORE"
        case .copy(_, _, let uid): return uid ? "UID COPY" : "COPY"
        case .move(_, _, let uid): return uid ? "UID MOVE" : "MOVE"
        case .sort(_, let uid): return uid ? "UID SORT" : "SORT"
        case .thread(_, let uid): return uid ? "UID THREAD" : "THREAD"
        }
    }
}

/// One ID field (RFC 2971 §3.3): a name and an optional value.
public struct IDField: Hashable, Sendable {
    public var name: String
    public var value: String?

    public init(_ name: String, _ value: String?) {
        self.name = name
        self.value = value
    }
}

/// SASL-IR initial response (RFC 4959 §7): `=` is an empty response, anything else base64, decoded.
public enum SASLInitialResponse: Hashable, Sendable {
    case empty
    case data([UInt8])
}

/// A client line answering an AUTHENTICATE challenge (RFC 9051 §6.2.2).
public enum AuthenticationResponse: Hashable, Sendable {
    /// `*`: the client cancels; answer `tag BAD`.
    case cancel
    /// The decoded base64 payload (empty for an empty line).
    case data([UInt8])
}

/// SELECT/EXAMINE parameters: CONDSTORE (RFC 7162 §3.1.8) and QRESYNC (RFC 7162 §3.2.5).
public struct SelectParameters: Hashable, Sendable {
    public var condStore: Bool
    public var qresync: QResyncParameters?

    public init(condStore: Bool = false, qresync: QResyncParameters? = nil) {
        self.condStore = condStore
        self.qresync = qresync
    }
}

/// `QRESYNC (uidvalidity modseq [known-uids] [(known-sequence-set known-uid-set)])`.
public struct QResyncParameters: Hashable, Sendable {
    public var uidValidity: UInt32
    public var modSeq: UInt64
    public var knownUIDs: SequenceSet?
    /// Sequence-match data: message numbers and their UIDs, pairwise.
    public var knownSequenceNumbers: SequenceSet?
    public var knownSequenceUIDs: SequenceSet?

    public init(uidValidity: UInt32, modSeq: UInt64, knownUIDs: SequenceSet? = nil,
                knownSequenceNumbers: SequenceSet? = nil, knownSequenceUIDs: SequenceSet? = nil) {
        self.uidValidity = uidValidity
        self.modSeq = modSeq
        self.knownUIDs = knownUIDs
        self.knownSequenceNumbers = knownSequenceNumbers
        self.knownSequenceUIDs = knownSequenceUIDs
    }
}

/// LIST selection options (RFC 5258 §3.1, SPECIAL-USE RFC 6154 §4).
public enum ListSelectionOption: String, Hashable, Sendable {
    case subscribed = "SUBSCRIBED", remote = "REMOTE", recursiveMatch = "RECURSIVEMATCH", specialUse = "SPECIAL-USE"
}

/// LIST return options (RFC 5258 §3.2, RFC 6154 §4, LIST-STATUS RFC 5819).
public enum ListReturnOption: Hashable, Sendable {
    case subscribed
    case children
    case specialUse
    case status([StatusAttribute])
}

/// A LIST command, basic or extended (RFC 9051 §6.3.9, RFC 5258).
public struct ListCommand: Hashable, Sendable {
    public var selectionOptions: [ListSelectionOption]
    /// The reference name (decoded like a mailbox name; often empty).
    public var reference: String
    /// One or more patterns with `*` and `%` wildcards, decoded.
    public var patterns: [String]
    public var returnOptions: [ListReturnOption]
    /// True when any extended syntax was used (selection options, several patterns or RETURN), which
    /// changes the reply rules (RFC 5258 §3).
    public var isExtended: Bool

    public init(selectionOptions: [ListSelectionOption] = [], reference: String, patterns: [String],
                returnOptions: [ListReturnOption] = [], isExtended: Bool = false) {
        self.selectionOptions = selectionOptions
        self.reference = reference
        self.patterns = patterns
        self.returnOptions = returnOptions
        self.isExtended = isExtended
    }
}

/// STATUS data items (RFC 9051 §6.3.11; RECENT of RFC 3501; HIGHESTMODSEQ RFC 7162 §3.1.9; SIZE
/// RFC 8438; APPENDLIMIT RFC 7889).
public enum StatusAttribute: String, Hashable, Sendable, CaseIterable {
    case messages = "MESSAGES"
    case uidNext = "UIDNEXT"
    case uidValidity = "UIDVALIDITY"
    case unseen = "UNSEEN"
    case deleted = "DELETED"
    case size = "SIZE"
    case recent = "RECENT"
    case highestModSeq = "HIGHESTMODSEQ"
    case appendLimit = "APPENDLIMIT"
}

/// `setquota-resource = resource-name SP number64` (RFC 9208 §7).
public struct QuotaLimit: Hashable, Sendable {
    /// Uppercased resource name (STORAGE, MESSAGE, MAILBOX, ANNOTATION-STORAGE).
    public var resource: String
    public var limit: UInt64

    public init(resource: String, limit: UInt64) {
        self.resource = resource
        self.limit = limit
    }
}

/// STORE flags operation (RFC 9051 §6.4.6) with UNCHANGEDSINCE (RFC 7162 §3.1.3).
public struct StoreCommand: Hashable, Sendable {
    /// FLAGS, +FLAGS or -FLAGS.
    public enum Operation: Hashable, Sendable {
        case replace, add, remove
    }

    public var operation: Operation
    /// `.SILENT`: no untagged FETCH for the change.
    public var silent: Bool
    public var flags: [Flag]
    public var unchangedSince: UInt64?

    public init(operation: Operation, silent: Bool = false, flags: [Flag], unchangedSince: UInt64? = nil) {
        self.operation = operation
        self.silent = silent
        self.flags = flags
        self.unchangedSince = unchangedSince
    }
}

/// SORT keys (RFC 5256 §3; DISPLAYFROM/DISPLAYTO RFC 5957).
public enum SortKey: String, Hashable, Sendable, CaseIterable {
    case arrival = "ARRIVAL", cc = "CC", date = "DATE", from = "FROM", size = "SIZE", subject = "SUBJECT"
    case to = "TO", displayFrom = "DISPLAYFROM", displayTo = "DISPLAYTO"
}

/// `["REVERSE" SP] sort-key`
public struct SortCriterion: Hashable, Sendable {
    public var key: SortKey
    public var reverse: Bool

    public init(_ key: SortKey, reverse: Bool = false) {
        self.key = key
        self.reverse = reverse
    }
}

/// SORT [RETURN (...)] (criteria) charset keys.
public struct SortCommand: Hashable, Sendable {
    public var criteria: [SortCriterion]
    /// Uppercased charset (UTF-8 or US-ASCII).
    public var charset: String
    public var key: SearchKey
    /// ESORT (RFC 5267 §3): nil for a classic `* SORT` reply.
    public var returnOptions: [SearchReturnOption]?

    public init(criteria: [SortCriterion], charset: String, key: SearchKey, returnOptions: [SearchReturnOption]? = nil) {
        self.criteria = criteria
        self.charset = charset
        self.key = key
        self.returnOptions = returnOptions
    }
}

/// THREAD algorithms (RFC 5256 §3).
public enum ThreadAlgorithm: Hashable, Sendable {
    case orderedSubject
    case references
    case other(String)
}

/// THREAD algorithm charset keys.
public struct ThreadCommand: Hashable, Sendable {
    public var algorithm: ThreadAlgorithm
    public var charset: String
    public var key: SearchKey

    public init(algorithm: ThreadAlgorithm, charset: String, key: SearchKey) {
        self.algorithm = algorithm
        self.charset = charset
        self.key = key
    }
}

/// A message flag: a system flag (`\Seen`, ...) or a keyword (`$Forwarded`, `Junk`) (RFC 9051 §2.3.2).
///
/// System flags are matched case-insensitively and stored in their canonical spelling; keywords keep the
/// client's spelling.
public struct Flag: Hashable, Sendable, CustomStringConvertible {
    /// Wire spelling, e.g. `\Seen` or `$Junk`.
    public let name: String

    public static let answered = Flag(canonical: "\\Answered")
    public static let flagged = Flag(canonical: "\\Flagged")
    public static let deleted = Flag(canonical: "\\Deleted")
    public static let seen = Flag(canonical: "\\Seen")
    public static let draft = Flag(canonical: "\\Draft")
    /// IMAP4rev1 only (RFC 3501 §2.3.2); removed in RFC 9051.
    public static let recent = Flag(canonical: "\\Recent")

    private static let system: [Flag] = [.answered, .flagged, .deleted, .seen, .draft, .recent]

    private init(canonical: String) { name = canonical }

    /// Validates `flag = "\" atom / atom` (RFC 9051 §9); nil when it is not an atom.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        let body = bytes.first == ASCII.backslash ? bytes.dropFirst() : bytes[...]
        guard !body.isEmpty, body.allSatisfy(ASCII.isAtomChar) else { return nil }
        if bytes.first == ASCII.backslash,
           let known = Flag.system.first(where: { ASCII.equalsKeyword(bytes, $0.name.uppercased()) }) {
            self = known
        } else {
            name = text
        }
    }

    /// True for `\`-prefixed flags.
    public var isSystemFlag: Bool { name.hasPrefix("\\") }

    public var description: String { name }
}

extension GrammarCursor {
    /// flag = "\" atom / atom
    mutating func flag() throws(GrammarError) -> Flag {
        let start = index
        _ = consume(ASCII.backslash)
        _ = try atom()
        guard let flag = Flag(String(decoding: bytes[start..<index], as: UTF8.self)) else {
            throw GrammarError("invalid flag")
        }
        return flag
    }

    /// flag-list = "(" [flag *(SP flag)] ")"
    mutating func flagList() throws(GrammarError) -> [Flag] {
        try expect(ASCII.lparen, "'('")
        var flags: [Flag] = []
        if consume(ASCII.rparen) { return flags }
        repeat { flags.append(try flag()) } while consume(ASCII.space)
        try expect(ASCII.rparen, "')'")
        return flags
    }
}

/// A mailbox attribute in LIST responses and CREATE (USE ...): `\HasChildren`, `\Noselect`, special-use
/// `\Sent`, ... (RFC 9051 §7.3.1, RFC 6154 §2, RFC 5258 §3). Known names are matched case-insensitively.
public struct MailboxAttribute: Hashable, Sendable, CustomStringConvertible {
    /// Wire spelling, including the backslash.
    public let name: String

    public static let noInferiors = MailboxAttribute(canonical: "\\Noinferiors")
    public static let noSelect = MailboxAttribute(canonical: "\\Noselect")
    public static let marked = MailboxAttribute(canonical: "\\Marked")
    public static let unmarked = MailboxAttribute(canonical: "\\Unmarked")
    public static let nonExistent = MailboxAttribute(canonical: "\\NonExistent")
    public static let subscribed = MailboxAttribute(canonical: "\\Subscribed")
    public static let remote = MailboxAttribute(canonical: "\\Remote")
    public static let hasChildren = MailboxAttribute(canonical: "\\HasChildren")
    public static let hasNoChildren = MailboxAttribute(canonical: "\\HasNoChildren")
    // Special-use (RFC 6154 §2).
    public static let all = MailboxAttribute(canonical: "\\All")
    public static let archive = MailboxAttribute(canonical: "\\Archive")
    public static let drafts = MailboxAttribute(canonical: "\\Drafts")
    public static let flagged = MailboxAttribute(canonical: "\\Flagged")
    public static let junk = MailboxAttribute(canonical: "\\Junk")
    public static let sent = MailboxAttribute(canonical: "\\Sent")
    public static let trash = MailboxAttribute(canonical: "\\Trash")

    /// The special-use attributes of RFC 6154 §2.
    public static let specialUse: [MailboxAttribute] = [.all, .archive, .drafts, .flagged, .junk, .sent, .trash]
    private static let known: [MailboxAttribute] = [
        .noInferiors, .noSelect, .marked, .unmarked, .nonExistent, .subscribed, .remote, .hasChildren,
        .hasNoChildren,
    ] + specialUse

    private init(canonical: String) { name = canonical }

    /// Validates `"\" atom`; nil otherwise.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.first == ASCII.backslash, bytes.count > 1, bytes.dropFirst().allSatisfy(ASCII.isAtomChar) else {
            return nil
        }
        name = MailboxAttribute.known.first { ASCII.equalsKeyword(bytes, $0.name.uppercased()) }?.name ?? text
    }

    /// True for the RFC 6154 special-use attributes.
    public var isSpecialUse: Bool { MailboxAttribute.specialUse.contains(self) }

    public var description: String { name }
}

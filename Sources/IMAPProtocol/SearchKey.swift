/// A search criterion (RFC 9051 §6.4.4 and §9 search-key, with the IMAP4rev1 keys of RFC 3501 §6.4.4,
/// MODSEQ of RFC 7162 §3.1.5 and OLDER/YOUNGER of RFC 5032).
///
/// Several keys written one after another are ANDed: the parser returns them as ``and(_:)``. String values
/// are decoded text (the parser accepts only the UTF-8 and US-ASCII charsets).
public indirect enum SearchKey: Hashable, Sendable {
    case all
    case answered, deleted, draft, flagged, seen
    case unanswered, undeleted, undraft, unflagged, unseen
    /// IMAP4rev1 only (RFC 3501 §6.4.4).
    case new, old, recent
    case keyword(Flag), unkeyword(Flag)
    case bcc(String), cc(String), from(String), to(String), subject(String)
    case body(String), text(String)
    /// HEADER field-name string; an empty string matches every message having the field.
    case header(field: String, value: String)
    /// Internal date (date only, timezone of the server), RFC 9051 §6.4.4.
    case before(IMAPDate), on(IMAPDate), since(IMAPDate)
    /// Date: header.
    case sentBefore(IMAPDate), sentOn(IMAPDate), sentSince(IMAPDate)
    /// RFC822.SIZE larger / smaller than.
    case larger(UInt64), smaller(UInt64)
    case uid(SequenceSet)
    case sequenceNumbers(SequenceSet)
    /// MODSEQ: messages with a mod-sequence ≥ value; the optional entry names a flag's metadata
    /// (RFC 7162 §3.1.5), which servers may treat as the whole message's mod-sequence.
    case modSeq(UInt64, entry: ModSeqEntry?)
    /// WITHIN (RFC 5032): internal date older / younger than this many seconds.
    case older(UInt32), younger(UInt32)
    case not(SearchKey)
    case or(SearchKey, SearchKey)
    case and([SearchKey])
}

/// `search-modseq-ext = SP entry-name SP entry-type-req` (RFC 7162 §7).
public struct ModSeqEntry: Hashable, Sendable {
    /// The flag in `"/flags/<flag>"`.
    public var flag: Flag
    /// `priv` / `shared` / `all`.
    public var type: String
}

/// RETURN options of an extended SEARCH (RFC 4731 §3.1, SAVE from RFC 5182 §2.2).
public enum SearchReturnOption: String, Hashable, Sendable, CaseIterable {
    case min = "MIN", max = "MAX", all = "ALL", count = "COUNT", save = "SAVE"
}

/// A parsed SEARCH (or UID SEARCH) command.
public struct SearchCommand: Hashable, Sendable {
    /// nil without RETURN (classic `* SEARCH` response); otherwise the options, where an empty list means
    /// `ALL` (RFC 4731 §3.1) and an `* ESEARCH` response is due.
    public var returnOptions: [SearchReturnOption]?
    /// The CHARSET given, uppercased (only UTF-8 or US-ASCII are accepted).
    public var charset: String?
    public var key: SearchKey

    public init(returnOptions: [SearchReturnOption]? = nil, charset: String? = nil, key: SearchKey) {
        self.returnOptions = returnOptions
        self.charset = charset
        self.key = key
    }
}

extension CommandGrammar {
    /// search-return-opts = SP "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")";
    /// called after the SP when `RETURN` is next.
    mutating func searchReturnOptions() throws(GrammarError) -> [SearchReturnOption] {
        try cursor.expectKeyword("RETURN")
        try cursor.space()
        try cursor.expect(ASCII.lparen, "'('")
        var options: [SearchReturnOption] = []
        if cursor.consume(ASCII.rparen) { return options }
        repeat {
            let word = try cursor.keyword()
            guard let option = SearchReturnOption(rawValue: word) else {
                throw GrammarError("unsupported search return option \(word)")
            }
            if !options.contains(option) { options.append(option) }
        } while cursor.consume(ASCII.space)
        try cursor.expect(ASCII.rparen, "')'")
        return options
    }

    /// charset = atom / quoted; only UTF-8 and US-ASCII are known (RFC 9051 §6.4.4 requires both).
    mutating func charset() throws(GrammarError) -> String {
        let raw = cursor.peek() == ASCII.dquote ? try cursor.quoted() : Array(try cursor.atom())
        let name = ASCII.upperString(raw)
        guard name == "UTF-8" || name == "US-ASCII" else {
            throw GrammarError(kind: .unsupportedCharset(String(decoding: raw, as: UTF8.self)))
        }
        return name
    }

    /// search-key *(SP search-key), ANDed.
    mutating func searchKeys() throws(GrammarError) -> SearchKey {
        var keys = [try searchKey(depth: 0)]
        while cursor.consume(ASCII.space) { keys.append(try searchKey(depth: 0)) }
        return keys.count == 1 ? keys[0] : .and(keys)
    }

    private mutating func searchString() throws(GrammarError) -> String {
        try GrammarCursor.utf8(try cursor.astring(), "search string")
    }

    /// One search-key. `depth` counts open parentheses, NOT and OR, bounded by
    /// ``IMAPCommandParser/Limits/maximumNestingDepth`` so `((((...` or `NOT NOT NOT ...` cannot exhaust
    /// the stack.
    mutating func searchKey(depth: Int) throws(GrammarError) -> SearchKey {
        guard depth < limits.maximumNestingDepth else { throw GrammarError("search nesting too deep") }
        if cursor.consume(ASCII.lparen) {
            var keys = [try searchKey(depth: depth + 1)]
            while cursor.consume(ASCII.space) { keys.append(try searchKey(depth: depth + 1)) }
            try cursor.expect(ASCII.rparen, "')'")
            return keys.count == 1 ? keys[0] : .and(keys)
        }
        if let b = cursor.peek(), ASCII.isDigit(b) || b == ASCII.star || b == ASCII.dollar {
            return .sequenceNumbers(try cursor.sequenceSet())
        }
        let word = try cursor.keyword()
        switch word {
        case "ALL": return .all
        case "ANSWERED": return .answered
        case "DELETED": return .deleted
        case "DRAFT": return .draft
        case "FLAGGED": return .flagged
        case "SEEN": return .seen
        case "UNANSWERED": return .unanswered
        case "UNDELETED": return .undeleted
        case "UNDRAFT": return .undraft
        case "UNFLAGGED": return .unflagged
        case "UNSEEN": return .unseen
        case "NEW": return .new
        case "OLD": return .old
        case "RECENT": return .recent
        case "KEYWORD", "UNKEYWORD":
            try cursor.space()
            let atom = try cursor.atom()
            guard let flag = Flag(String(decoding: atom, as: UTF8.self)) else { throw GrammarError("invalid keyword") }
            return word == "KEYWORD" ? .keyword(flag) : .unkeyword(flag)
        case "BCC": try cursor.space(); return .bcc(try searchString())
        case "CC": try cursor.space(); return .cc(try searchString())
        case "FROM": try cursor.space(); return .from(try searchString())
        case "TO": try cursor.space(); return .to(try searchString())
        case "SUBJECT": try cursor.space(); return .subject(try searchString())
        case "BODY": try cursor.space(); return .body(try searchString())
        case "TEXT": try cursor.space(); return .text(try searchString())
        case "HEADER":
            try cursor.space()
            let field = try searchString()
            try cursor.space()
            return .header(field: field, value: try searchString())
        case "BEFORE": try cursor.space(); return .before(try cursor.date())
        case "ON": try cursor.space(); return .on(try cursor.date())
        case "SINCE": try cursor.space(); return .since(try cursor.date())
        case "SENTBEFORE": try cursor.space(); return .sentBefore(try cursor.date())
        case "SENTON": try cursor.space(); return .sentOn(try cursor.date())
        case "SENTSINCE": try cursor.space(); return .sentSince(try cursor.date())
        case "LARGER": try cursor.space(); return .larger(try cursor.number64())
        case "SMALLER": try cursor.space(); return .smaller(try cursor.number64())
        case "OLDER": try cursor.space(); return .older(try cursor.nzNumber())
        case "YOUNGER": try cursor.space(); return .younger(try cursor.nzNumber())
        case "UID": try cursor.space(); return .uid(try cursor.sequenceSet())
        case "NOT":
            try cursor.space()
            return .not(try searchKey(depth: depth + 1))
        case "OR":
            try cursor.space()
            let a = try searchKey(depth: depth + 1)
            try cursor.space()
            return .or(a, try searchKey(depth: depth + 1))
        case "MODSEQ":
            try cursor.space()
            var entry: ModSeqEntry?
            if cursor.peek() == ASCII.dquote {
                // entry-flag-name = DQUOTE "/flags/" attr-flag DQUOTE; entry-type-req = "all"/"shared"/"priv"
                let name = try cursor.quoted()
                let prefix = Array("/flags/".utf8)
                guard name.count > prefix.count, ASCII.equalsKeyword(name.prefix(prefix.count), "/FLAGS/"),
                      let flag = Flag(String(decoding: name.dropFirst(prefix.count), as: UTF8.self)) else {
                    throw GrammarError("invalid MODSEQ entry name")
                }
                try cursor.space()
                let type = try cursor.keyword()
                guard ["ALL", "SHARED", "PRIV"].contains(type) else { throw GrammarError("invalid MODSEQ entry type") }
                try cursor.space()
                entry = ModSeqEntry(flag: flag, type: type.lowercased())
            }
            return .modSeq(try cursor.number64(), entry: entry)
        default:
            throw GrammarError("unknown search key \(word)")
        }
    }
}

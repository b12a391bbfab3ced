/// The text part of a body section: `HEADER`, `HEADER.FIELDS (...)`, `HEADER.FIELDS.NOT (...)`, `TEXT`,
/// `MIME` (RFC 9051 §6.4.5, §9 section-msgtext / section-text).
public enum SectionText: Hashable, Sendable {
    case header
    case headerFields([String])
    case headerFieldsNot([String])
    case text
    /// Only after a part number.
    case mime
}

/// `section-spec`: an optional part path (`1.2`) and an optional text specifier. Both empty means the
/// whole message (`BODY[]`).
public struct SectionSpec: Hashable, Sendable {
    /// Part numbers, each ≥ 1.
    public var part: [UInt32]
    public var text: SectionText?

    public init(part: [UInt32] = [], text: SectionText? = nil) {
        self.part = part
        self.text = text
    }

    /// The whole message: `[]`.
    public static let whole = SectionSpec()

    /// The spelling between the brackets, e.g. `1.2.HEADER.FIELDS (FROM TO)`.
    public var imapString: String {
        var s = part.map(String.init).joined(separator: ".")
        if let text {
            if !s.isEmpty { s += "." }
            switch text {
            case .header: s += "HEADER"
            case .headerFields(let f): s += "HEADER.FIELDS (" + f.joined(separator: " ") + ")"
            case .headerFieldsNot(let f): s += "HEADER.FIELDS.NOT (" + f.joined(separator: " ") + ")"
            case .text: s += "TEXT"
            case .mime: s += "MIME"
            }
        }
        return s
    }
}

/// `partial = "<" number64 "." nz-number64 ">"` (RFC 9051 §9): offset and length of a substring.
public struct Partial: Hashable, Sendable {
    public var offset: UInt64
    public var length: UInt64

    public init(offset: UInt64, length: UInt64) {
        self.offset = offset
        self.length = length
    }
}

/// One item of a FETCH request (RFC 9051 §6.4.5; BINARY of RFC 3516; MODSEQ of RFC 7162 §3.1.4). The
/// macros ALL/FAST/FULL are expanded by the parser.
public enum FetchAttribute: Hashable, Sendable {
    case envelope
    case flags
    case internalDate
    case uid
    case rfc822Size
    /// RFC822 (= BODY[]), RFC822.HEADER (= BODY.PEEK[HEADER]), RFC822.TEXT (= BODY[TEXT]): IMAP4rev1.
    case rfc822, rfc822Header, rfc822Text
    /// BODY without section: the non-extensible body structure.
    case bodyStructure(extensible: Bool)
    /// BODY[section]<partial> or BODY.PEEK[...] (peek does not set \Seen).
    case bodySection(SectionSpec, partial: Partial?, peek: Bool)
    /// BINARY[part]<partial> / BINARY.PEEK[...]: content-transfer-decoded part.
    case binary(part: [UInt32], partial: Partial?, peek: Bool)
    /// BINARY.SIZE[part]
    case binarySize(part: [UInt32])
    case modSeq

    /// FAST = (FLAGS INTERNALDATE RFC822.SIZE)
    public static let fast: [FetchAttribute] = [.flags, .internalDate, .rfc822Size]
    /// ALL = (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)
    public static let all: [FetchAttribute] = fast + [.envelope]
    /// FULL = (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY)
    public static let full: [FetchAttribute] = all + [.bodyStructure(extensible: false)]

    /// True when fetching this attribute sets \Seen (RFC 9051 §6.4.5: BODY[...] without .PEEK, BINARY,
    /// RFC822, RFC822.TEXT).
    public var setsSeen: Bool {
        switch self {
        case .rfc822, .rfc822Text: return true
        case .bodySection(_, _, let peek), .binary(_, _, let peek): return !peek
        default: return false
        }
    }
}

/// FETCH modifiers: CHANGEDSINCE (RFC 7162 §3.1.4.1) and VANISHED (RFC 7162 §3.2.6).
public struct FetchModifiers: Hashable, Sendable {
    public var changedSince: UInt64?
    /// Only valid on UID FETCH with CHANGEDSINCE; the parser enforces it.
    public var vanished: Bool

    public init(changedSince: UInt64? = nil, vanished: Bool = false) {
        self.changedSince = changedSince
        self.vanished = vanished
    }
}

extension CommandGrammar {
    /// `"ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att *(SP fetch-att) ")"`
    mutating func fetchAttributes() throws(GrammarError) -> [FetchAttribute] {
        if cursor.consume(ASCII.lparen) {
            var list: [FetchAttribute] = []
            repeat { list.append(try fetchAttribute()) } while cursor.consume(ASCII.space)
            try cursor.expect(ASCII.rparen, "')'")
            return list
        }
        if cursor.consumeKeyword("ALL") { return FetchAttribute.all }
        if cursor.consumeKeyword("FAST") { return FetchAttribute.fast }
        if cursor.consumeKeyword("FULL") { return FetchAttribute.full }
        return [try fetchAttribute()]
    }

    /// A fetch-att name: letters, digits and dots up to `[`, `<`, SP or `)`.
    private mutating func fetchName() throws(GrammarError) -> String {
        let start = cursor.index
        while let b = cursor.peek(), ASCII.isAlpha(b) || ASCII.isDigit(b) || b == ASCII.dot || b == ASCII.minus {
            cursor.index += 1
        }
        guard cursor.index > start else { throw GrammarError("expected fetch attribute") }
        return ASCII.upperString(cursor.bytes[start..<cursor.index])
    }

    mutating func fetchAttribute() throws(GrammarError) -> FetchAttribute {
        let name = try fetchName()
        switch name {
        case "ENVELOPE": return .envelope
        case "FLAGS": return .flags
        case "INTERNALDATE": return .internalDate
        case "UID": return .uid
        case "RFC822.SIZE": return .rfc822Size
        case "RFC822": return .rfc822
        case "RFC822.HEADER": return .rfc822Header
        case "RFC822.TEXT": return .rfc822Text
        case "BODYSTRUCTURE": return .bodyStructure(extensible: true)
        case "MODSEQ": return .modSeq
        case "BODY", "BODY.PEEK":
            guard cursor.peek() == ASCII.lbracket else {
                guard name == "BODY" else { throw GrammarError("BODY.PEEK needs a section") }
                return .bodyStructure(extensible: false)
            }
            let section = try section()
            return .bodySection(section, partial: try partial(), peek: name == "BODY.PEEK")
        case "BINARY", "BINARY.PEEK":
            let part = try sectionBinary()
            return .binary(part: part, partial: try partial(), peek: name == "BINARY.PEEK")
        case "BINARY.SIZE":
            return .binarySize(part: try sectionBinary())
        default:
            throw GrammarError("unknown fetch attribute \(name)")
        }
    }

    /// section-binary = "[" [section-part] "]"
    private mutating func sectionBinary() throws(GrammarError) -> [UInt32] {
        try cursor.expect(ASCII.lbracket, "'['")
        var part: [UInt32] = []
        if !cursor.consume(ASCII.rbracket) {
            repeat { part.append(try cursor.nzNumber()) } while cursor.consume(ASCII.dot)
            try cursor.expect(ASCII.rbracket, "']'")
        }
        return part
    }

    /// ```
    /// section         = "[" [section-spec] "]"
    /// section-spec    = section-msgtext / (section-part ["." section-text])
    /// section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
    /// section-text    = section-msgtext / "MIME"
    /// header-list     = "(" header-fld-name *(SP header-fld-name) ")"
    /// ```
    mutating func section() throws(GrammarError) -> SectionSpec {
        try cursor.expect(ASCII.lbracket, "'['")
        var spec = SectionSpec()
        if cursor.consume(ASCII.rbracket) { return spec }
        var wantsText = true
        if let b = cursor.peek(), ASCII.isDigit(b) {
            wantsText = false
            while true {
                spec.part.append(try cursor.nzNumber())
                guard cursor.peek() == ASCII.dot else { break }
                cursor.index += 1
                if let n = cursor.peek(), ASCII.isDigit(n) { continue }
                wantsText = true
                break
            }
        }
        if wantsText {
            let start = cursor.index
            while let b = cursor.peek(), ASCII.isAlpha(b) || b == ASCII.dot { cursor.index += 1 }
            let word = ASCII.upperString(cursor.bytes[start..<cursor.index])
            switch word {
            case "HEADER": spec.text = .header
            case "TEXT": spec.text = .text
            case "MIME":
                guard !spec.part.isEmpty else { throw GrammarError("MIME needs a part number") }
                spec.text = .mime
            case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
                try cursor.space()
                try cursor.expect(ASCII.lparen, "'('")
                var fields: [String] = []
                repeat {
                    // header-fld-name = astring; field names are printable ASCII (RFC 5322 §3.6.8).
                    let raw = try cursor.astring()
                    guard raw.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != ASCII.colon }) else {
                        throw GrammarError("invalid header field name")
                    }
                    fields.append(ASCII.upperString(raw))
                } while cursor.consume(ASCII.space)
                try cursor.expect(ASCII.rparen, "')'")
                spec.text = word == "HEADER.FIELDS" ? .headerFields(fields) : .headerFieldsNot(fields)
            default:
                throw GrammarError("invalid section")
            }
        }
        try cursor.expect(ASCII.rbracket, "']'")
        return spec
    }

    /// ["<" number64 "." nz-number64 ">"]
    mutating func partial() throws(GrammarError) -> Partial? {
        guard cursor.consume(ASCII.lt) else { return nil }
        let offset = try cursor.number64()
        try cursor.expect(ASCII.dot, "'.' in partial")
        let length = try cursor.nzNumber64()
        try cursor.expect(ASCII.gt, "'>'")
        return Partial(offset: offset, length: length)
    }

    /// fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")"; after the SP.
    mutating func fetchModifiers() throws(GrammarError) -> FetchModifiers {
        try cursor.expect(ASCII.lparen, "'('")
        var modifiers = FetchModifiers()
        repeat {
            let word = try cursor.keyword()
            switch word {
            case "CHANGEDSINCE":
                try cursor.space()
                modifiers.changedSince = try cursor.number64()
            case "VANISHED":
                modifiers.vanished = true
            default:
                throw GrammarError("unknown fetch modifier \(word)")
            }
        } while cursor.consume(ASCII.space)
        try cursor.expect(ASCII.rparen, "')'")
        return modifiers
    }
}

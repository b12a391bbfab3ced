/// A cursor over the octets of one complete command (literal payloads inline, as on the wire), with the
/// primitive productions of RFC 9051 §9: atoms, numbers, quoted strings, literals and astrings.
///
/// Every read checks bounds; nothing here traps on hostile input. Nesting depth is the caller's to count
/// (see `CommandGrammar`).
struct GrammarCursor {
    let bytes: [UInt8]
    var index: Int

    init(_ bytes: [UInt8], index: Int = 0) {
        self.bytes = bytes
        self.index = index
    }

    var isAtEnd: Bool { index >= bytes.count }

    func peek(_ offset: Int = 0) -> UInt8? {
        let i = index &+ offset
        return i >= 0 && i < bytes.count ? bytes[i] : nil
    }

    mutating func consume(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        index += 1
        return true
    }

    mutating func expect(_ byte: UInt8, _ what: @autoclosure () -> String) throws(GrammarError) {
        guard consume(byte) else { throw GrammarError("expected \(what())") }
    }

    mutating func space() throws(GrammarError) {
        try expect(ASCII.space, "SP")
    }

    mutating func expectEnd() throws(GrammarError) {
        guard isAtEnd else { throw GrammarError("unexpected characters at end of command") }
    }

    /// Consumes `keyword` (uppercase ASCII) case-insensitively when it is next and is not the prefix of a
    /// longer atom.
    mutating func consumeKeyword(_ keyword: String) -> Bool {
        var i = index
        for k in keyword.utf8 {
            guard i < bytes.count, ASCII.uppercased(bytes[i]) == k else { return false }
            i += 1
        }
        if i < bytes.count, ASCII.isAtomChar(bytes[i]) { return false }
        index = i
        return true
    }

    mutating func expectKeyword(_ keyword: String) throws(GrammarError) {
        guard consumeKeyword(keyword) else { throw GrammarError("expected \(keyword)") }
    }

    /// atom = 1*ATOM-CHAR
    mutating func atom() throws(GrammarError) -> ArraySlice<UInt8> {
        let start = index
        while let b = peek(), ASCII.isAtomChar(b) { index += 1 }
        guard index > start else { throw GrammarError("expected atom") }
        return bytes[start..<index]
    }

    /// An atom returned uppercased, for keyword dispatch.
    mutating func keyword() throws(GrammarError) -> String {
        ASCII.upperString(try atom())
    }

    /// number = 1*DIGIT, 32-bit unsigned (RFC 9051 §9).
    mutating func number() throws(GrammarError) -> UInt32 {
        let value = try digits(max: UInt64(UInt32.max))
        return UInt32(truncatingIfNeeded: value)
    }

    /// nz-number = digit-nz *DIGIT
    mutating func nzNumber() throws(GrammarError) -> UInt32 {
        let value = try number()
        guard value != 0 else { throw GrammarError("expected non-zero number") }
        return value
    }

    /// number64 = 1*DIGIT, 0 ≤ n < 2^63 (RFC 9051 §9; mod-sequence-valzer of RFC 7162 likewise).
    mutating func number64() throws(GrammarError) -> UInt64 {
        try digits(max: UInt64(Int64.max))
    }

    /// nz-number64 / mod-sequence-value (non-zero).
    mutating func nzNumber64() throws(GrammarError) -> UInt64 {
        let value = try number64()
        guard value != 0 else { throw GrammarError("expected non-zero number") }
        return value
    }

    private mutating func digits(max: UInt64) throws(GrammarError) -> UInt64 {
        var value: UInt64 = 0
        let start = index
        while let b = peek(), ASCII.isDigit(b) {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(b - ASCII.zero))
            guard !o1, !o2, s <= max else { throw GrammarError("number out of range") }
            value = s
            index += 1
        }
        guard index > start else { throw GrammarError("expected number") }
        return value
    }

    /// quoted = DQUOTE *QUOTED-CHAR DQUOTE; only `"` and `\` may be escaped. 8-bit octets are accepted
    /// (UTF8-2/3/4 are QUOTED-CHAR in RFC 9051 §9; callers that need 7-bit check afterwards).
    mutating func quoted() throws(GrammarError) -> [UInt8] {
        try expect(ASCII.dquote, "quoted string")
        var out: [UInt8] = []
        while true {
            guard let b = peek() else { throw GrammarError("unterminated quoted string") }
            index += 1
            switch b {
            case ASCII.dquote:
                return out
            case ASCII.backslash:
                guard let e = peek(), e == ASCII.dquote || e == ASCII.backslash else {
                    throw GrammarError("invalid escape in quoted string")
                }
                index += 1
                out.append(e)
            case ASCII.cr, ASCII.lf, ASCII.nul:
                throw GrammarError("invalid character in quoted string")
            default:
                out.append(b)
            }
        }
    }

    /// literal = "{" number64 ["+"] "}" CRLF *CHAR8 (RFC 9051 §9, RFC 7888 §8); the framer has already
    /// checked the size against the limits and placed exactly that many octets after the CRLF.
    /// NUL is not a CHAR8; with `binary` (literal8, `~{n}`, RFC 3516) it is allowed.
    mutating func literal(binary: Bool = false) throws(GrammarError) -> [UInt8] {
        if binary { try expect(ASCII.tilde, "literal8") }
        try expect(ASCII.lbrace, "literal")
        let size = try number64()
        _ = consume(ASCII.plus)
        try expect(ASCII.rbrace, "'}'")
        try expect(ASCII.cr, "CRLF after literal size")
        try expect(ASCII.lf, "CRLF after literal size")
        guard size <= UInt64(bytes.count - index) else { throw GrammarError("truncated literal") }
        let end = index + Int(size)
        let data = Array(bytes[index..<end])
        index = end
        if !binary, data.contains(ASCII.nul) { throw GrammarError("NUL in literal") }
        return data
    }

    /// string = quoted / literal
    mutating func string() throws(GrammarError) -> [UInt8] {
        switch peek() {
        case ASCII.dquote: return try quoted()
        case ASCII.lbrace: return try literal()
        default: throw GrammarError("expected string")
        }
    }

    /// astring = 1*ASTRING-CHAR / string. Octets ≥ 0x80 are accepted in the atom form as well (clients
    /// in UTF-8 mode send them; validation is the caller's, per field).
    mutating func astring() throws(GrammarError) -> [UInt8] {
        if peek() == ASCII.dquote || peek() == ASCII.lbrace { return try string() }
        let start = index
        while let b = peek(), ASCII.isAstringChar(b) || b >= 0x80 { index += 1 }
        guard index > start else { throw GrammarError("expected astring") }
        return Array(bytes[start..<index])
    }

    /// nstring = string / "NIL"
    mutating func nstring() throws(GrammarError) -> [UInt8]? {
        if consumeKeyword("NIL") { return nil }
        return try string()
    }

    /// list-mailbox = 1*list-char / string
    mutating func listMailbox() throws(GrammarError) -> [UInt8] {
        if peek() == ASCII.dquote || peek() == ASCII.lbrace { return try string() }
        let start = index
        while let b = peek(), ASCII.isListChar(b) || b >= 0x80 { index += 1 }
        guard index > start else { throw GrammarError("expected mailbox pattern") }
        return Array(bytes[start..<index])
    }

    /// Validated UTF-8 text of `bytes`.
    static func utf8(_ bytes: [UInt8], _ what: String) throws(GrammarError) -> String {
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw GrammarError("\(what) is not valid UTF-8")
        }
        return s
    }
}

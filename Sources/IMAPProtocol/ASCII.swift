/// Octet constants and the character classes of the IMAP grammar (RFC 9051 §9, RFC 3501 §9).
enum ASCII {
    static let nul: UInt8 = 0x00
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let dquote: UInt8 = 0x22
    static let dollar: UInt8 = 0x24
    static let percent: UInt8 = 0x25
    static let ampersand: UInt8 = 0x26
    static let lparen: UInt8 = 0x28
    static let rparen: UInt8 = 0x29
    static let star: UInt8 = 0x2A
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let minus: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let slash: UInt8 = 0x2F
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let colon: UInt8 = 0x3A
    static let lt: UInt8 = 0x3C
    static let equals: UInt8 = 0x3D
    static let gt: UInt8 = 0x3E
    static let lbracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let rbracket: UInt8 = 0x5D
    static let lbrace: UInt8 = 0x7B
    static let rbrace: UInt8 = 0x7D
    static let tilde: UInt8 = 0x7E

    static func isDigit(_ b: UInt8) -> Bool { b >= zero && b <= nine }
    static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }

    /// ATOM-CHAR: any CHAR except atom-specials `( ) { SP CTL % * " \ ]` (RFC 9051 §9).
    static func isAtomChar(_ b: UInt8) -> Bool {
        guard b > space, b < 0x7F else { return false }
        switch b {
        case lparen, rparen, lbrace, percent, star, dquote, backslash, rbracket: return false
        default: return true
        }
    }

    /// ASTRING-CHAR = ATOM-CHAR / resp-specials (`]`).
    static func isAstringChar(_ b: UInt8) -> Bool { isAtomChar(b) || b == rbracket }

    /// list-char = ATOM-CHAR / list-wildcards / resp-specials (RFC 9051 §9).
    static func isListChar(_ b: UInt8) -> Bool { isAstringChar(b) || b == percent || b == star }

    /// tag = 1*<any ASTRING-CHAR except "+">.
    static func isTagChar(_ b: UInt8) -> Bool { isAstringChar(b) && b != plus }

    static func uppercased(_ b: UInt8) -> UInt8 { (b >= 0x61 && b <= 0x7A) ? b - 0x20 : b }

    /// Case-insensitive comparison of ASCII bytes with an uppercase ASCII keyword.
    static func equalsKeyword<C: Collection>(_ bytes: C, _ keyword: String) -> Bool where C.Element == UInt8 {
        var it = bytes.makeIterator()
        for k in keyword.utf8 {
            guard let b = it.next(), uppercased(b) == k else { return false }
        }
        return it.next() == nil
    }

    /// Uppercased ASCII string of bytes that are known to be ASCII.
    static func upperString<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        String(decoding: bytes.map(uppercased), as: UTF8.self)
    }
}

/// Byte constants and character classes shared by the SMTP grammar (RFC 5321 §4.1.2, RFC 5234 core rules).
enum ASCII {
    static let nul: UInt8 = 0x00
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let dquote: UInt8 = 0x22
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let hyphen: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let lessThan: UInt8 = 0x3C
    static let equals: UInt8 = 0x3D
    static let greaterThan: UInt8 = 0x3E
    static let at: UInt8 = 0x40
    static let leftBracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let rightBracket: UInt8 = 0x5D
    static let underscore: UInt8 = 0x5F
    static let asterisk: UInt8 = 0x2A

    static func isAlpha(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) }
    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    static func isAlphaNumeric(_ b: UInt8) -> Bool { isAlpha(b) || isDigit(b) }
    static func isHexDigit(_ b: UInt8) -> Bool { hexValue(b) != nil }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }

    static func uppercased(_ b: UInt8) -> UInt8 { (b >= 0x61 && b <= 0x7A) ? b - 0x20 : b }

    /// RFC 5322 §3.2.3 atext; RFC 6531 §3.3 adds UTF8-non-ascii (validated as a whole elsewhere).
    static func isAtext(_ b: UInt8) -> Bool {
        if isAlphaNumeric(b) || b >= 0x80 { return true }
        switch b {
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2F, 0x3D, 0x3F, 0x5E, 0x5F, 0x60, 0x7B, 0x7C, 0x7D, 0x7E:
            return true
        default:
            return false
        }
    }

    /// RFC 5321 §4.1.2 qtextSMTP = %d32-33 / %d35-91 / %d93-126, plus UTF8-non-ascii (RFC 6531 §3.3).
    static func isQtextSMTP(_ b: UInt8) -> Bool {
        (b >= 32 && b <= 126 && b != ASCII.dquote && b != ASCII.backslash) || b >= 0x80
    }

    /// Case-insensitive comparison of `bytes` with an upper-case ASCII literal.
    static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ upperLiteral: String) -> Bool {
        let literal = upperLiteral.utf8
        guard bytes.count == literal.count else { return false }
        return zip(bytes, literal).allSatisfy { uppercased($0) == $1 }
    }

    /// Case-insensitive prefix test against an upper-case ASCII literal.
    static func hasPrefixIgnoringCase(_ bytes: ArraySlice<UInt8>, _ upperLiteral: String) -> Bool {
        let literal = upperLiteral.utf8
        guard bytes.count >= literal.count else { return false }
        return zip(bytes, literal).allSatisfy { uppercased($0) == $1 }
    }

    /// Strict UTF-8 decoding (no overlongs, no surrogates, nothing above U+10FFFF): nil when invalid.
    static func decodeUTF8(_ bytes: some Collection<UInt8>) -> String? {
        String(validating: bytes, as: UTF8.self)
    }

    static func containsNonASCII(_ bytes: some Sequence<UInt8>) -> Bool {
        bytes.contains { $0 >= 0x80 }
    }

    /// Trims SP and HTAB on both ends.
    static func trimmingWhitespace(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == space || first == tab { slice = slice.dropFirst() }
        while let last = slice.last, last == space || last == tab { slice = slice.dropLast() }
        return slice
    }
}

/// Writes IMAP response syntax for ENVELOPE and BODYSTRUCTURE (RFC 9051 §4.3, §9 formal syntax).
///
/// A `string` is sent quoted when every byte allows it: no NUL, CR or LF, and 7-bit only unless
/// UTF-8 may be sent raw (`utf8: true`: sessions that enabled UTF8=ACCEPT, RFC 6855 §3, or
/// IMAP4rev2, whose `QUOTED-CHAR` includes UTF8-2/3/4, RFC 9051 §9) and the bytes are valid UTF-8. Otherwise it is sent as a synchronising literal `{n}CRLF...`; NUL, which no IMAP string
/// may carry (`CHAR8` excludes it), is replaced by a space.
public struct IMAPWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// Whether raw UTF-8 may appear in quoted strings (UTF8=ACCEPT enabled).
    public let utf8: Bool
    /// Set when any string had to be written differently because of 8-bit content.
    public private(set) var usedEightBit = false

    public init(utf8: Bool) { self.utf8 = utf8 }

    public mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    public mutating func raw(_ b: UInt8) { bytes.append(b) }

    public mutating func number(_ n: Int) {
        bytes.append(contentsOf: Array(String(max(0, n)).utf8))
    }

    public mutating func nilValue() { raw("NIL") }

    /// nstring: NIL for nil, else a string.
    public mutating func nstring(_ value: [UInt8]?) {
        guard let value else { nilValue(); return }
        string(value)
    }

    /// string = quoted / literal.
    public mutating func string(_ value: [UInt8]) {
        var quotable = true
        var eightBit = false
        for b in value {
            if b == ASCII.nul || b == ASCII.cr || b == ASCII.lf { quotable = false }
            if b >= 0x80 { eightBit = true }
        }
        if eightBit {
            usedEightBit = true
            if !utf8 || !isValidUTF8(value) { quotable = false }
        }
        if quotable {
            bytes.append(ASCII.dquote)
            for b in value {
                if b == ASCII.dquote || b == ASCII.backslash { bytes.append(ASCII.backslash) }
                bytes.append(b)
            }
            bytes.append(ASCII.dquote)
        } else {
            bytes.append(0x7B) // {
            number(value.count)
            bytes.append(0x7D) // }
            bytes.append(ASCII.cr)
            bytes.append(ASCII.lf)
            for b in value { bytes.append(b == ASCII.nul ? ASCII.space : b) }
        }
    }

    public mutating func string(_ value: String) { string(Array(value.utf8)) }
}

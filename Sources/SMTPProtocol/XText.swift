/// xtext, the encoding of DSN and AUTH parameter values (RFC 3461 §4, reused by RFC 4954 §5).
///
/// ```
/// xtext   = *( xchar / hexchar )
/// xchar   = any ASCII CHAR between "!" (33) and "~" (126) inclusive, except for "+" and "="
/// hexchar = ASCII "+" immediately followed by two upper case hexadecimal digits
/// ```
/// Decoding also accepts lower-case hex digits (liberal in what we accept); encoding always writes upper case.
public enum XText {
    /// Decodes xtext; nil when it contains a byte outside xchar or a malformed `+XX`.
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var iterator = text.makeIterator()
        while let b = iterator.next() {
            if b == ASCII.plus {
                guard let h = iterator.next(), let l = iterator.next(),
                      let hi = ASCII.hexValue(h), let lo = ASCII.hexValue(l) else { return nil }
                out.append(hi << 4 | lo)
            } else if b >= 33, b <= 126, b != ASCII.equals {
                out.append(b)
            } else {
                return nil
            }
        }
        return out
    }

    /// Encodes bytes as xtext: `+XX` for "+", "=", and anything outside 33–126.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in bytes {
            if b >= 33, b <= 126, b != ASCII.plus, b != ASCII.equals {
                out.append(b)
            } else {
                out.append(ASCII.plus)
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Encodes the UTF-8 of `text`.
    public static func encode(_ text: String) -> String { encode(Array(text.utf8)) }
}

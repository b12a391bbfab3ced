/// Modified UTF-7, the mailbox-name encoding of IMAP4rev1 (RFC 3501 §5.1.3; RFC 9051 §5.1 keeps it for
/// clients that have not enabled UTF-8).
///
/// Printable US-ASCII except `&` stands for itself, `&` is written `&-`, and every other run of
/// characters is UTF-16BE in a base64 variant (`,` instead of `/`, no padding) between `&` and `-`.
public enum ModifiedUTF7 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,".utf8)

    private static func value(of b: UInt8) -> UInt8? {
        switch b {
        case 0x41...0x5A: return b - 0x41
        case 0x61...0x7A: return b - 0x61 + 26
        case 0x30...0x39: return b - 0x30 + 52
        case ASCII.plus: return 62
        case ASCII.comma: return 63
        default: return nil
        }
    }

    /// Encodes a Unicode mailbox name.
    public static func encode(_ name: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(name.utf8.count)
        var pending: [UInt16] = []
        func flush() {
            guard !pending.isEmpty else { return }
            out.append(ASCII.ampersand)
            var bits: UInt32 = 0
            var count = 0
            for unit in pending {
                bits = (bits << 16) | UInt32(unit)
                count += 16
                while count >= 6 {
                    count -= 6
                    out.append(alphabet[Int((bits >> UInt32(count)) & 0x3F)])
                }
                bits &= (1 << UInt32(count)) &- 1
            }
            if count > 0 { out.append(alphabet[Int((bits << UInt32(6 - count)) & 0x3F)]) }
            out.append(ASCII.minus)
            pending.removeAll(keepingCapacity: true)
        }
        for scalar in name.unicodeScalars {
            if scalar.value >= 0x20 && scalar.value <= 0x7E {
                flush()
                out.append(UInt8(scalar.value))
                if scalar.value == UInt32(ASCII.ampersand) { out.append(ASCII.minus) }
            } else {
                pending.append(contentsOf: String(scalar).utf16)
            }
        }
        flush()
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes a modified UTF-7 name, or returns nil when it is not in canonical form: octets outside
    /// printable ASCII, an unterminated or empty shift, bad base64, non-zero or excess padding bits, odd
    /// UTF-16 length, unpaired surrogates, a shifted printable ASCII character, or two adjacent shifts
    /// (all of which RFC 3501 §5.1.3 forbids), and a shifted NUL.
    public static func decode<C: Collection>(_ bytes: C) -> String? where C.Element == UInt8 {
        var scalars = String.UnicodeScalarView()
        var i = bytes.startIndex
        var lastWasShift = false
        while i != bytes.endIndex {
            let b = bytes[i]
            guard b >= 0x20, b <= 0x7E else { return nil }
            i = bytes.index(after: i)
            guard b == ASCII.ampersand else {
                scalars.append(Unicode.Scalar(b))
                lastWasShift = false
                continue
            }
            guard i != bytes.endIndex else { return nil }
            if bytes[i] == ASCII.minus {
                scalars.append("&")
                i = bytes.index(after: i)
                lastWasShift = false
                continue
            }
            if lastWasShift { return nil }
            var units: [UInt16] = []
            var bits: UInt32 = 0
            var count = 0
            var terminated = false
            while i != bytes.endIndex {
                let c = bytes[i]
                i = bytes.index(after: i)
                if c == ASCII.minus { terminated = true; break }
                guard let v = value(of: c) else { return nil }
                bits = (bits << 6) | UInt32(v)
                count += 6
                if count >= 16 {
                    count -= 16
                    units.append(UInt16(truncatingIfNeeded: bits >> UInt32(count)))
                    bits &= (1 << UInt32(count)) &- 1
                }
            }
            guard terminated, !units.isEmpty, count < 6, bits == 0 else { return nil }
            var decoded = String.UnicodeScalarView()
            var iterator = units.makeIterator()
            var utf16 = UTF16()
            loop: while true {
                switch utf16.decode(&iterator) {
                case .scalarValue(let s):
                    // Printable ASCII must stand for itself; NUL can never be part of a name.
                    if (s.value >= 0x20 && s.value <= 0x7E) || s.value == 0 { return nil }
                    decoded.append(s)
                case .emptyInput: break loop
                case .error: return nil
                }
            }
            scalars.append(contentsOf: decoded)
            lastWasShift = true
        }
        return String(scalars)
    }
}

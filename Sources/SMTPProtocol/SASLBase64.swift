/// Strict base64 (RFC 4648 §4) for SASL exchanges (RFC 4954 §4).
///
/// Decoding refuses anything that is not canonical base64: characters outside the alphabet, whitespace,
/// missing or misplaced padding, a length that is not a multiple of 4, and non-zero pad bits
/// (RFC 4648 §3.5). Being strict closes the door on ambiguous encodings of credentials.
public enum SASLBase64 {
    /// Decodes strict base64; nil when malformed. The empty string decodes to no bytes.
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        let input = Array(text)
        guard input.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 4 * 3)
        var i = 0
        while i < input.count {
            let isLastQuantum = i + 4 == input.count
            let c0 = input[i], c1 = input[i + 1], c2 = input[i + 2], c3 = input[i + 3]
            guard let v0 = value(c0), let v1 = value(c1) else { return nil }
            if c2 == ASCII.equals {
                // "xx==": one byte; the low 4 bits of v1 must be zero.
                guard isLastQuantum, c3 == ASCII.equals, v1 & 0x0F == 0 else { return nil }
                out.append(v0 << 2 | v1 >> 4)
            } else if c3 == ASCII.equals {
                // "xxx=": two bytes; the low 2 bits of v2 must be zero.
                guard isLastQuantum, let v2 = value(c2), v2 & 0x03 == 0 else { return nil }
                out.append(v0 << 2 | v1 >> 4)
                out.append((v1 & 0x0F) << 4 | v2 >> 2)
            } else {
                guard let v2 = value(c2), let v3 = value(c3) else { return nil }
                out.append(v0 << 2 | v1 >> 4)
                out.append((v1 & 0x0F) << 4 | v2 >> 2)
                out.append((v2 & 0x03) << 6 | v3)
            }
            i += 4
        }
        return out
    }

    /// Encodes with padding.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var i = 0
        while i < input.count {
            let b0 = input[i]
            let b1 = i + 1 < input.count ? input[i + 1] : 0
            let b2 = i + 2 < input.count ? input[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(i + 1 < input.count ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : ASCII.equals)
            out.append(i + 2 < input.count ? alphabet[Int(b2 & 0x3F)] : ASCII.equals)
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x41...0x5A: return c - 0x41
        case 0x61...0x7A: return c - 0x61 + 26
        case 0x30...0x39: return c - 0x30 + 52
        case 0x2B: return 62
        case 0x2F: return 63
        default: return nil
        }
    }
}

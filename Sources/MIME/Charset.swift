/// Charsets this module converts to Unicode (RFC 2046 §4.1.2 `charset` parameter, RFC 2047 encoded
/// words). Conversion is table-driven and total: no input makes it fail, only ``decode(_:)`` of an
/// unknown charset returns nil so callers can keep the original text.
public enum Charset: Sendable, Hashable {
    case utf8
    case usASCII
    case iso8859_1
    case iso8859_15
    case windows1252

    /// Looks a charset up by its IANA name or a common alias (case-insensitive). Nil if unknown.
    public init?(name: [UInt8]) {
        let n = String(decoding: name.trimmingWhitespace.asciiLowercased, as: UTF8.self)
        switch n {
        case "utf-8", "utf8", "unicode-1-1-utf-8":
            self = .utf8
        case "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us", "ibm367", "cp367", "csascii":
            self = .usASCII
        case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "l1", "iso-ir-100", "ibm819", "cp819",
             "csisolatin1", "iso_8859-1:1987":
            self = .iso8859_1
        case "iso-8859-15", "iso8859-15", "iso_8859-15", "latin-9", "latin9", "l9":
            self = .iso8859_15
        case "windows-1252", "cp1252", "x-cp1252", "cswindows1252":
            self = .windows1252
        default:
            return nil
        }
    }

    /// Looks a charset up by name.
    public init?(name: String) { self.init(name: Array(name.utf8)) }

    /// Converts `bytes` to a String. Malformed input becomes U+FFFD; never fails.
    public func decode(_ bytes: [UInt8]) -> String {
        switch self {
        case .utf8:
            return String(decoding: bytes, as: UTF8.self)
        case .usASCII:
            // Mislabelled 8-bit text is common; prefer UTF-8 when it is valid, else windows-1252.
            if !hasEightBit(bytes) || isValidUTF8(bytes) { return String(decoding: bytes, as: UTF8.self) }
            return Charset.windows1252.decode(bytes)
        case .iso8859_1:
            var s = String.UnicodeScalarView()
            for b in bytes { s.append(Unicode.Scalar(b)) }
            return String(s)
        case .iso8859_15:
            var s = String.UnicodeScalarView()
            for b in bytes { s.append(Charset.latin9(b)) }
            return String(s)
        case .windows1252:
            var s = String.UnicodeScalarView()
            for b in bytes { s.append(Charset.cp1252(b)) }
            return String(s)
        }
    }

    /// Decodes with the named charset, or nil when the charset is unknown.
    public static func decode(_ bytes: [UInt8], charsetName: [UInt8]) -> String? {
        Charset(name: charsetName)?.decode(bytes)
    }

    /// Best-effort decode of text with no (or an unknown) declared charset: UTF-8 when valid,
    /// else windows-1252 (a superset of the printable part of ISO-8859-1).
    public static func decodeGuessing(_ bytes: [UInt8]) -> String {
        if !hasEightBit(bytes) || isValidUTF8(bytes) { return String(decoding: bytes, as: UTF8.self) }
        return Charset.windows1252.decode(bytes)
    }

    // windows-1252 0x80...0x9F (WHATWG encoding table); undefined slots map to the C1 control.
    private static let cp1252High: [UInt32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
        0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ]

    private static func cp1252(_ b: UInt8) -> Unicode.Scalar {
        if b >= 0x80, b <= 0x9F, let s = Unicode.Scalar(cp1252High[Int(b &- 0x80)]) { return s }
        return Unicode.Scalar(b)
    }

    private static func latin9(_ b: UInt8) -> Unicode.Scalar {
        let v: UInt32
        switch b {
        case 0xA4: v = 0x20AC
        case 0xA6: v = 0x0160
        case 0xA8: v = 0x0161
        case 0xB4: v = 0x017D
        case 0xB8: v = 0x017E
        case 0xBC: v = 0x0152
        case 0xBD: v = 0x0153
        case 0xBE: v = 0x0178
        default: v = UInt32(b)
        }
        return Unicode.Scalar(v) ?? Unicode.Scalar(b)
    }
}

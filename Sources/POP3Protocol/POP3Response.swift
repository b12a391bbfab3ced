/// RFC 2449 §8 / RFC 3206 extended response codes.
public enum POP3ResponseCode: String, Sendable, Hashable {
    case inUse = "IN-USE"
    case loginDelay = "LOGIN-DELAY"
    case auth = "AUTH"
    case sysTemp = "SYS/TEMP"
    case sysPerm = "SYS/PERM"
}

/// Single-line and multi-line POP3 responses (RFC 1939 §3).
public enum POP3Response {
    /// `+OK text\r\n`.
    public static func ok(_ text: String = "") -> [UInt8] {
        Array((text.isEmpty ? "+OK\r\n" : "+OK \(sanitized(text))\r\n").utf8)
    }

    /// `-ERR [CODE] text\r\n`.
    public static func err(_ text: String, code: POP3ResponseCode? = nil) -> [UInt8] {
        let prefix = code.map { "[\($0.rawValue)] " } ?? ""
        return Array("-ERR \(prefix)\(sanitized(text))\r\n".utf8)
    }

    /// `+ base64\r\n` (RFC 5034 §4 continuation); empty challenge is `+ \r\n`.
    public static func continuation(_ base64: String = "") -> [UInt8] {
        Array("+ \(base64)\r\n".utf8)
    }

    /// A complete multi-line response whose lines are short protocol text (CAPA, LIST, UIDL): `+OK`, the
    /// byte-stuffed lines, and the terminating `.`.
    public static func multiline(_ first: String, lines: [String]) -> [UInt8] {
        var out = ok(first)
        var stuffer = POP3ByteStuffer()
        for line in lines { stuffer.encode(Array((sanitized(line) + "\r\n").utf8)[...], into: &out) }
        stuffer.finish(into: &out)
        return out
    }

    /// Response text cannot contain CR, LF or other controls (no response splitting from echoed input).
    static func sanitized(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
    }
}

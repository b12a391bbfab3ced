import Foundation

/// The trace fields added to a message on its way in (RFC 5321 §4.4): `Received:` at the moment of
/// acceptance, `Return-Path:` and `Delivered-To:` at final delivery. Pure text building.
public enum TraceHeaders {
    /// How the message arrived, for the `with` clause (RFC 3848, RFC 6531 §3.7.3).
    public struct Transport: Sendable, Equatable {
        /// The client said EHLO (not HELO).
        public var extended: Bool
        /// The client authenticated (AUTH).
        public var authenticated: Bool
        /// The transaction used SMTPUTF8.
        public var utf8: Bool
        /// TLS version and cipher suite, when the connection was encrypted.
        public var tlsVersion: String?
        public var tlsCipher: String?

        public init(extended: Bool, authenticated: Bool, utf8: Bool, tlsVersion: String? = nil, tlsCipher: String? = nil) {
            self.extended = extended
            self.authenticated = authenticated
            self.utf8 = utf8
            self.tlsVersion = tlsVersion
            self.tlsCipher = tlsCipher
        }

        /// `SMTP`, `ESMTP`, `ESMTPS`, `ESMTPA`, `ESMTPSA`, `UTF8SMTPS`, ... (the "with" protocol registry).
        public var protocolName: String {
            var name = utf8 ? "UTF8SMTP" : (extended ? "ESMTP" : "SMTP")
            if !extended && !utf8 { return name }
            if tlsVersion != nil { name += "S" }
            if authenticated { name += "A" }
            return name
        }
    }

    /// `Received: from HELO (ADDRESS) by HOST (Skjold) with PROTO id ID (TLS) for <RCPT>; DATE` folded over
    /// several lines. `clientAddress` is nil unless the admin enabled `log_ip_addresses`.
    public static func received(helo: String?, clientAddress: String?, hostname: String, transport: Transport,
                                id: String, recipient: String?, date: Date) -> [UInt8] {
        var text = "Received: from \(sanitized(helo ?? "unknown"))"
        if let clientAddress {
            text += " ([\(clientAddress.contains(":") ? "IPv6:" + clientAddress : clientAddress)])"
        }
        text += "\r\n\tby \(hostname) (Skjold) with \(transport.protocolName) id \(id)"
        if let version = transport.tlsVersion {
            text += "\r\n\t(version=\(version) cipher=\(transport.tlsCipher ?? "unknown"))"
        }
        if let recipient {
            text += "\r\n\tfor <\(sanitized(recipient))>"
        }
        text += ";\r\n\t\(rfc5322Date(date))\r\n"
        return Array(text.utf8)
    }

    /// `Return-Path: <sender>` (empty brackets for the null reverse-path, RFC 5321 §4.4).
    public static func returnPath(_ sender: String) -> [UInt8] {
        Array("Return-Path: <\(sanitized(sender))>\r\n".utf8)
    }

    /// `Delivered-To: address`, the final recipient (lets clients and filters see which address was hit).
    public static func deliveredTo(_ address: String) -> [UInt8] {
        Array("Delivered-To: \(sanitized(address))\r\n".utf8)
    }

    /// RFC 5322 §3.3 date-time in UTC, e.g. `Sun, 29 Nov 2026 08:00:00 +0000`.
    public static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int?) -> String { let v = n ?? 0; return v < 10 ? "0\(v)" : "\(v)" }
        let weekday = days[((c.weekday ?? 1) - 1 + 7) % 7]
        let month = months[((c.month ?? 1) - 1 + 12) % 12]
        return "\(weekday), \(two(c.day)) \(month) \(c.year ?? 1970) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) +0000"
    }

    /// Header text must not carry CR/LF or other controls from the client (header injection); UTF-8 stays.
    static func sanitized(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }))
    }
}

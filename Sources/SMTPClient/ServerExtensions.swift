/// The service extensions a server announced in its EHLO reply (RFC 5321 §4.1.1.1):
///
/// ```
/// ehlo-ok-rsp = ( "250" SP Domain [ SP ehlo-greet ] CRLF )
///             / ( "250-" Domain [ SP ehlo-greet ] CRLF
///                 *( "250-" ehlo-line CRLF )
///                 "250" SP ehlo-line CRLF )
/// ehlo-line   = ehlo-keyword *( SP ehlo-param )
/// ```
/// Keywords are case-insensitive and kept upper-cased; parameters are kept as sent, joined by one space.
struct ServerExtensions: Sendable, Hashable {
    private(set) var keywords: [String: String] = [:]

    /// No extensions (after HELO).
    init() {}

    init(ehloReply: SMTPClientReply) {
        for line in ehloReply.lines.dropFirst() {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let keyword = words.first, !keyword.isEmpty else { continue }
            keywords[keyword.uppercased()] = words.dropFirst().joined(separator: " ")
        }
    }

    func offers(_ keyword: String) -> Bool { keywords[keyword] != nil }

    var pipelining: Bool { offers("PIPELINING") }
    var startTLS: Bool { offers("STARTTLS") }
    var eightBitMIME: Bool { offers("8BITMIME") }
    var smtpUTF8: Bool { offers("SMTPUTF8") }
    var dsn: Bool { offers("DSN") }
    var size: Bool { offers("SIZE") }

    /// RFC 1870 §4: `SIZE` with no number, or 0, declares no fixed limit.
    var maximumMessageSize: Int64? {
        guard let parameter = keywords["SIZE"], let limit = Int64(parameter), limit > 0 else { return nil }
        return limit
    }

    /// RFC 4954 §3: `AUTH` followed by the mechanism names.
    var authMechanisms: [String] {
        guard let parameter = keywords["AUTH"] else { return [] }
        return parameter.split(separator: " ").map { $0.uppercased() }
    }
}

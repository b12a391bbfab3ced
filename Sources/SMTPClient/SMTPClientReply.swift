import SMTPProtocol

/// A reply received from the remote server (RFC 5321 §4.2), with its enhanced status code (RFC 3463) split
/// off the text. Text is sanitised to printable US-ASCII by ``SMTPReplyParser``, so it is safe to log or to
/// quote in a delivery status notification.
public struct SMTPClientReply: Sendable, Hashable, CustomStringConvertible {
    /// 200–599.
    public var code: Int
    /// `"5.1.1"`, when the server sent one matching the code's class.
    public var enhancedCode: String?
    /// The text of each line, without code and enhanced code; at least one (possibly empty) line.
    public var lines: [String]

    public init(code: Int, enhancedCode: String? = nil, lines: [String]) {
        self.code = code
        self.enhancedCode = enhancedCode
        self.lines = lines.isEmpty ? [""] : lines
    }

    init(_ reply: SMTPReply) {
        self.init(code: reply.code, enhancedCode: reply.enhancedCode?.description, lines: reply.lines)
    }

    /// 4xx: try again later (RFC 5321 §4.2.1).
    public var isTransient: Bool { (400...499).contains(code) }
    /// 5xx: do not retry as is.
    public var isPermanent: Bool { code >= 500 }
    /// 2xx or 3xx.
    public var isPositive: Bool { (200...399).contains(code) }

    /// `"550 5.1.1 text"`, lines of a multi-line reply joined with `" / "`.
    public var description: String {
        var text = String(code)
        if let enhancedCode { text += " " + enhancedCode }
        let joined = lines.filter { !$0.isEmpty }.joined(separator: " / ")
        if !joined.isEmpty { text += " " + joined }
        return text
    }
}

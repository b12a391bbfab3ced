/// Every command the SMTP server understands, as one exhaustive enum (RFC 5321 §4.1.1 plus extensions).
///
/// Produced by ``SMTPCommandParser/parse(line:)``; ``encode()`` writes the wire form (for the outbound
/// client and for round-trip tests). Which commands a session state allows is decided by the server's state
/// machine, not here.
public enum SMTPCommand: Sendable, Hashable {
    /// `HELO SP Domain` (RFC 5321 §4.1.1.1). Address literals are accepted too, as real clients send them.
    case helo(MailDomain)
    /// `EHLO SP ( Domain / address-literal )` (RFC 5321 §4.1.1.1).
    case ehlo(MailDomain)
    /// `MAIL FROM:Reverse-path [SP Mail-parameters]` (RFC 5321 §4.1.1.2).
    case mail(reversePath: ReversePath, params: MailParameters)
    /// `RCPT TO:Forward-path [SP Rcpt-parameters]` (RFC 5321 §4.1.1.3).
    case rcpt(forwardPath: ForwardPath, params: RcptParameters)
    /// `DATA` (RFC 5321 §4.1.1.4).
    case data
    /// `BDAT SP chunk-size [SP "LAST"]` (RFC 3030 §2): exactly `size` octets of message follow the line.
    case bdat(size: Int, last: Bool)
    /// `RSET` (RFC 5321 §4.1.1.5).
    case rset
    /// `NOOP [SP String]` (RFC 5321 §4.1.1.9); the argument is ignored.
    case noop
    /// `QUIT` (RFC 5321 §4.1.1.10).
    case quit
    /// `VRFY SP String` (RFC 5321 §4.1.1.6).
    case vrfy(String)
    /// `EXPN SP String` (RFC 5321 §4.1.1.7).
    case expn(String)
    /// `HELP [SP String]` (RFC 5321 §4.1.1.8); the argument is ignored.
    case help
    /// `STARTTLS` (RFC 3207 §4).
    case startTLS
    /// `AUTH SP mechanism [SP initial-response]` (RFC 4954 §4). `mechanism` is upper-cased;
    /// `initialResponse` is base64-decoded, `[]` for "=" (empty), nil when absent.
    case auth(mechanism: String, initialResponse: [UInt8]?)
    /// A line whose verb is not one of the above (reply ``SMTPReply/commandUnrecognized``). `verb` is the
    /// first word, upper-cased, made printable and cut to 16 characters — fine for logs and for spotting
    /// HTTP requests (`GET`, `POST`) sent to the SMTP port.
    case unknown(verb: String)

    /// The command verb, e.g. `"MAIL"`.
    public var verb: String {
        switch self {
        case .helo: return "HELO"
        case .ehlo: return "EHLO"
        case .mail: return "MAIL"
        case .rcpt: return "RCPT"
        case .data: return "DATA"
        case .bdat: return "BDAT"
        case .rset: return "RSET"
        case .noop: return "NOOP"
        case .quit: return "QUIT"
        case .vrfy: return "VRFY"
        case .expn: return "EXPN"
        case .help: return "HELP"
        case .startTLS: return "STARTTLS"
        case .auth: return "AUTH"
        case .unknown(let verb): return verb
        }
    }

    /// The command line in wire form, CRLF included.
    public func encode() -> [UInt8] {
        var text: String
        switch self {
        case .helo(let domain): text = "HELO \(domain)"
        case .ehlo(let domain): text = "EHLO \(domain)"
        case .mail(let path, let params): text = (["MAIL FROM:\(path)"] + params.encoded).joined(separator: " ")
        case .rcpt(let path, let params): text = (["RCPT TO:\(path)"] + params.encoded).joined(separator: " ")
        case .data: text = "DATA"
        case .bdat(let size, let last): text = last ? "BDAT \(size) LAST" : "BDAT \(size)"
        case .rset: text = "RSET"
        case .noop: text = "NOOP"
        case .quit: text = "QUIT"
        case .vrfy(let argument): text = "VRFY \(argument)"
        case .expn(let argument): text = "EXPN \(argument)"
        case .help: text = "HELP"
        case .startTLS: text = "STARTTLS"
        case .auth(let mechanism, let initialResponse):
            text = "AUTH \(mechanism)"
            if let initialResponse {
                // RFC 4954 §4: an empty initial response is sent as "=".
                text += initialResponse.isEmpty ? " =" : " " + SASLBase64.encode(initialResponse)
            }
        case .unknown(let verb): text = verb
        }
        return Array(text.utf8) + [ASCII.cr, ASCII.lf]
    }
}

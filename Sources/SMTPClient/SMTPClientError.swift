/// Why a connection or a transaction failed as a whole (per-recipient refusals are replies in
/// ``SMTPTransactionResult``, not errors). After any error thrown by a connection's I/O the connection is
/// closed; only ``messageTooLarge``, ``smtpUTF8NotSupported`` and ``invalidArgument(_:)`` from
/// ``SMTPClientConnection/send(_:)`` leave it usable.
public enum SMTPClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// TCP connection could not be established (refused, unreachable, name not resolved).
    case connectFailed(String)
    /// A wait exceeded its timeout (named in the text); the connection was closed.
    case timeout(String)
    /// The greeting was not 220 (RFC 5321 §3.1: 554, or 421 when the server is busy).
    case greetingRefused(SMTPClientReply)
    /// Both EHLO and HELO failed, or EHLO failed with 4xx, or EHLO after STARTTLS failed.
    case heloRefused(SMTPClientReply)
    /// STARTTLS answered with something else than 220 while TLS is required.
    case startTLSRefused(SMTPClientReply)
    /// TLS is required (or needed for AUTH) and the server does not offer STARTTLS.
    case tlsUnavailable
    case tlsHandshakeFailed(String)
    case authenticationFailed(SMTPClientReply)
    /// Credentials are configured but cannot be used: no TLS, or no AUTH PLAIN offered.
    case authenticationUnavailable(String)
    case connectionClosed(String)
    /// The server broke the reply grammar or its bounds (line too long, too many lines, bad code).
    case protocolViolation(String)
    /// The message is larger than the server's SIZE (RFC 1870 §6); nothing was sent.
    case messageTooLarge(limit: Int64)
    /// The message needs SMTPUTF8 and the server does not offer it (RFC 6531 §3.2); nothing was sent.
    case smtpUTF8NotSupported
    /// A value from the caller cannot be put in a command (e.g. a CR or LF in an address); nothing was sent.
    case invalidArgument(String)
    /// The message file could not be read; the connection was closed (DATA cannot be cancelled).
    case messageUnreadable(String)

    /// True when retrying the same message at the same server cannot succeed (a bounce is due); false for
    /// failures worth retrying later.
    public var isPermanent: Bool {
        switch self {
        case .greetingRefused(let reply), .heloRefused(let reply), .authenticationFailed(let reply):
            return reply.isPermanent
        case .messageTooLarge, .smtpUTF8NotSupported, .invalidArgument:
            return true
        case .connectFailed, .timeout, .startTLSRefused, .tlsUnavailable, .tlsHandshakeFailed,
             .authenticationUnavailable, .connectionClosed, .protocolViolation, .messageUnreadable:
            return false
        }
    }

    public var description: String {
        switch self {
        case .connectFailed(let reason): return "connection failed: \(reason)"
        case .timeout(let what): return "timeout: \(what)"
        case .greetingRefused(let reply): return "greeting refused: \(reply)"
        case .heloRefused(let reply): return "EHLO/HELO refused: \(reply)"
        case .startTLSRefused(let reply): return "STARTTLS refused: \(reply)"
        case .tlsUnavailable: return "STARTTLS not offered"
        case .tlsHandshakeFailed(let reason): return "TLS handshake failed: \(reason)"
        case .authenticationFailed(let reply): return "authentication failed: \(reply)"
        case .authenticationUnavailable(let reason): return "authentication unavailable: \(reason)"
        case .connectionClosed(let reason): return "connection closed: \(reason)"
        case .protocolViolation(let reason): return "protocol violation: \(reason)"
        case .messageTooLarge(let limit): return "message larger than the server's limit of \(limit) octets"
        case .smtpUTF8NotSupported: return "message needs SMTPUTF8, which the server does not offer"
        case .invalidArgument(let reason): return "invalid argument: \(reason)"
        case .messageUnreadable(let reason): return "message file unreadable: \(reason)"
        }
    }
}

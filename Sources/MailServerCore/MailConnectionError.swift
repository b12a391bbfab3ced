/// Errors from `MailConnection` operations. Protocol servers map them to their replies at the edge:
/// `timeout` and `shuttingDown` to a goodbye (`421 4.4.2`, `421 4.3.2`, `* BYE`, `-ERR`), the rest to
/// closing the connection.
public enum MailConnectionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No byte arrived within `MailConnection.idleTimeout` while reading, or the client did not read
    /// our output for that long while we had more to send.
    case timeout
    /// The server is shutting down and the session was waiting for a new command (no client bytes were
    /// buffered): send the protocol's goodbye and end the session.
    case shuttingDown
    /// The connection is closed (by the client, by an error, or by `close()`).
    case closed
    /// `startTLS()` on a connection that already uses TLS.
    case tlsAlreadyActive
    /// `startTLS()` on a listener that was configured without a STARTTLS certificate.
    case startTLSUnavailable
    /// The TLS handshake failed; `reason` is the TLS library's description (never client data).
    case tlsHandshakeFailed(reason: String)
    /// The client did not complete the TLS handshake in time.
    case tlsHandshakeTimeout
    /// A second read (or `startTLS()`) was started while a read was still waiting: one task must own
    /// the input side of a connection.
    case concurrentRead

    public var description: String {
        switch self {
        case .timeout: return "idle timeout"
        case .shuttingDown: return "server shutting down"
        case .closed: return "connection closed"
        case .tlsAlreadyActive: return "TLS already active"
        case .startTLSUnavailable: return "STARTTLS not configured"
        case .tlsHandshakeFailed(let reason): return "TLS handshake failed: \(reason)"
        case .tlsHandshakeTimeout: return "TLS handshake timed out"
        case .concurrentRead: return "concurrent read on one connection"
        }
    }
}

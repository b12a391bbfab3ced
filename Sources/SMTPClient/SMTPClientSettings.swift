/// When the client upgrades a connection with STARTTLS (RFC 3207).
public enum SMTPClientTLSMode: Sendable, Hashable {
    /// STARTTLS when the server offers it, plaintext otherwise or when the server refuses the command; the
    /// certificate is not checked (opportunistic security, RFC 7435 §1.3: encryption without authentication
    /// beats no encryption). A failed handshake still fails the connection: the caller may retry in
    /// plaintext with ``disabled``, as MTAs do.
    case opportunistic
    /// STARTTLS or nothing: the connection fails when STARTTLS is not offered or refused. The certificate is
    /// checked as ``SMTPClientSettings/certificateVerification`` says (by default not at all, like Postfix's
    /// `encrypt` level).
    case required
    /// Never STARTTLS (tests, or a retry after a failed handshake).
    case disabled
}

/// How the server's certificate is checked when TLS is ``SMTPClientTLSMode/required``.
public enum SMTPClientCertificateVerification: Sendable, Hashable {
    /// No check: encryption against passive observers only.
    case none
    /// Chain to the system's trust roots and match the host name.
    case systemTrustRoots
    /// Chain to the CA certificates in a PEM file (a private smarthost) and match the host name.
    case trustRoots(pemFile: String)
}

/// Credentials for AUTH PLAIN at a smarthost (RFC 4954, RFC 4616). Sent only over TLS.
public struct SMTPClientCredentials: Sendable, Hashable, CustomStringConvertible {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// Never shows the password (it could end up in a log line).
    public var description: String { "SMTPClientCredentials(username: \(username), password: <redacted>)" }
}

/// Settings of one outbound connection. Timeouts follow RFC 5321 §4.5.3.2.
public struct SMTPClientSettings: Sendable {
    /// Our name in EHLO/HELO: a fully-qualified domain name or an address literal (RFC 5321 §4.1.1.1).
    public var heloName: String
    public var tls: SMTPClientTLSMode = .opportunistic
    /// Only with ``SMTPClientTLSMode/required``; opportunistic TLS never checks (RFC 7435).
    public var certificateVerification: SMTPClientCertificateVerification = .none
    /// AUTH PLAIN after TLS; nil = no authentication (MX delivery).
    public var credentials: SMTPClientCredentials?
    /// TCP connection establishment.
    public var connectTimeout: Duration = .seconds(30)
    /// RFC 5321 §4.5.3.2.1: initial 220 message, 5 minutes.
    public var greetingTimeout: Duration = .seconds(300)
    /// RFC 5321 §4.5.3.2.2–4: MAIL, RCPT and the other commands (also DATA's 354 and the TLS handshake).
    public var commandTimeout: Duration = .seconds(300)
    /// RFC 5321 §4.5.3.2.5: each block of message data handed to the network, 3 minutes.
    public var dataBlockTimeout: Duration = .seconds(180)
    /// RFC 5321 §4.5.3.2.6: the reply after the final ".", 10 minutes.
    public var dataTerminationTimeout: Duration = .seconds(600)

    public init(heloName: String, tls: SMTPClientTLSMode = .opportunistic, credentials: SMTPClientCredentials? = nil) {
        self.heloName = heloName
        self.tls = tls
        self.credentials = credentials
    }
}

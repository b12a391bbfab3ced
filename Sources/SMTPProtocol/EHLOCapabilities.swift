/// The extensions announced in the EHLO reply (RFC 5321 §4.1.1.1), computed from the session's situation
/// so that the order is always the same:
///
/// `PIPELINING` (RFC 2920), `SIZE n` (RFC 1870), `8BITMIME` (RFC 6152), `SMTPUTF8` (RFC 6531),
/// `ENHANCEDSTATUSCODES` (RFC 2034), `CHUNKING` (RFC 3030), `BINARYMIME` (RFC 3030, only with CHUNKING),
/// `DSN` (RFC 3461), `STARTTLS` (RFC 3207; only when available and not yet active — RFC 3207 §4.2 forbids
/// announcing it after the handshake), `AUTH <mechanisms>` (RFC 4954; only when allowed, typically once
/// TLS is active or on a trusted connection).
public struct EHLOCapabilities: Sendable, Hashable {
    /// TLS is already in use on this connection.
    public var tlsActive: Bool
    /// The server has a certificate and may start TLS.
    public var tlsAvailable: Bool
    /// AUTH may be offered on this connection now.
    public var authAllowed: Bool
    /// Mechanisms listed after AUTH, in order.
    public var authMechanisms: [SASLMechanism]
    /// Largest accepted message in octets; nil announces SIZE without a number (no declared limit).
    public var maximumMessageSize: Int?
    public var pipelining: Bool
    public var eightBitMIME: Bool
    public var smtpUTF8: Bool
    public var enhancedStatusCodes: Bool
    public var chunking: Bool
    /// BODY=BINARYMIME; announced only together with CHUNKING (RFC 3030 §3).
    public var binaryMIME: Bool
    public var dsn: Bool

    public init(tlsActive: Bool = false, tlsAvailable: Bool = false, authAllowed: Bool = false,
                authMechanisms: [SASLMechanism] = [.plain, .login], maximumMessageSize: Int? = nil,
                pipelining: Bool = true, eightBitMIME: Bool = true, smtpUTF8: Bool = true,
                enhancedStatusCodes: Bool = true, chunking: Bool = true, binaryMIME: Bool = false, dsn: Bool = true) {
        self.tlsActive = tlsActive
        self.tlsAvailable = tlsAvailable
        self.authAllowed = authAllowed
        self.authMechanisms = authMechanisms
        self.maximumMessageSize = maximumMessageSize
        self.pipelining = pipelining
        self.eightBitMIME = eightBitMIME
        self.smtpUTF8 = smtpUTF8
        self.enhancedStatusCodes = enhancedStatusCodes
        self.chunking = chunking
        self.binaryMIME = binaryMIME
        self.dsn = dsn
    }

    /// One keyword line per extension, in the fixed order above.
    public var keywords: [String] {
        var lines: [String] = []
        if pipelining { lines.append("PIPELINING") }
        if let maximumMessageSize { lines.append("SIZE \(max(0, maximumMessageSize))") } else { lines.append("SIZE") }
        if eightBitMIME { lines.append("8BITMIME") }
        if smtpUTF8 { lines.append("SMTPUTF8") }
        if enhancedStatusCodes { lines.append("ENHANCEDSTATUSCODES") }
        if chunking { lines.append("CHUNKING") }
        if chunking && binaryMIME { lines.append("BINARYMIME") }
        if dsn { lines.append("DSN") }
        if tlsAvailable && !tlsActive { lines.append("STARTTLS") }
        if authAllowed && !authMechanisms.isEmpty {
            lines.append((["AUTH"] + authMechanisms.map(\.rawValue)).joined(separator: " "))
        }
        return lines
    }
}

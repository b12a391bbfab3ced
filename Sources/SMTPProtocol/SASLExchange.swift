/// What a SASL PLAIN or LOGIN exchange yields: identities and the cleartext password, to be checked by the
/// server against the directory.
///
/// `description` redacts the password so credentials never end up in logs by accident.
public struct SASLCredentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The identity to act as (RFC 4616 authzid); nil when not given (empty), which means "same as
    /// ``authenticationID``". A different value asks for proxy authorisation, which the server decides on.
    public let authorizationID: String?
    /// Whose password this is (RFC 4616 authcid); never empty.
    public let authenticationID: String
    /// Never empty.
    public let password: String

    public init(authorizationID: String?, authenticationID: String, password: String) {
        self.authorizationID = authorizationID
        self.authenticationID = authenticationID
        self.password = password
    }

    public var description: String {
        "SASLCredentials(authorizationID: \(authorizationID ?? "nil"), authenticationID: \(authenticationID), password: <redacted>)"
    }

    public var debugDescription: String { description }
}

/// Why a SASL exchange failed, with the SMTP reply for it (RFC 4954 §4, §6).
public enum SASLError: Error, Sendable, Hashable {
    /// The client sent "*" (RFC 4954 §4). 501 5.0.0.
    case cancelled
    /// A response line that is not strict base64. 501 5.5.2.
    case invalidBase64
    /// The decoded response does not have the mechanism's structure (missing NUL, empty password, invalid
    /// UTF-8, ...). Answered like wrong credentials, 535 5.7.8, so as not to help guessing.
    case malformedResponse
    /// A response arrived after the exchange had finished (a server bug). 503 5.5.1.
    case exchangeFinished

    public var reply: SMTPReply {
        switch self {
        case .cancelled: return .authenticationCancelled
        case .invalidBase64: return .invalidBase64
        case .malformedResponse: return .authenticationFailed
        case .exchangeFinished: return .badSequence("Authentication exchange already finished")
        }
    }
}

/// The next move of a server-side SASL step machine.
public enum SASLStep: Sendable, Hashable {
    /// Send `334 base64(challenge)` (``SMTPReply/authenticationChallenge(_:)``) and feed the client's next line
    /// to `receive(line:)`.
    case challenge([UInt8])
    /// The exchange is complete: verify these credentials, then reply 235 2.7.0 or 535 5.7.8.
    case credentials(SASLCredentials)
    /// The exchange failed: send `error.reply`.
    case failure(SASLError)
}

/// The SASL mechanisms implemented here.
public enum SASLMechanism: String, Sendable, Hashable, CaseIterable {
    /// RFC 4616.
    case plain = "PLAIN"
    /// The widely deployed, never standardised LOGIN mechanism (draft-murchison-sasl-login).
    case login = "LOGIN"
}

/// Decoding of one client response line during an AUTH exchange (RFC 4954 §4).
public enum SASLResponse {
    /// `"*"` cancels; anything else must be strict base64 (an empty line is an empty response).
    public static func decode(line: some Collection<UInt8>) -> Result<[UInt8], SASLError> {
        if line.count == 1, line.first == ASCII.asterisk { return .failure(.cancelled) }
        guard let decoded = SASLBase64.decode(line) else { return .failure(.invalidBase64) }
        return .success(decoded)
    }
}

/// One server-side AUTH exchange for PLAIN or LOGIN, driven line by line.
///
/// ```swift
/// guard var exchange = SASLServerExchange(mechanism: mechanism) else { reply(.unsupportedAuthenticationMechanism) }
/// var step = exchange.start(initialResponse: initialResponse)
/// while case .challenge(let bytes) = step {
///     reply(.authenticationChallenge(bytes))
///     step = exchange.receive(line: nextLine())   // line without CRLF
/// }
/// ```
public struct SASLServerExchange: Sendable {
    public let mechanism: SASLMechanism
    private var plain = SASLPlain()
    private var login = SASLLogin()

    /// Nil for mechanisms other than PLAIN and LOGIN (case-insensitive): reply 504 5.5.4.
    public init?(mechanism: String) {
        guard let mechanism = SASLMechanism(rawValue: mechanism.uppercased()) else { return nil }
        self.mechanism = mechanism
    }

    /// Starts the exchange with the AUTH command's initial response (nil when absent, `[]` for "=").
    public mutating func start(initialResponse: [UInt8]?) -> SASLStep {
        switch mechanism {
        case .plain: return plain.start(initialResponse: initialResponse)
        case .login: return login.start(initialResponse: initialResponse)
        }
    }

    /// Feeds one client line (without CRLF): handles "*" and base64, then the mechanism step.
    public mutating func receive(line: some Collection<UInt8>) -> SASLStep {
        let response: [UInt8]
        switch SASLResponse.decode(line: line) {
        case .failure(let error): return .failure(error)
        case .success(let decoded): response = decoded
        }
        switch mechanism {
        case .plain: return plain.receive(response)
        case .login: return login.receive(response)
        }
    }
}

enum SASLText {
    /// Decodes a non-empty UTF-8 identity or password without NUL; nil otherwise.
    static func field(_ bytes: some Collection<UInt8>) -> String? {
        guard !bytes.isEmpty, !bytes.contains(ASCII.nul) else { return nil }
        return ASCII.decodeUTF8(bytes)
    }
}

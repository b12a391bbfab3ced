/// Server side of SASL PLAIN (RFC 4616).
///
/// ```
/// message = [authzid] UTF8NUL authcid UTF8NUL passwd
/// authcid = 1*SAFE ; MUST accept up to 255 octets
/// passwd  = 1*SAFE
/// SAFE    = UTF1 / UTF2 / UTF3 / UTF4   ; any UTF-8 except NUL
/// ```
/// Without an initial response the server sends an empty challenge and the client answers with the message.
public struct SASLPlain: Sendable {
    private enum State: Sendable { case initial, awaitingResponse, finished }
    private var state = State.initial

    public init() {}

    /// Decodes a PLAIN message: exactly two NULs, non-empty authcid and passwd, valid UTF-8 everywhere.
    public static func decode(_ message: [UInt8]) -> Result<SASLCredentials, SASLError> {
        let parts = message.split(separator: ASCII.nul, omittingEmptySubsequences: false)
        guard parts.count == 3,
              let authenticationID = SASLText.field(parts[1]),
              let password = SASLText.field(parts[2]) else { return .failure(.malformedResponse) }
        let authorizationID: String?
        if parts[0].isEmpty {
            authorizationID = nil
        } else {
            guard let decoded = SASLText.field(parts[0]) else { return .failure(.malformedResponse) }
            authorizationID = decoded
        }
        return .success(SASLCredentials(authorizationID: authorizationID, authenticationID: authenticationID, password: password))
    }

    /// Starts with the AUTH initial response (nil when absent): an empty challenge, or the result.
    public mutating func start(initialResponse: [UInt8]?) -> SASLStep {
        guard state == .initial else { return .failure(.exchangeFinished) }
        guard let initialResponse else {
            state = .awaitingResponse
            return .challenge([])
        }
        return finish(initialResponse)
    }

    /// Feeds the decoded response to the empty challenge.
    public mutating func receive(_ response: [UInt8]) -> SASLStep {
        guard state == .awaitingResponse else { return .failure(.exchangeFinished) }
        return finish(response)
    }

    private mutating func finish(_ message: [UInt8]) -> SASLStep {
        state = .finished
        switch SASLPlain.decode(message) {
        case .success(let credentials): return .credentials(credentials)
        case .failure(let error): return .failure(error)
        }
    }
}

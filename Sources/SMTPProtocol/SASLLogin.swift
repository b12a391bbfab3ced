/// Server side of the LOGIN mechanism (draft-murchison-sasl-login): the server asks "Username:" then
/// "Password:" (sent base64-encoded as `VXNlcm5hbWU6` and `UGFzc3dvcmQ6`), the client answers each with a
/// base64 line. Some clients put the user name in the AUTH initial response; that skips the first prompt.
///
/// LOGIN has no authorisation identity.
public struct SASLLogin: Sendable {
    /// The first challenge, "Username:".
    public static let usernamePrompt: [UInt8] = Array("Username:".utf8)
    /// The second challenge, "Password:".
    public static let passwordPrompt: [UInt8] = Array("Password:".utf8)

    private enum State: Sendable { case initial, awaitingUsername, awaitingPassword(String), finished }
    private var state = State.initial

    public init() {}

    /// Starts with the AUTH initial response (nil when absent).
    public mutating func start(initialResponse: [UInt8]?) -> SASLStep {
        guard case .initial = state else { return .failure(.exchangeFinished) }
        guard let initialResponse else {
            state = .awaitingUsername
            return .challenge(SASLLogin.usernamePrompt)
        }
        state = .awaitingUsername
        return receive(initialResponse)
    }

    /// Feeds one decoded client response.
    public mutating func receive(_ response: [UInt8]) -> SASLStep {
        switch state {
        case .awaitingUsername:
            guard let username = SASLText.field(response) else {
                state = .finished
                return .failure(.malformedResponse)
            }
            state = .awaitingPassword(username)
            return .challenge(SASLLogin.passwordPrompt)
        case .awaitingPassword(let username):
            state = .finished
            guard let password = SASLText.field(response) else { return .failure(.malformedResponse) }
            return .credentials(SASLCredentials(authorizationID: nil, authenticationID: username, password: password))
        case .initial, .finished:
            return .failure(.exchangeFinished)
        }
    }
}

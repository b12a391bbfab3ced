import Foundation

/// RFC 4616 PLAIN as POP3 AUTH carries it (RFC 5034): `authzid NUL authcid NUL passwd`, base64-encoded.
public struct PlainCredentials: Sendable, Hashable, CustomStringConvertible {
    /// Identity to act as; nil when empty (= the authentication identity).
    public let authorizationID: String?
    public let authenticationID: String
    public let password: String

    /// Decodes a client response; nil for bad base64, wrong structure, empty fields or invalid UTF-8.
    public init?(base64 text: String) {
        guard text.utf8.count <= 12_288, let data = Data(base64Encoded: text) else { return nil }
        let parts = Array(data).split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3,
              let authz = String(validating: parts[0], as: UTF8.self),
              let authc = String(validating: parts[1], as: UTF8.self),
              let password = String(validating: parts[2], as: UTF8.self),
              !authc.isEmpty, !password.isEmpty, !password.utf8.contains(0) else { return nil }
        self.authorizationID = authz.isEmpty ? nil : authz
        self.authenticationID = authc
        self.password = password
    }

    /// Never shows the password.
    public var description: String { "PlainCredentials(\(authenticationID), password: <redacted>)" }
}

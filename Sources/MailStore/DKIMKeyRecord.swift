import Foundation

/// A hosted domain's DKIM signing key as stored (RFC 6376 §3.1 selector; the private key in PKCS#8 PEM).
public struct DKIMKeyRecord: Sendable, Hashable {
    public var domain: String
    public var selector: String
    /// "rsa-sha256" or "ed25519-sha256".
    public var algorithm: String
    public var privateKeyPEM: String
    public var createdAt: Date
    public init(domain: String, selector: String, algorithm: String, privateKeyPEM: String, createdAt: Date) {
        self.domain = domain
        self.selector = selector
        self.algorithm = algorithm
        self.privateKeyPEM = privateKeyPEM
        self.createdAt = createdAt
    }
}

/// Where DKIM keys are kept.
public protocol DKIMKeyStore: Sendable {
    func dkimKeys(for domain: String) async throws -> [DKIMKeyRecord]
    func addDKIMKey(_ key: DKIMKeyRecord) async throws
}

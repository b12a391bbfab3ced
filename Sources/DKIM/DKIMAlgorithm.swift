/// A DKIM signature algorithm: the `a=` tag of a signature (RFC 6376 §3.3, RFC 8463 §3).
///
/// `rsa-sha1` is deliberately absent: RFC 8301 §3.1 forbids signing with it and verifiers must not
/// treat it as valid.
public enum DKIMAlgorithm: String, Sendable, CaseIterable {
    case rsaSHA256 = "rsa-sha256"
    case ed25519SHA256 = "ed25519-sha256"

    /// The key type: the `k=` tag of the key record in DNS (RFC 6376 §3.6.1, RFC 8463 §4.1).
    public var keyType: String {
        switch self {
        case .rsaSHA256: "rsa"
        case .ed25519SHA256: "ed25519"
        }
    }
}

/// Why a key could not be used or a message could not be signed.
public enum DKIMError: Error, Sendable, Equatable {
    /// The `d=` domain is not a DNS name (letters, digits, hyphens, underscores; dot-separated labels).
    case invalidDomain(String)
    /// The `s=` selector is not a DNS name (RFC 6376 §3.1: selectors are sub-domains).
    case invalidSelector(String)
    /// A header name to sign contains a character not allowed in a field name (RFC 5322 §3.6.8).
    case invalidHeaderName(String)
    /// The PEM text or the key inside it is not a usable RSA (≥ 1024 bits) or Ed25519 private key.
    case invalidKey(String)
    /// The message has no From field; RFC 6376 §5.4 requires From to be signed.
    case missingFromHeader
    /// The header block is larger than the signer holds in memory.
    case headerBlockTooLarge(limit: Int)
    /// A body hash passed in is not a 32-byte SHA-256 digest.
    case invalidBodyHash
    /// The message file could not be opened or read.
    case fileUnreadable(path: String, reason: String)
    /// The cryptographic library refused to sign.
    case signingFailed(String)
}

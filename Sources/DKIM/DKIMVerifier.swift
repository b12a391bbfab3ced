import Crypto
import Foundation
import _CryptoExtras

/// Why one DKIM signature did not verify (RFC 6376 §6.1; the PERMFAIL cases, plus a missing key).
public enum DKIMFailureReason: Error, Sendable, Equatable {
    /// The DKIM-Signature field breaks the tag-list grammar or misses a required tag.
    case malformedSignature(String)
    /// `v=` is not 1.
    case unsupportedVersion(String)
    /// `a=` is not rsa-sha256 or ed25519-sha256 (rsa-sha1 included, RFC 8301 §3.1).
    case unsupportedAlgorithm(String)
    /// `c=` names an unknown canonicalization.
    case unsupportedCanonicalization(String)
    /// `q=` does not offer dns/txt.
    case unsupportedQueryMethod(String)
    /// `h=` does not include From (RFC 6376 §6.1.1).
    case fromNotSigned
    /// The message has more From fields than the signature covers: one was added after signing.
    case unsignedFromField
    /// `i=` is not the `d=` domain or one of its subdomains (RFC 6376 §6.1.1).
    case identityNotInDomain
    /// `x=` is in the past.
    case expired
    /// No key record for `<s>._domainkey.<d>`.
    case keyUnavailable
    /// The key record or the key in it cannot be used.
    case malformedKey(String)
    /// The key record has an empty `p=` (RFC 6376 §3.6.1).
    case keyRevoked
    /// The key record's `k=`, `h=`, `s=` or `t=s` rule out this signature.
    case keyUnsuitable(String)
    /// `l=` is longer than the canonical body.
    case bodyShorterThanLength
    /// The body hash differs from `bh=`: the body was changed.
    case bodyHashMismatch
    /// The signature does not match the signed header fields.
    case signatureMismatch
    /// More signatures than the verifier evaluates per message.
    case notEvaluated
}

/// The outcome for one DKIM-Signature field.
public enum DKIMSignatureStatus: Sendable, Equatable {
    case pass
    case fail(DKIMFailureReason)
}

/// One DKIM-Signature field and its outcome.
public struct DKIMSignatureResult: Sendable, Equatable {
    /// `d=`, as written; empty when the tag is missing or the field is unparseable.
    public let domain: String
    /// `s=`, as written; empty when missing.
    public let selector: String
    /// `a=`, as written; empty when missing.
    public let algorithm: String
    public let status: DKIMSignatureStatus

    public init(domain: String, selector: String, algorithm: String, status: DKIMSignatureStatus) {
        self.domain = domain
        self.selector = selector
        self.algorithm = algorithm
        self.status = status
    }

    public var passed: Bool { status == .pass }
}

/// All DKIM-Signature fields of a message, top to bottom, each with its outcome. Empty: unsigned.
public struct DKIMVerificationResult: Sendable, Equatable {
    public let signatures: [DKIMSignatureResult]

    public init(signatures: [DKIMSignatureResult]) {
        self.signatures = signatures
    }

    /// Whether some signature passed.
    public var hasPass: Bool { signatures.contains { $0.passed } }

    /// Whether some signature for `domain` (d=, case-insensitive) passed.
    public func passed(domain: String) -> Bool {
        signatures.contains { $0.passed && $0.domain.lowercased() == domain.lowercased() }
    }
}

/// Verifies the DKIM signatures of a message (RFC 6376 §6.1) against key records supplied by the caller.
public enum DKIMVerifier {
    /// Signatures evaluated per message; later ones are reported as `.notEvaluated` (RFC 6376 §8.4:
    /// verifiers may limit their work).
    public static let maximumSignatures = 8

    /// Verifies every DKIM-Signature field in `message`.
    ///
    /// `dnsRecord(domain, selector)` returns the TXT record at `<selector>._domainkey.<domain>` (its
    /// strings concatenated), or nil when there is none. `time` is compared with `x=`.
    public static func verify(
        message: [UInt8], at time: Date = Date(), dnsRecord: (_ domain: String, _ selector: String) -> String?
    ) -> DKIMVerificationResult {
        let (headerBlock, body) = DKIMHeaderBlock.split(message[...])
        let fields = DKIMHeaderBlock.fields(in: headerBlock.prefix(DKIMHeaderBlock.maximumSize))
        var context = Context(fields: fields, body: body, now: time)
        var results: [DKIMSignatureResult] = []
        for (index, field) in fields.enumerated() where field.key == "dkim-signature" {
            let tags = try? DKIMTagList(field.value)
            let domain = tags?["d"] ?? ""
            let selector = tags?["s"] ?? ""
            let algorithm = tags?["a"] ?? ""
            let status: DKIMSignatureStatus
            if results.count >= maximumSignatures {
                status = .fail(.notEvaluated)
            } else {
                do {
                    try context.verify(fieldAt: index, dnsRecord: dnsRecord)
                    status = .pass
                } catch {
                    status = .fail(error)
                }
            }
            results.append(DKIMSignatureResult(domain: domain, selector: selector, algorithm: algorithm, status: status))
        }
        return DKIMVerificationResult(signatures: results)
    }

    private enum Canonicalization: String {
        case simple, relaxed
    }

    private struct BodyHashKey: Hashable {
        let relaxed: Bool
        let limit: Int?
    }

    private struct Context {
        let fields: [DKIMHeaderField]
        let body: ArraySlice<UInt8>
        let now: Date
        /// Body hashes by canonicalization and l=, so two signatures over the same body hash it once.
        var bodyHashes: [BodyHashKey: (hash: [UInt8], length: Int)] = [:]

        init(fields: [DKIMHeaderField], body: ArraySlice<UInt8>, now: Date) {
            self.fields = fields
            self.body = body
            self.now = now
        }

        mutating func verify(
            fieldAt index: Int, dnsRecord: (_ domain: String, _ selector: String) -> String?
        ) throws(DKIMFailureReason) {
            let field = fields[index]
            let tags: DKIMTagList
            do {
                tags = try DKIMTagList(field.value)
            } catch {
                throw .malformedSignature("tag list: \(error)")
            }
            for required in ["v", "a", "b", "bh", "d", "h", "s"] where tags[required] == nil {
                throw .malformedSignature("missing \(required)=")
            }
            let version = tags["v"] ?? ""
            guard version == "1" else { throw .unsupportedVersion(version) }

            let algorithmName = tags["a"] ?? ""
            guard let algorithm = DKIMAlgorithm(rawValue: algorithmName.lowercased()) else {
                throw .unsupportedAlgorithm(algorithmName)
            }

            let (headerCanonicalization, bodyCanonicalization) = try Self.canonicalizations(tags["c"])

            let domain = tags["d"] ?? ""
            let selector = tags["s"] ?? ""
            guard DKIMNames.isDomainName(domain) else { throw .malformedSignature("d= is not a domain name") }
            guard DKIMNames.isDomainName(selector) else { throw .malformedSignature("s= is not a selector") }

            var identityDomain = domain.lowercased()
            if let identity = tags["i"] {
                guard let at = identity.lastIndex(of: "@") else { throw .malformedSignature("i= has no @") }
                identityDomain = identity[identity.index(after: at)...].lowercased()
                let signingDomain = domain.lowercased()
                guard identityDomain == signingDomain || identityDomain.hasSuffix("." + signingDomain) else {
                    throw .identityNotInDomain
                }
            }

            if let query = tags["q"] {
                let methods = query.split(separator: ":").map { DKIMTagList.removingFWS(String($0)).lowercased() }
                guard methods.contains(where: { $0 == "dns/txt" || $0.hasPrefix("dns/txt/") }) else {
                    throw .unsupportedQueryMethod(query)
                }
            }

            let signedAt = try tags["t"].map { value throws(DKIMFailureReason) in try Self.number(value, tag: "t") }
            if let expiry = try tags["x"].map({ value throws(DKIMFailureReason) in try Self.number(value, tag: "x") }) {
                if let signedAt, expiry < signedAt { throw .malformedSignature("x= before t=") }
                if Double(expiry) < now.timeIntervalSince1970 { throw .expired }
            }
            let lengthLimit = try tags["l"].map { value throws(DKIMFailureReason) in try Self.number(value, tag: "l") }

            let signedNames = (tags["h"] ?? "").split(separator: ":", omittingEmptySubsequences: false)
                .map { DKIMTagList.removingFWS(String($0)).lowercased() }
            guard signedNames.allSatisfy({ DKIMNames.isFieldName($0) }) else {
                throw .malformedSignature("h= has an empty or invalid name")
            }
            let signedFromCount = signedNames.filter { $0 == "from" }.count
            guard signedFromCount > 0 else { throw .fromNotSigned }
            guard fields.filter({ $0.key == "from" }).count <= signedFromCount else { throw .unsignedFromField }

            guard let expectedBodyHash = Self.base64(tags["bh"] ?? ""), expectedBodyHash.count == SHA256.byteCount else {
                throw .malformedSignature("bh= is not a base64 SHA-256 digest")
            }
            guard let signature = Self.base64(tags["b"] ?? ""), !signature.isEmpty else {
                throw .malformedSignature("b= is not base64")
            }

            // The key: RFC 6376 §3.6.1, RFC 8463 §4.
            guard let record = dnsRecord(domain, selector) else { throw .keyUnavailable }
            let key = try VerificationKey(record: record, algorithm: algorithm, identityDomain: identityDomain,
                                          signingDomain: domain.lowercased())

            // Body hash first (RFC 6376 §6.1.3 allows either order; this one names the failure better).
            let body = bodyHash(relaxed: bodyCanonicalization == .relaxed, limit: lengthLimit.map { Int($0) })
            if let lengthLimit, Int64(body.length) < lengthLimit { throw .bodyShorterThanLength }
            guard body.hash == expectedBodyHash else { throw .bodyHashMismatch }

            // Header hash: RFC 6376 §3.7, §5.4.2.
            var hasher = SHA256()
            for selected in DKIMHeaderBlock.select(signedNames, from: fields, excluding: index) {
                hasher.update(data: Self.canonical(fields[selected], headerCanonicalization))
                hasher.update(data: ASCII.crlf)
            }
            let withoutSignature = DKIMTagList.removingSignatureValue(from: field.value)
            hasher.update(data: Self.canonical(DKIMHeaderField(name: field.name, value: withoutSignature[...]),
                                               headerCanonicalization))
            guard key.isValid(signature: signature, headerHash: hasher.finalize()) else {
                throw .signatureMismatch
            }
        }

        private mutating func bodyHash(relaxed: Bool, limit: Int?) -> (hash: [UInt8], length: Int) {
            let key = BodyHashKey(relaxed: relaxed, limit: limit)
            if let cached = bodyHashes[key] { return cached }
            let result: (hash: [UInt8], length: Int)
            if relaxed {
                var hasher = DKIMBodyHasher(limit: limit)
                hasher.update(body)
                let digest = hasher.finalize()
                result = (digest, hasher.canonicalLength)
            } else {
                let canonical = DKIMCanonicalization.simpleBody(body)
                let hashed = limit.map { canonical.prefix($0) } ?? canonical[...]
                result = (Array(SHA256.hash(data: hashed)), canonical.count)
            }
            bodyHashes[key] = result
            return result
        }

        private static func canonical(_ field: DKIMHeaderField, _ canonicalization: Canonicalization) -> [UInt8] {
            switch canonicalization {
            case .relaxed: DKIMCanonicalization.relaxedHeaderWithoutLineEnd(name: field.name, value: field.value)
            case .simple: DKIMCanonicalization.simpleHeaderWithoutLineEnd(name: field.name, value: field.value)
            }
        }

        /// `c=` (RFC 6376 §3.5): "header/body", default simple; a lone name applies to the header only.
        private static func canonicalizations(
            _ value: String?
        ) throws(DKIMFailureReason) -> (Canonicalization, Canonicalization) {
            guard let value else { return (.simple, .simple) }
            let parts = DKIMTagList.removingFWS(value).lowercased().split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count),
                  let header = Canonicalization(rawValue: String(parts[0])),
                  let body = parts.count == 2 ? Canonicalization(rawValue: String(parts[1])) : .simple
            else { throw .unsupportedCanonicalization(value) }
            return (header, body)
        }

        /// A decimal tag value of at most 18 digits (t=, x= are 12 at most; l= 76 in the grammar, but no
        /// body is longer than Int64 can count).
        private static func number(_ value: String, tag: String) throws(DKIMFailureReason) -> Int64 {
            let digits = DKIMTagList.removingFWS(value)
            guard !digits.isEmpty, digits.utf8.count <= 18, digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                  let number = Int64(digits)
            else { throw .malformedSignature("\(tag)= is not a number") }
            return number
        }

        private static func base64(_ value: String) -> [UInt8]? {
            Data(base64Encoded: DKIMTagList.removingFWS(value)).map(Array.init)
        }
    }

    /// A public key from a key record, checked against the signature that names it.
    private enum VerificationKey {
        case rsa(_RSA.Signing.PublicKey)
        case ed25519(Curve25519.Signing.PublicKey)

        init(record: String, algorithm: DKIMAlgorithm, identityDomain: String, signingDomain: String)
            throws(DKIMFailureReason)
        {
            let tags: DKIMTagList
            do {
                tags = try DKIMTagList(record)
            } catch {
                throw .malformedKey("tag list: \(error)")
            }
            if let version = tags["v"], version != "DKIM1" { throw .malformedKey("v=\(version)") }
            let keyType = (tags["k"] ?? "rsa").lowercased()
            guard keyType == algorithm.keyType else { throw .keyUnsuitable("k=\(keyType) for a=\(algorithm.rawValue)") }
            if let hashes = tags["h"] {
                let names = hashes.split(separator: ":").map { DKIMTagList.removingFWS(String($0)).lowercased() }
                guard names.contains("sha256") else { throw .keyUnsuitable("h=\(hashes)") }
            }
            if let services = tags["s"] {
                let names = services.split(separator: ":").map { DKIMTagList.removingFWS(String($0)).lowercased() }
                guard names.contains("*") || names.contains("email") else { throw .keyUnsuitable("s=\(services)") }
            }
            if let flags = tags["t"] {
                let names = flags.split(separator: ":").map { DKIMTagList.removingFWS(String($0)).lowercased() }
                // t=s: the i= domain must be d= itself, not a subdomain.
                if names.contains("s") && identityDomain != signingDomain { throw .keyUnsuitable("t=s") }
            }
            guard let encoded = tags["p"] else { throw .malformedKey("no p=") }
            let stripped = DKIMTagList.removingFWS(encoded)
            if stripped.isEmpty { throw .keyRevoked }
            guard let keyBytes = Data(base64Encoded: stripped) else { throw .malformedKey("p= is not base64") }
            switch algorithm {
            case .rsaSHA256:
                // SubjectPublicKeyInfo (RFC 6376 §3.6.1); BoringSSL also takes a bare RSAPublicKey.
                // `unsafe` admits 1024-bit keys, which RFC 8301 §3.2 requires verifiers to accept.
                do {
                    self = .rsa(try _RSA.Signing.PublicKey(unsafeDERRepresentation: keyBytes))
                } catch {
                    throw .malformedKey("not an RSA public key of 1024 bits or more")
                }
            case .ed25519SHA256:
                guard keyBytes.count == 32,
                      let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes)
                else { throw .malformedKey("not a 32-byte Ed25519 public key") }
                self = .ed25519(key)
            }
        }

        func isValid(signature: [UInt8], headerHash: SHA256Digest) -> Bool {
            switch self {
            case .rsa(let key):
                key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: headerHash,
                                     padding: .insecurePKCS1v1_5)
            case .ed25519(let key):
                key.isValidSignature(signature, for: Array(headerHash))  // RFC 8463 §3: over the hash
            }
        }
    }
}

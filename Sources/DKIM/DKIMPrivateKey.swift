import Crypto
import Foundation
import _CryptoExtras

/// A DKIM signing key: RSA (PKCS#1 v1.5, RFC 6376 §3.3.1) or Ed25519 (RFC 8463).
///
/// Stored as PKCS#8 PEM (`pemRepresentation`); published in DNS as `dnsRecord` at
/// `<selector>._domainkey.<domain>`.
public struct DKIMPrivateKey: Sendable {
    enum Backing: Sendable {
        case rsa(_RSA.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
    }

    let backing: Backing

    /// The algorithm this key signs with.
    public var algorithm: DKIMAlgorithm {
        switch backing {
        case .rsa: .rsaSHA256
        case .ed25519: .ed25519SHA256
        }
    }

    init(backing: Backing) {
        self.backing = backing
    }

    /// Generates a fresh key: RSA keys are 2048 bits (RFC 8301 §3.2: signers SHOULD use at least 2048).
    public static func generate(_ algorithm: DKIMAlgorithm) throws -> DKIMPrivateKey {
        switch algorithm {
        case .rsaSHA256:
            do {
                return DKIMPrivateKey(backing: .rsa(try _RSA.Signing.PrivateKey(keySize: .bits2048)))
            } catch {
                throw DKIMError.signingFailed("RSA key generation failed: \(error)")
            }
        case .ed25519SHA256:
            return DKIMPrivateKey(backing: .ed25519(Curve25519.Signing.PrivateKey()))
        }
    }

    /// Reads a PEM private key: PKCS#8 `PRIVATE KEY` (RSA or Ed25519) or PKCS#1 `RSA PRIVATE KEY`.
    ///
    /// RSA keys of 1024 bits and more are accepted (RFC 8301 §3.2 sets 1024 as the floor for signers);
    /// encrypted PEM is not.
    public init(pem: String) throws {
        guard let document = PEMBlock(pem) else {
            throw DKIMError.invalidKey("no PEM private key block found")
        }
        switch document.label {
        case "RSA PRIVATE KEY":
            self.backing = .rsa(try Self.rsaKey(der: document.der))
        case "PRIVATE KEY":
            switch PKCS8.algorithm(of: document.der) {
            case .ed25519?:
                do {
                    self.backing = .ed25519(try Curve25519.Signing.PrivateKey(derRepresentation: document.der))
                } catch {
                    throw DKIMError.invalidKey("malformed Ed25519 PKCS#8 key")
                }
            case .rsa?:
                self.backing = .rsa(try Self.rsaKey(der: document.der))
            case nil:
                throw DKIMError.invalidKey("PKCS#8 key is neither RSA nor Ed25519")
            }
        default:
            throw DKIMError.invalidKey("unsupported PEM block \"\(document.label)\"")
        }
    }

    private static func rsaKey(der: [UInt8]) throws -> _RSA.Signing.PrivateKey {
        do {
            // `unsafe` only lowers the size floor from 2048 to 1024 bits.
            return try _RSA.Signing.PrivateKey(unsafeDERRepresentation: der)
        } catch {
            throw DKIMError.invalidKey("malformed or too small RSA key")
        }
    }

    /// The key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), for storage.
    public var pemRepresentation: String {
        switch backing {
        case .rsa(let key): key.pkcs8PEMRepresentation
        case .ed25519(let key): key.pemRepresentation
        }
    }

    /// The `p=` value of the key record: base64 SubjectPublicKeyInfo DER for RSA (RFC 6376 §3.6.1),
    /// the raw 32-byte public key for Ed25519 (RFC 8463 §4.2).
    public var publicKeyBase64: String {
        switch backing {
        case .rsa(let key): key.publicKey.derRepresentation.base64EncodedString()
        case .ed25519(let key): key.publicKey.rawRepresentation.base64EncodedString()
        }
    }

    /// The TXT record to publish at `<selector>._domainkey.<domain>`, e.g. `v=DKIM1; k=ed25519; p=...`.
    ///
    /// An RSA 2048 record is longer than one 255-byte TXT string; see `dnsRecordStrings`.
    public var dnsRecord: String {
        "v=DKIM1; k=\(algorithm.keyType); p=\(publicKeyBase64)"
    }

    /// `dnsRecord` cut into character-strings of at most 255 bytes, as one TXT record must carry it
    /// (RFC 1035 §3.3.14; RFC 6376 §3.6.2.2: verifiers concatenate them).
    public var dnsRecordStrings: [String] {
        var strings: [String] = []
        var rest = Substring(dnsRecord)
        while !rest.isEmpty {
            strings.append(String(rest.prefix(255)))
            rest = rest.dropFirst(255)
        }
        return strings
    }

    /// Signs the SHA-256 hash of the canonicalized header data.
    ///
    /// RSA: PKCS#1 v1.5 over the digest (RFC 6376 §3.3.1, the `insecure` name is swift-crypto's warning
    /// about the padding, which DKIM requires). Ed25519: pure Ed25519 over the 32 hash bytes, not the
    /// data (RFC 8463 §3).
    func signature(forHeaderHash digest: SHA256Digest) throws -> [UInt8] {
        do {
            switch backing {
            case .rsa(let key):
                return Array(try key.signature(for: digest, padding: .insecurePKCS1v1_5).rawRepresentation)
            case .ed25519(let key):
                return Array(try key.signature(for: Array(digest)))
            }
        } catch {
            throw DKIMError.signingFailed("\(error)")
        }
    }
}

/// One PEM block: its label and the base64-decoded DER between the BEGIN and END lines (RFC 7468).
struct PEMBlock {
    let label: String
    let der: [UInt8]

    init?(_ text: String) {
        guard let begin = text.range(of: "-----BEGIN "),
              let labelEnd = text.range(of: "-----", range: begin.upperBound..<text.endIndex)
        else { return nil }
        let label = String(text[begin.upperBound..<labelEnd.lowerBound])
        guard let end = text.range(of: "-----END \(label)-----", range: labelEnd.upperBound..<text.endIndex) else {
            return nil
        }
        let body = text[labelEnd.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: String(body)), !data.isEmpty else { return nil }
        self.label = label
        self.der = Array(data)
    }
}

/// Just enough DER to read the algorithm OID of a PKCS#8 PrivateKeyInfo (RFC 5208 §5).
enum PKCS8 {
    enum KeyAlgorithm { case rsa, ed25519 }

    /// 1.2.840.113549.1.1.1 rsaEncryption.
    static let rsaOID: [UInt8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]
    /// 1.3.101.112 id-Ed25519 (RFC 8410 §3).
    static let ed25519OID: [UInt8] = [0x2B, 0x65, 0x70]

    /// PrivateKeyInfo ::= SEQUENCE { version INTEGER, privateKeyAlgorithm SEQUENCE { algorithm OID, ... }, ... }
    static func algorithm(of der: [UInt8]) -> KeyAlgorithm? {
        var outer = DERReader(der[...])
        guard let info = outer.read(tag: 0x30) else { return nil }
        var fields = DERReader(info)
        guard fields.read(tag: 0x02) != nil, let identifier = fields.read(tag: 0x30) else { return nil }
        var algorithm = DERReader(identifier)
        guard let oid = algorithm.read(tag: 0x06) else { return nil }
        if oid.elementsEqual(rsaOID) { return .rsa }
        if oid.elementsEqual(ed25519OID) { return .ed25519 }
        return nil
    }

    /// Reads definite-length TLVs; every length is checked against the bytes left.
    struct DERReader {
        private var bytes: ArraySlice<UInt8>

        init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

        mutating func read(tag expected: UInt8) -> ArraySlice<UInt8>? {
            guard let tag = bytes.first, tag == expected else { return nil }
            var index = bytes.index(after: bytes.startIndex)
            guard index < bytes.endIndex else { return nil }
            let first = bytes[index]
            index += 1
            var length = 0
            if first < 0x80 {
                length = Int(first)
            } else {
                let count = Int(first & 0x7F)
                guard (1...4).contains(count), bytes.endIndex - index >= count else { return nil }
                for _ in 0..<count {
                    length = length << 8 | Int(bytes[index])
                    index += 1
                }
            }
            guard bytes.endIndex - index >= length else { return nil }
            let content = bytes[index..<(index + length)]
            bytes = bytes[(index + length)...]
            return content
        }
    }
}

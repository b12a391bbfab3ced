import Crypto
import _CryptoExtras
import Foundation

/// Password storage: scrypt (RFC 7914) with a random 16-byte salt, encoded in a self-describing string
/// `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (base64, no padding) so the cost can be raised later without
/// breaking existing hashes. Clear-text passwords are never stored or logged.
public struct PasswordHash: Sendable, Equatable, CustomStringConvertible {
    public let logN: Int
    public let r: Int
    public let p: Int
    public let salt: [UInt8]
    public let hash: [UInt8]

    /// 2^15 × 8 × 128 bytes = 32 MiB and ~0.1 s per derivation on this hardware class: the cost OWASP recommends.
    public static let defaultLogN = 15

    public enum Failure: Error, Equatable { case malformed, emptyPassword, kdf }

    /// Hashes `password` with a fresh random salt.
    public static func make(password: String, logN: Int = defaultLogN) throws(Failure) -> PasswordHash {
        var rng = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let hash = try derive(Array(password.utf8), salt: salt, logN: logN, r: 8, p: 1, length: 32)
        return PasswordHash(logN: logN, r: 8, p: 1, salt: salt, hash: hash)
    }

    public init(logN: Int, r: Int, p: Int, salt: [UInt8], hash: [UInt8]) {
        self.logN = logN
        self.r = r
        self.p = p
        self.salt = salt
        self.hash = hash
    }

    /// Parses the stored form.
    public init(encoded: String) throws(Failure) {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].isEmpty, parts[1] == "scrypt" else { throw .malformed }
        var logN: Int?, r: Int?, p: Int?
        for param in parts[2].split(separator: ",") {
            let kv = param.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, let value = Int(kv[1]) else { throw .malformed }
            switch kv[0] {
            case "ln": logN = value
            case "r": r = value
            case "p": p = value
            default: throw .malformed
            }
        }
        guard let logN, let r, let p, (10...22).contains(logN), (1...32).contains(r), (1...16).contains(p),
              let salt = Base64NoPad.decode(String(parts[3])), let hash = Base64NoPad.decode(String(parts[4])),
              salt.count >= 8, hash.count >= 16
        else { throw .malformed }
        self.init(logN: logN, r: r, p: p, salt: salt, hash: hash)
    }

    public var encoded: String {
        "$scrypt$ln=\(logN),r=\(r),p=\(p)$\(Base64NoPad.encode(salt))$\(Base64NoPad.encode(hash))"
    }

    /// Never prints the hash itself, so a stray log line cannot leak it.
    public var description: String { "PasswordHash(scrypt ln=\(logN))" }

    /// Verifies in constant time (with respect to the hash contents).
    public func verify(_ password: String) -> Bool {
        guard let candidate = try? PasswordHash.derive(Array(password.utf8), salt: salt, logN: logN, r: r, p: p, length: hash.count)
        else { return false }
        return PasswordHash.constantTimeEquals(candidate, hash)
    }

    /// Runs one derivation with a throwaway salt, so that a login for an unknown user costs as much time as
    /// one for a known user (no account enumeration by timing).
    public static func burnEquivalentTime(_ password: String) {
        _ = try? derive(Array(password.utf8), salt: Array(repeating: 0x5a, count: 16), logN: defaultLogN, r: 8, p: 1, length: 32)
    }

    /// Raw scrypt, exposed for the RFC 7914 test vectors.
    public static func derive(_ password: [UInt8], salt: [UInt8], logN: Int, r: Int, p: Int, length: Int) throws(Failure) -> [UInt8] {
        guard !password.isEmpty else { throw .emptyPassword }
        guard !salt.isEmpty else { throw .malformed }
        do {
            let key = try KDF.Scrypt.deriveKey(from: password, salt: salt, outputByteCount: length,
                                               rounds: 1 << logN, blockSize: r, parallelism: p)
            return key.withUnsafeBytes { Array($0) }
        } catch {
            throw .kdf
        }
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}

/// Generates passwords that are printed once to the admin: 20 characters from an unambiguous alphabet in
/// groups of five (~100 bits of entropy).
public enum PasswordGenerator {
    static let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")

    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        var out = ""
        for i in 0..<20 {
            if i > 0 && i % 5 == 0 { out.append("-") }
            out.append(alphabet[Int.random(in: 0..<alphabet.count, using: &rng)])
        }
        return out
    }

    /// Minimal policy for admin-supplied passwords; generated ones always pass.
    public static func check(_ password: String) throws(DirectoryError) {
        if password.count < 8 { throw .weakPassword("at least 8 characters are required") }
        if password.utf8.contains(0) || password.contains("\n") || password.contains("\r") {
            throw .weakPassword("control characters are not allowed")
        }
    }
}

/// Random identifiers for accounts and blobs (128 bits, hex).
public enum RandomID {
    public static func make() -> String {
        var rng = SystemRandomNumberGenerator()
        var s = ""
        for _ in 0..<16 {
            let b = UInt8.random(in: 0...255, using: &rng)
            s += String(b >> 4, radix: 16) + String(b & 0xf, radix: 16)
        }
        return s
    }
}

enum Base64NoPad {
    static func encode(_ bytes: [UInt8]) -> String {
        var s = Data(bytes).base64EncodedString()
        while s.hasSuffix("=") { s.removeLast() }
        return s
    }

    static func decode(_ s: String) -> [UInt8]? {
        var padded = s
        while padded.count % 4 != 0 { padded.append("=") }
        return Data(base64Encoded: padded).map(Array.init)
    }
}

import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a certificate or private key could not be loaded, checked or created. Every case that concerns a
/// file names it, so the operator sees which file to fix.
public enum ServerTLSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be read (missing, permissions, ...).
    case unreadableFile(path: String, reason: String)
    /// The file holds no PEM `CERTIFICATE` block, or one that does not parse.
    case invalidCertificate(path: String, reason: String)
    /// The file holds no usable PEM private key.
    case invalidPrivateKey(path: String, reason: String)
    /// The private key is not the one the first (leaf) certificate was issued for.
    case keyDoesNotMatchCertificate(certificatePath: String, keyPath: String)
    /// BoringSSL refused the certificate/key/policy combination.
    case invalidConfiguration(reason: String)
    /// A generated file (or its directory) could not be written.
    case cannotWrite(path: String, reason: String)
    /// The self-signed certificate could not be produced.
    case generationFailed(reason: String)

    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason): return "cannot read \(path): \(reason)"
        case .invalidCertificate(let path, let reason): return "invalid certificate in \(path): \(reason)"
        case .invalidPrivateKey(let path, let reason): return "invalid private key in \(path): \(reason)"
        case .keyDoesNotMatchCertificate(let cert, let key):
            return "private key \(key) does not match the certificate in \(cert)"
        case .invalidConfiguration(let reason): return "TLS configuration rejected: \(reason)"
        case .cannotWrite(let path, let reason): return "cannot write \(path): \(reason)"
        case .generationFailed(let reason): return "cannot generate a self-signed certificate: \(reason)"
        }
    }
}

/// The server side of TLS for one certificate: the parsed chain and one `NIOSSLContext`, built once
/// and shared by every connection (implicit TLS and STARTTLS alike).
///
/// Policy (PLATFORM.md, "TLS"): TLS 1.2 minimum, TLS 1.3 allowed; for TLS 1.2 only forward-secret
/// AEAD suites (`ECDHE+AESGCM:ECDHE+CHACHA20`, RFC 7525 §4.2); no renegotiation; no client certificates.
/// TLS 1.3 suites are all AEAD with (EC)DHE and are not configurable in BoringSSL.
public struct ServerTLS: Sendable {
    /// The shared NIOSSL context. Creating handlers from one context is cheap; creating contexts is not.
    public let sslContext: NIOSSLContext
    /// The certificate chain, leaf first, as sent to clients.
    public let certificateChain: [Certificate]
    /// Where the chain was loaded from (`nil` when built from memory).
    public let certificatePath: String?

    /// The leaf certificate (the server's own).
    public var leafCertificate: Certificate { certificateChain[0] }

    /// SHA-256 fingerprint of the leaf certificate's DER, as colon-separated upper-case hex — what a user
    /// compares when accepting a self-signed certificate in a mail client.
    public var leafFingerprintSHA256: String {
        var serializer = DER.Serializer()
        guard (try? serializer.serialize(leafCertificate)) != nil else { return "" }
        return SHA256.hash(data: serializer.serializedBytes)
            .map { byte in
                let hex = String(byte, radix: 16, uppercase: true)
                return hex.count == 1 ? "0" + hex : hex
            }
            .joined(separator: ":")
    }

    /// The 1.2 cipher list: ECDHE only (forward secrecy), AEAD only.
    public static let tls12CipherSuites = "ECDHE+AESGCM:ECDHE+CHACHA20"

    /// Builds the policy described on the type. Exposed so callers (and tests) can inspect it.
    public static func serverConfiguration(
        certificateChain: [NIOSSLCertificate],
        privateKey: NIOSSLPrivateKey
    ) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificateChain.map { .certificate($0) },
            privateKey: .privateKey(privateKey)
        )
        configuration.minimumTLSVersion = .tlsv12
        configuration.maximumTLSVersion = nil  // the highest BoringSSL speaks: TLS 1.3
        configuration.cipherSuites = tls12CipherSuites
        configuration.renegotiationSupport = .none
        configuration.certificateVerification = .none
        return configuration
    }

    /// Builds from PEM bytes already in memory (a chain of one or more `CERTIFICATE` blocks, leaf first,
    /// and one private key). `certificateLabel`/`keyLabel` name the sources in errors.
    public init(
        pemCertificateChain: [UInt8],
        pemPrivateKey: [UInt8],
        certificateLabel: String = "<certificate>",
        keyLabel: String = "<private key>"
    ) throws {
        try self.init(
            pemCertificateChain: pemCertificateChain,
            pemPrivateKey: pemPrivateKey,
            certificatePath: nil,
            certificateLabel: certificateLabel,
            keyLabel: keyLabel
        )
    }

    private init(
        pemCertificateChain: [UInt8],
        pemPrivateKey: [UInt8],
        certificatePath: String?,
        certificateLabel: String,
        keyLabel: String
    ) throws {
        guard let certificateText = String(bytes: pemCertificateChain, encoding: .utf8) else {
            throw ServerTLSError.invalidCertificate(path: certificateLabel, reason: "not PEM text")
        }
        guard let keyText = String(bytes: pemPrivateKey, encoding: .utf8) else {
            throw ServerTLSError.invalidPrivateKey(path: keyLabel, reason: "not PEM text")
        }

        // Parse the chain with swift-certificates for clear errors and inspection, then hand the same
        // DER to NIOSSL so both views agree on the certificates.
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: certificateText)
        } catch {
            throw ServerTLSError.invalidCertificate(path: certificateLabel, reason: "\(error)")
        }
        var chain: [Certificate] = []
        var nioChain: [NIOSSLCertificate] = []
        for document in documents where document.discriminator == "CERTIFICATE" {
            do {
                chain.append(try Certificate(pemDocument: document))
                nioChain.append(try NIOSSLCertificate(bytes: document.derBytes, format: .der))
            } catch {
                throw ServerTLSError.invalidCertificate(path: certificateLabel, reason: "\(error)")
            }
        }
        guard let leaf = chain.first else {
            throw ServerTLSError.invalidCertificate(path: certificateLabel, reason: "no CERTIFICATE block")
        }

        let nioKey: NIOSSLPrivateKey
        do {
            nioKey = try NIOSSLPrivateKey(bytes: pemPrivateKey, format: .pem)
        } catch {
            throw ServerTLSError.invalidPrivateKey(path: keyLabel, reason: "\(error)")
        }
        // swift-certificates reads the key types we expect (EC, RSA, Ed25519); when it can, compare the
        // public halves so a mismatched pair is reported by name rather than as a BoringSSL error.
        if let key = try? Certificate.PrivateKey(pemEncoded: keyText), key.publicKey != leaf.publicKey {
            throw ServerTLSError.keyDoesNotMatchCertificate(certificatePath: certificateLabel, keyPath: keyLabel)
        }

        do {
            sslContext = try NIOSSLContext(
                configuration: Self.serverConfiguration(certificateChain: nioChain, privateKey: nioKey)
            )
        } catch {
            throw ServerTLSError.invalidConfiguration(reason: "\(error)")
        }
        certificateChain = chain
        self.certificatePath = certificatePath
    }

    /// Loads a PEM certificate chain (leaf first) and a PEM private key from files.
    public static func load(certPath: String, keyPath: String) throws -> ServerTLS {
        let certificateBytes = try readFile(certPath)
        let keyBytes = try readFile(keyPath)
        return try ServerTLS(
            pemCertificateChain: certificateBytes,
            pemPrivateKey: keyBytes,
            certificatePath: certPath,
            certificateLabel: certPath,
            keyLabel: keyPath
        )
    }

    /// A development certificate kept in `directory`: loads `cert.pem`/`key.pem` when both exist,
    /// otherwise generates them once (P-256 key, self-signed certificate for `hostname`, ~10 years)
    /// and writes them atomically (directory 0700 when created, key 0600, certificate 0644).
    public static func selfSigned(hostname: String, directory: String) throws -> ServerTLS {
        let certPath = (directory as NSString).appendingPathComponent("cert.pem")
        let keyPath = (directory as NSString).appendingPathComponent("key.pem")
        let files = FileManager.default
        if files.fileExists(atPath: certPath), files.fileExists(atPath: keyPath) {
            return try load(certPath: certPath, keyPath: keyPath)
        }

        try makePrivateDirectory(directory)
        let generated = try SelfSignedCertificate.generate(hostname: hostname)
        // Key first: a crash between the two renames leaves no certificate, so the next start regenerates
        // both instead of pairing a certificate with a key it was not issued for.
        try AtomicFile.write(Array(generated.privateKeyPEM.utf8), to: keyPath, mode: 0o600)
        try AtomicFile.write(Array(generated.certificatePEM.utf8), to: certPath, mode: 0o644)
        return try load(certPath: certPath, keyPath: keyPath)
    }

    private static func readFile(_ path: String) throws -> [UInt8] {
        do {
            return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            let reason = (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
            throw ServerTLSError.unreadableFile(path: path, reason: reason)
        }
    }

    private static func makePrivateDirectory(_ directory: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw ServerTLSError.cannotWrite(path: directory, reason: "exists and is not a directory")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(
                atPath: directory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw ServerTLSError.cannotWrite(path: directory, reason: "\(error)")
        }
        // `attributes` is subject to the umask only for more restrictive bits; make it exact anyway.
        if chmod(directory, 0o700) != 0 {
            throw ServerTLSError.cannotWrite(path: directory, reason: String(cString: strerror(errno)))
        }
    }
}

/// Generation of the development certificate (kept apart from file handling so it can be tested alone).
enum SelfSignedCertificate {
    struct Generated {
        var certificatePEM: String
        var privateKeyPEM: String
    }

    /// Names that mean "this machine": they also get the loopback IP SANs so clients connecting to
    /// 127.0.0.1 or ::1 can match the certificate.
    static func isLocalhostLike(_ hostname: String) -> Bool {
        let name = hostname.lowercased()
        return name == "localhost" || name.hasSuffix(".localhost") || name == "localhost.localdomain"
    }

    static func generate(hostname: String, now: Date = Date()) throws -> Generated {
        let key = P256.Signing.PrivateKey()
        do {
            let subject = try DistinguishedName { CommonName(hostname) }
            var names: [GeneralName] = []
            if let ip = ipAddressBytes(hostname) {
                names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(ip))))
            } else {
                names.append(.dnsName(hostname))
            }
            if isLocalhostLike(hostname) {
                if hostname.lowercased() != "localhost" { names.append(.dnsName("localhost")) }
                names.append(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])))
                names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1]))))
            }
            // No KeyUsage extension on purpose: OpenSSL/BoringSSL only treat a certificate as
            // self-signed (usable as its own trust anchor, e.g. `openssl s_client -CAfile cert.pem`)
            // when KeyUsage is absent or has keyCertSign, and keyCertSign requires cA (RFC 5280
            // §4.2.1.3), which a server certificate should not claim.
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),  // 20 random bytes
                publicKey: .init(key.publicKey),
                // An hour of slack for clients whose clocks run behind.
                notValidBefore: now.addingTimeInterval(-3600),
                notValidAfter: now.addingTimeInterval(10 * 365.25 * 24 * 3600),
                issuer: subject,
                subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions,
                issuerPrivateKey: .init(key)
            )
            return Generated(
                certificatePEM: try certificate.serializeAsPEM().pemString + "\n",
                privateKeyPEM: key.pemRepresentation + "\n"
            )
        } catch {
            throw ServerTLSError.generationFailed(reason: "\(error)")
        }
    }

    /// The 4 or 16 network-order bytes of an IP literal, or nil for a DNS name.
    static func ipAddressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}

/// Durable replacement of a small file: temp file in the same directory, fsync, rename, fsync of the
/// directory (so a crash leaves either the old file or the complete new one, never a torn one).
enum AtomicFile {
    static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = path + ".tmp-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        func failure(_ target: String) -> ServerTLSError {
            ServerTLSError.cannotWrite(path: target, reason: String(cString: strerror(errno)))
        }

        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure(path) }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        do {
            defer { close(fd) }
            // The umask may have cleared bits of `mode`; set exactly what was asked.
            guard fchmod(fd, mode) == 0 else { throw failure(path) }
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { raw -> Int in
                    guard let base = raw.baseAddress else { return 0 }
                    return posixWrite(fd, base + offset, raw.count - offset)
                }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure(path)
                }
                offset += written
            }
            guard fsync(fd) == 0 else { throw failure(path) }
        }
        guard rename(temporary, path) == 0 else { throw failure(path) }
        ok = true
        let directoryFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }
}

/// `write(2)` under a name that does not collide with Swift's `write` methods in scope.
@inline(__always)
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, buffer, count)
    #elseif canImport(Musl)
    return Musl.write(fd, buffer, count)
    #else
    return Darwin.write(fd, buffer, count)
    #endif
}

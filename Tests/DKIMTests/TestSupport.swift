import DKIM
import Foundation

/// Keys made once per test run (RSA generation is the slow part).
enum TestKeys {
    static let rsa: DKIMPrivateKey = {
        do { return try DKIMPrivateKey.generate(.rsaSHA256) } catch { fatalError("RSA key generation: \(error)") }
    }()
    static let ed25519: DKIMPrivateKey = {
        do { return try DKIMPrivateKey.generate(.ed25519SHA256) } catch { fatalError("Ed25519 key generation: \(error)") }
    }()

    static let domain = "example.com"
    static let rsaSelector = "rsa2025"
    static let ed25519Selector = "ed2025"

    static var signers: [DKIMSigner] {
        [
            DKIMSigner(domain: domain, selector: rsaSelector, key: rsa),
            DKIMSigner(domain: domain, selector: ed25519Selector, key: ed25519),
        ]
    }

    /// The key records, by "selector._domainkey.domain".
    static var records: [String: String] {
        [
            "\(rsaSelector)._domainkey.\(domain)": rsa.dnsRecord,
            "\(ed25519Selector)._domainkey.\(domain)": ed25519.dnsRecord,
        ]
    }

    static func lookup(_ domain: String, _ selector: String) -> String? {
        records["\(selector)._domainkey.\(domain)".lowercased()]
    }
}

/// A fixed signing time: 2025-01-01T00:00:00Z.
let signingTime = Date(timeIntervalSince1970: 1_735_689_600)

/// Signs `message` with each signer (each over the unsigned message) and prepends all the fields.
func signed(_ message: [UInt8], by signers: [DKIMSigner] = TestKeys.signers, at time: Date = signingTime) throws -> [UInt8] {
    var fields: [UInt8] = []
    for signer in signers {
        fields += Array(try signer.signatureField(message: message, at: time).utf8)
    }
    return fields + message
}

/// A scratch directory removed when the value is released.
final class ScratchDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "skjold-dkim-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

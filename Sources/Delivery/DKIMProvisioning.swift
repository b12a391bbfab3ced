import DKIM
import Foundation
import MailStore

/// Creates the DKIM keys of hosted domains and describes the DNS records an admin must publish.
public enum DKIMProvisioning {
    /// Selectors carry the year and month of creation so a later rotation can publish new ones beside them.
    static func selector(_ algorithm: DKIMAlgorithm, at date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&time, &parts)
        let month = parts.tm_mon + 1
        let stamp = "\(parts.tm_year + 1900)\(month < 10 ? "0" : "")\(month)"
        return "s\(stamp)" + (algorithm == .ed25519SHA256 ? "e" : "r")
    }

    /// The domain's keys, generating an Ed25519 and an RSA-2048 key when it has none.
    @discardableResult
    public static func ensureKeys(domain: String, in store: any DKIMKeyStore, now: Date = Date()) async throws -> [DKIMKeyRecord] {
        let existing = try await store.dkimKeys(for: domain)
        if !existing.isEmpty { return existing }
        for algorithm in [DKIMAlgorithm.ed25519SHA256, .rsaSHA256] {
            let key = try DKIMPrivateKey.generate(algorithm)
            try await store.addDKIMKey(DKIMKeyRecord(domain: domain, selector: selector(algorithm, at: now), algorithm: algorithm.rawValue,
                                                     privateKeyPEM: key.pemRepresentation, createdAt: now))
        }
        return try await store.dkimKeys(for: domain)
    }

    /// Keys for every hosted domain that lacks them (domains added before DKIM existed, the dev domain).
    public static func ensureAllDomains(directory: any MailDirectory, keys: any DKIMKeyStore) async throws {
        for domain in try await directory.domains() {
            try await ensureKeys(domain: domain.name, in: keys)
        }
    }

    /// Zone-file lines for the domain: MX, SPF, one DKIM record per key, DMARC.
    public static func dnsRecords(domain: String, hostname: String, keys: [DKIMKeyRecord]) throws -> [String] {
        var rows: [(String, String, String)] = [
            ("\(domain).", "MX", "10 \(hostname)."),
            ("\(domain).", "TXT", quoted("v=spf1 mx ~all")),
        ]
        for record in keys {
            let key = try DKIMPrivateKey(pem: record.privateKeyPEM)
            rows.append(("\(record.selector)._domainkey.\(domain).", "TXT", quoted(key.dnsRecord)))
        }
        rows.append(("_dmarc.\(domain).", "TXT", quoted("v=DMARC1; p=quarantine")))
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { name, type, value in
            name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + "IN " + type.padding(toLength: 5, withPad: " ", startingAt: 0) + value
        }
    }

    /// A TXT value as DNS character-strings: at most 255 bytes each (RFC 1035 §3.3.14), joined by a space.
    static func quoted(_ text: String) -> String {
        var chunks: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            chunks.append("\"" + rest.prefix(255) + "\"")
            rest = rest.dropFirst(255)
        }
        return chunks.joined(separator: " ")
    }
}

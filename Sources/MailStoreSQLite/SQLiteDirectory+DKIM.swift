import Foundation
import GRDB
import MailStore

/// DKIM signing keys per hosted domain (the private keys never leave the directory database).
extension SQLiteDirectory: DKIMKeyStore {
    public func dkimKeys(for domain: String) async throws -> [DKIMKeyRecord] {
        guard let normalized = DomainName.normalize(domain) else { return [] }
        return try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM dkim_keys WHERE domain = ? ORDER BY algorithm DESC, selector", arguments: [normalized]).map {
                DKIMKeyRecord(domain: $0["domain"], selector: $0["selector"], algorithm: $0["algorithm"],
                              privateKeyPEM: $0["private_key"], createdAt: Date(timeIntervalSince1970: TimeInterval($0["created_at"] as Int64)))
            }
        }
    }

    /// Stores a key; the domain must be hosted.
    public func addDKIMKey(_ key: DKIMKeyRecord) async throws {
        guard let normalized = DomainName.normalize(key.domain) else { throw DirectoryError.malformedDomain(key.domain) }
        try await pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM domains WHERE name = ?", arguments: [normalized]) != nil else {
                throw DirectoryError.unknownDomain(normalized)
            }
            try db.execute(sql: """
                INSERT OR REPLACE INTO dkim_keys(domain, selector, algorithm, private_key, created_at) VALUES (?, ?, ?, ?, ?)
                """, arguments: [normalized, key.selector, key.algorithm, key.privateKeyPEM, Int64(key.createdAt.timeIntervalSince1970)])
        }
    }
}

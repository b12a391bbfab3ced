import Foundation
import GRDB
import MailStore

/// App passwords and submission pauses (migration "v4-protection").
extension SQLiteDirectory: AccountProtection {
    /// The lookup key of a generated password: its first group (`abcde` of `abcde-fghij-...`); nil for
    /// passwords not in the generated shape.
    static func appPasswordLookup(_ password: String) -> String? {
        let groups = password.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.count == 4, groups.allSatisfy({ $0.count == 5 }) else { return nil }
        return String(groups[0])
    }

    public func addAppPassword(_ address: String, name: String) async throws -> String {
        let account = try await requireAccount(address)
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= 64, !trimmed.contains(where: { $0.isNewline }) else {
            throw DirectoryError.invalidAppPasswordName(name)
        }
        let password = PasswordGenerator.generate()
        let cost = passwordCost
        let hash = try await BlockingIO.run { try PasswordHash.make(password: password, logN: cost).encoded }
        guard let lookup = Self.appPasswordLookup(password) else { throw MailStoreError.io("generated password has an unexpected shape") }
        try await pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM app_passwords WHERE account_id = ? AND name = ?",
                                 arguments: [account.id, trimmed]) == true {
                throw DirectoryError.duplicateAppPassword(account: account.address.given, name: trimmed)
            }
            try db.execute(sql: """
                INSERT INTO app_passwords(account_id, name, lookup, password_hash, created_at) VALUES (?, ?, ?, ?, ?)
                """, arguments: [account.id, trimmed, lookup, hash, Self.now()])
        }
        return password
    }

    public func appPasswords(_ address: String) async throws -> [AppPasswordInfo] {
        let account = try await requireAccount(address)
        return try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT name, created_at FROM app_passwords WHERE account_id = ? ORDER BY name",
                             arguments: [account.id]).map {
                AppPasswordInfo(name: $0["name"], createdAt: Date(timeIntervalSince1970: TimeInterval($0["created_at"] as Int64)))
            }
        }
    }

    public func revokeAppPassword(_ address: String, name: String) async throws {
        let account = try await requireAccount(address)
        let removed = try await pool.write { db -> Int in
            try db.execute(sql: "DELETE FROM app_passwords WHERE account_id = ? AND name = ?", arguments: [account.id, name])
            return db.changesCount
        }
        guard removed > 0 else { throw DirectoryError.noSuchAppPassword(account: account.address.given, name: name) }
    }

    public func pauseSubmission(accountID: String, reason: String, now: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO account_pauses(account_id, since, reason) VALUES (?, ?, ?)",
                           arguments: [accountID, Int64(now.timeIntervalSince1970), reason])
            return db.changesCount > 0
        }
    }

    public func submissionPause(accountID: String) async throws -> (since: Date, reason: String)? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT since, reason FROM account_pauses WHERE account_id = ?",
                                             arguments: [accountID]) else { return nil }
            return (Date(timeIntervalSince1970: TimeInterval(row["since"] as Int64)), row["reason"])
        }
    }

    public func unlock(_ address: String) async throws {
        let account = try await requireAccount(address)
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM account_pauses WHERE account_id = ?", arguments: [account.id])
        }
    }

    /// Records the No Backup flag (the folder has already been moved by `SQLiteMailStore.setNoBackup`).
    func setNoBackupFlag(_ accountID: String, _ noBackup: Bool) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE accounts SET no_backup = ? WHERE id = ?", arguments: [noBackup, accountID])
        }
    }

    public func setMainPasswordWebOnly(_ address: String, _ webOnly: Bool) async throws {
        let account = try await requireAccount(address)
        try await pool.write { db in
            if webOnly {
                try db.execute(sql: "INSERT OR IGNORE INTO account_web_only(account_id) VALUES (?)", arguments: [account.id])
            } else {
                try db.execute(sql: "DELETE FROM account_web_only WHERE account_id = ?", arguments: [account.id])
            }
        }
    }

    public func isMainPasswordWebOnly(accountID: String) async throws -> Bool {
        try await pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM account_web_only WHERE account_id = ?", arguments: [accountID]) == true
        }
    }
}

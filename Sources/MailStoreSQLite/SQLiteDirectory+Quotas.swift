import Foundation
import GRDB
import MailStore

/// The quota ledgers in the directory database (migration "v2-quotas").
extension SQLiteDirectory: QuotaLedger {
    static let day: Int64 = 24 * 3600

    public func extras(ofAccount accountID: String) async throws -> AccountExtras {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM account_extras WHERE account_id = ?", arguments: [accountID]) else {
                return AccountExtras()
            }
            return AccountExtras(storage: row["storage"], outgoingPerDay: row["outgoing"], bandwidthPerWeek: row["bandwidth"])
        }
    }

    public func setExtras(_ address: String, _ extras: AccountExtras) async throws {
        let account = try await requireAccount(address)
        guard extras.storage >= 0, extras.outgoingPerDay >= 0, extras.bandwidthPerWeek >= 0 else {
            throw DirectoryError.invalidQuota("extras cannot be negative")
        }
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO account_extras(account_id, storage, outgoing, bandwidth) VALUES (?, ?, ?, ?)
                ON CONFLICT(account_id) DO UPDATE SET storage = excluded.storage, outgoing = excluded.outgoing,
                    bandwidth = excluded.bandwidth
                """, arguments: [account.id, extras.storage, extras.outgoingPerDay, extras.bandwidthPerWeek])
        }
    }

    public func reserveOutgoing(accountID: String, count: Int, limit: Int, now: Date) async throws -> OutgoingReservation {
        let nowSeconds = Int64(now.timeIntervalSince1970)
        // One write transaction: the check and the insert are atomic against concurrent sessions (and
        // against other processes: SQLite serialises writers).
        return try await pool.write { db in
            try db.execute(sql: "DELETE FROM outgoing_ledger WHERE account_id = ? AND at <= ?",
                           arguments: [accountID, nowSeconds - Self.day])
            let used = try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(count), 0) FROM outgoing_ledger WHERE account_id = ?",
                                        arguments: [accountID]) ?? 0
            let oldest = try Int64.fetchOne(db, sql: "SELECT MIN(at) FROM outgoing_ledger WHERE account_id = ?", arguments: [accountID])
            guard count > 0, used + count <= limit else {
                return OutgoingReservation(allowed: count <= 0, used: used, limit: limit,
                                           freesAt: oldest.map { Date(timeIntervalSince1970: TimeInterval($0 + Self.day)) })
            }
            try db.execute(sql: "INSERT INTO outgoing_ledger(account_id, at, count) VALUES (?, ?, ?)",
                           arguments: [accountID, nowSeconds, count])
            return OutgoingReservation(allowed: true, used: used + count, limit: limit,
                                       freesAt: Date(timeIntervalSince1970: TimeInterval((oldest ?? nowSeconds) + Self.day)))
        }
    }

    public func outgoingUsage(accountID: String, now: Date) async throws -> (used: Int, freesAt: Date?) {
        let since = Int64(now.timeIntervalSince1970) - Self.day
        return try await pool.read { db in
            let used = try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(count), 0) FROM outgoing_ledger WHERE account_id = ? AND at > ?",
                                        arguments: [accountID, since]) ?? 0
            let oldest = try Int64.fetchOne(db, sql: "SELECT MIN(at) FROM outgoing_ledger WHERE account_id = ? AND at > ?",
                                            arguments: [accountID, since])
            return (used, oldest.map { Date(timeIntervalSince1970: TimeInterval($0 + Self.day)) })
        }
    }

    public func outgoingCount(accountID: String, since: Date) async throws -> Int {
        try await pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(count), 0) FROM outgoing_ledger WHERE account_id = ? AND at > ?",
                             arguments: [accountID, Int64(since.timeIntervalSince1970)]) ?? 0
        }
    }

    static let week: Int64 = 7 * 24

    public func recordTraffic(accountID: String, bytes: Int64, now: Date) async throws {
        guard bytes > 0 else { return }
        let hour = Int64(now.timeIntervalSince1970) / 3600
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO traffic_ledger(account_id, hour, bytes) VALUES (?, ?, ?)
                ON CONFLICT(account_id, hour) DO UPDATE SET bytes = bytes + excluded.bytes
                """, arguments: [accountID, hour, bytes])
            try db.execute(sql: "DELETE FROM traffic_ledger WHERE account_id = ? AND hour <= ?",
                           arguments: [accountID, hour - Self.week])
        }
    }

    public func trafficUsage(accountID: String, now: Date) async throws -> (used: Int64, freesAt: Date?) {
        let hour = Int64(now.timeIntervalSince1970) / 3600
        return try await pool.read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT COALESCE(SUM(bytes), 0) AS used, MIN(hour) AS oldest FROM traffic_ledger WHERE account_id = ? AND hour > ?
                """, arguments: [accountID, hour - Self.week])
            let used: Int64 = row?["used"] ?? 0
            let oldest: Int64? = row?["oldest"]
            return (used, oldest.map { Date(timeIntervalSince1970: TimeInterval(($0 + Self.week) * 3600)) })
        }
    }
}

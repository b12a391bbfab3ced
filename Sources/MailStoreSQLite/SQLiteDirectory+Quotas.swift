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

    /// Counts traffic in memory and writes it within ``trafficFlushDelay``, in one transaction for every
    /// account that had some: a FETCH or RETR must not wait for a durable write (an fsync per command
    /// made one-by-one downloads ten times slower). A crash loses at most that delay's counts, which only
    /// ever favours the user; ``trafficUsage(accountID:now:)`` adds what is pending, so the allowance is
    /// enforced on every byte.
    public func recordTraffic(accountID: String, bytes: Int64, now: Date) async throws {
        guard bytes > 0 else { return }
        let hour = Int64(now.timeIntervalSince1970) / 3600
        let schedule = pendingTraffic.withLock { pending in
            pending.bytes[PendingTraffic.Key(accountID: accountID, hour: hour), default: 0] += bytes
            defer { pending.flushScheduled = true }
            return !pending.flushScheduled
        }
        guard schedule else { return }
        Task { [self] in
            try? await Task.sleep(for: Self.trafficFlushDelay)
            try? await flushTraffic()
        }
    }

    /// How long counted traffic may wait in memory before it is written.
    static let trafficFlushDelay: Duration = .seconds(1)

    /// Writes the traffic counted in memory (also called at shutdown). Counts of accounts erased meanwhile
    /// are dropped; after a failed write they wait for the next flush.
    public func flushTraffic() async throws {
        let batch = pendingTraffic.withLock { pending in
            defer { pending = PendingTraffic() }
            return pending.bytes
        }
        guard !batch.isEmpty else { return }
        do {
            try await pool.write { db in
                for (key, bytes) in batch {
                    try db.execute(sql: """
                        INSERT INTO traffic_ledger(account_id, hour, bytes)
                        SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM accounts WHERE id = ?)
                        ON CONFLICT(account_id, hour) DO UPDATE SET bytes = bytes + excluded.bytes
                        """, arguments: [key.accountID, key.hour, bytes, key.accountID])
                    try db.execute(sql: "DELETE FROM traffic_ledger WHERE account_id = ? AND hour <= ?",
                                   arguments: [key.accountID, key.hour - Self.week])
                }
            }
        } catch {
            let reschedule = pendingTraffic.withLock { pending in
                for (key, bytes) in batch { pending.bytes[key, default: 0] += bytes }
                defer { pending.flushScheduled = true }
                return !pending.flushScheduled
            }
            if reschedule {
                Task { [self] in
                    try? await Task.sleep(for: Self.trafficFlushDelay)
                    try? await flushTraffic()
                }
            }
            throw error
        }
    }

    public func trafficUsage(accountID: String, now: Date) async throws -> (used: Int64, freesAt: Date?) {
        let hour = Int64(now.timeIntervalSince1970) / 3600
        let pending = pendingTraffic.withLock { pending in
            pending.bytes.filter { $0.key.accountID == accountID && $0.key.hour > hour - Self.week }
        }
        let (stored, oldestStored): (Int64, Int64?) = try await pool.read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT COALESCE(SUM(bytes), 0) AS used, MIN(hour) AS oldest FROM traffic_ledger WHERE account_id = ? AND hour > ?
                """, arguments: [accountID, hour - Self.week])
            return (row?["used"] ?? 0, row?["oldest"])
        }
        let used = stored + pending.values.reduce(0, +)
        let oldest = ([oldestStored].compactMap { $0 } + pending.keys.map(\.hour)).min()
        return (used, oldest.map { Date(timeIntervalSince1970: TimeInterval(($0 + Self.week) * 3600)) })
    }
}

/// Traffic counts waiting in memory to be written, per account and hour.
struct PendingTraffic: Sendable {
    struct Key: Hashable, Sendable {
        var accountID: String
        var hour: Int64
    }
    var bytes: [Key: Int64] = [:]
    /// A flush task is on its way.
    var flushScheduled = false
}

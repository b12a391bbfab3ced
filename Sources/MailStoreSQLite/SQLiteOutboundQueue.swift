import Foundation
import GRDB
import MailStore

/// The outbound queue of the embedded backend: entries in the directory database, bytes in
/// `<data_dir>/queue/<id>`, both durable before `enqueue` returns.
public final class SQLiteOutboundQueue: OutboundQueue, @unchecked Sendable {
    // @unchecked: immutable stored properties; DatabasePool is thread-safe.
    let pool: DatabasePool
    let folder: String
    /// Concurrent `enqueue` calls share one transaction (see `commitEntries`).
    let entries: GroupCommit<QueuedMessage, QueuedMessage>

    /// Largest number of entries committed in one transaction.
    static let maxEnqueueBatch = 256

    init(pool: DatabasePool, folder: String) throws {
        self.pool = pool
        self.folder = folder
        entries = GroupCommit(maxBatch: Self.maxEnqueueBatch) { batch in await Self.commitEntries(batch, pool: pool, folder: folder) }
        try DurableFiles.ensureDirectory(folder)
        try Self.migrator.migrate(pool)
    }

    static let migrator: DatabaseMigrator = {
        var m = DatabaseMigrator()
        m.registerMigration("queue-v1") { db in
            try db.execute(sql: """
                CREATE TABLE queue_messages(
                    id TEXT PRIMARY KEY,
                    sender TEXT NOT NULL,
                    account_id TEXT,
                    size INTEGER NOT NULL,
                    dsn_ret TEXT,
                    dsn_envid TEXT,
                    created_at INTEGER NOT NULL,
                    next_attempt INTEGER NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
                CREATE TABLE queue_recipients(
                    message_id TEXT NOT NULL REFERENCES queue_messages(id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    address TEXT NOT NULL,
                    notify TEXT,
                    orcpt TEXT,
                    state TEXT NOT NULL,
                    last_reply TEXT,
                    PRIMARY KEY(message_id, position)) WITHOUT ROWID;
                CREATE INDEX queue_by_account ON queue_messages(account_id);
                """)
        }
        // Delivery bookkeeping: the delayed notice, the DKIM signature made once, which host answered, and
        // whether a recipient's final state has been reported to the sender.
        m.registerMigration("queue-v2-delivery") { db in
            try db.execute(sql: """
                ALTER TABLE queue_messages ADD COLUMN warned INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE queue_messages ADD COLUMN signature TEXT;
                ALTER TABLE queue_recipients ADD COLUMN remote_host TEXT;
                ALTER TABLE queue_recipients ADD COLUMN reported INTEGER NOT NULL DEFAULT 0;
                CREATE INDEX queue_by_next_attempt ON queue_messages(next_attempt);
                """)
        }
        return m
    }()

    public func messagePath(id: String) -> String { folder + "/" + id }

    /// Durability order as for deliveries: this caller writes and fsyncs the bytes; the group commit then
    /// fsyncs the queue folder once per batch and inserts every entry of the batch in one transaction.
    public func enqueue(sender: String, recipients: [QueuedRecipient], source: MessageSource, accountID: String?,
                        dsn: DSNEnvelope) async throws -> QueuedMessage {
        let id = RandomID.make()
        let path = messagePath(id: id)
        let size = try await DurableIO.run { try DurableFiles.writeNewFile(at: path, source: source) }
        let now = Date(timeIntervalSince1970: TimeInterval(Int64(Date().timeIntervalSince1970)))
        let message = QueuedMessage(id: id, sender: sender, recipients: recipients, accountID: accountID, size: size, dsn: dsn,
                                    createdAt: now, nextAttempt: now, attempts: 0)
        return try await entries.submit(message)
    }

    /// The group commit of `enqueue`: one folder fsync and one transaction per batch, one savepoint per entry
    /// so a failing entry is rolled back (and its file removed) alone.
    static func commitEntries(_ batch: [QueuedMessage], pool: DatabasePool, folder: String) async -> [Result<QueuedMessage, any Error>] {
        let paths = batch.map { folder + "/" + $0.id }
        do {
            return try await DurableIO.run {
                do {
                    try DurableFiles.fsyncDirectory(folder)
                } catch {
                    for path in paths { DurableFiles.remove(path) }
                    throw error
                }
                var results: [Result<QueuedMessage, any Error>] = []
                results.reserveCapacity(batch.count)
                var committing = false
                do {
                    try pool.writeWithoutTransaction { db in
                        try db.inTransaction(.immediate) {
                            for message in batch {
                                do {
                                    try db.inSavepoint {
                                        try insert(db, message)
                                        return .commit
                                    }
                                    results.append(.success(message))
                                } catch {
                                    guard db.isInsideTransaction else { throw error }
                                    results.append(.failure(error))
                                }
                            }
                            committing = true
                            return .commit
                        }
                    }
                } catch {
                    // As for deliveries: only a rollback before COMMIT surely leaves no entry naming the files.
                    if !committing { for path in paths { DurableFiles.remove(path) } }
                    throw error
                }
                for (path, result) in zip(paths, results) {
                    if case .failure = result { DurableFiles.remove(path) }
                }
                return results
            }
        } catch {
            return Array(repeating: .failure(error), count: batch.count)
        }
    }

    static func insert(_ db: Database, _ message: QueuedMessage) throws {
        let created = Int64(message.createdAt.timeIntervalSince1970)
        try db.cachedStatement(sql: """
            INSERT INTO queue_messages(id, sender, account_id, size, dsn_ret, dsn_envid, created_at, next_attempt, attempts)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)
            """).execute(arguments: [message.id, message.sender, message.accountID, message.size, message.dsn.ret,
                                     message.dsn.envelopeID, created, Int64(message.nextAttempt.timeIntervalSince1970)])
        for (i, r) in message.recipients.enumerated() {
            try db.cachedStatement(sql: """
                INSERT INTO queue_recipients(message_id, position, address, notify, orcpt, state, last_reply)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [message.id, i, r.address, r.notify, r.originalRecipient, r.state.rawValue, r.lastReply])
        }
    }

    static func load(_ db: Database, _ row: Row) throws -> QueuedMessage {
        let id: String = row["id"]
        let recipients = try Row.fetchAll(db, sql: "SELECT * FROM queue_recipients WHERE message_id = ? ORDER BY position",
                                          arguments: [id]).map {
            QueuedRecipient(address: $0["address"], notify: $0["notify"], originalRecipient: $0["orcpt"],
                            state: QueuedRecipient.State(rawValue: $0["state"]) ?? .pending, lastReply: $0["last_reply"],
                            remoteHost: $0["remote_host"], reported: $0["reported"] as Bool)
        }
        var message = QueuedMessage(id: id, sender: row["sender"], recipients: recipients, accountID: row["account_id"], size: row["size"],
                                    dsn: DSNEnvelope(ret: row["dsn_ret"], envelopeID: row["dsn_envid"]),
                                    createdAt: Date(timeIntervalSince1970: TimeInterval(row["created_at"] as Int64)),
                                    nextAttempt: Date(timeIntervalSince1970: TimeInterval(row["next_attempt"] as Int64)),
                                    attempts: row["attempts"])
        message.warned = row["warned"] as Bool
        message.signature = row["signature"]
        return message
    }

    public func due(at now: Date, limit: Int, excluding: Set<String>) async throws -> [QueuedMessage] {
        let cutoff = Int64(now.timeIntervalSince1970)
        // Fetch a little more than asked so messages in flight do not crowd out due ones.
        let fetch = limit + excluding.count
        return try await pool.read { db in
            var result: [QueuedMessage] = []
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM queue_messages WHERE next_attempt <= ? ORDER BY next_attempt, created_at LIMIT ?",
                                        arguments: [cutoff, fetch])
            for row in rows where !excluding.contains(row["id"] as String) {
                result.append(try Self.load(db, row))
                if result.count >= limit { break }
            }
            return result
        }
    }

    public func update(id: String, recipients: [Int: QueuedRecipient], signature: String? = nil) async throws {
        guard !recipients.isEmpty || signature != nil else { return }
        try await pool.write { db in
            if let signature {
                try db.execute(sql: "UPDATE queue_messages SET signature = ? WHERE id = ?", arguments: [signature, id])
            }
            for (position, r) in recipients {
                try db.cachedStatement(sql: """
                    UPDATE queue_recipients SET state = ?, last_reply = ?, remote_host = ?, reported = ?
                    WHERE message_id = ? AND position = ?
                    """).execute(arguments: [r.state.rawValue, r.lastReply, r.remoteHost, r.reported, id, position])
            }
        }
    }

    public func finishAttempt(id: String, nextAttempt: Date?, countAttempt: Bool, warned: Bool) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE queue_messages SET attempts = attempts + ?, next_attempt = COALESCE(?, next_attempt), warned = ?
                WHERE id = ?
                """, arguments: [countAttempt ? 1 : 0, nextAttempt.map { Int64($0.timeIntervalSince1970.rounded(.up)) }, warned, id])
        }
    }

    public func retry(id: String?, at now: Date) async throws -> Int {
        let time = Int64(now.timeIntervalSince1970)
        return try await pool.write { db in
            if let id {
                try db.execute(sql: "UPDATE queue_messages SET next_attempt = ? WHERE id = ?", arguments: [time, id])
            } else {
                try db.execute(sql: "UPDATE queue_messages SET next_attempt = ? WHERE next_attempt > ?", arguments: [time, time])
            }
            return db.changesCount
        }
    }

    public func list() async throws -> [QueuedMessage] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM queue_messages ORDER BY created_at, id").map { try Self.load(db, $0) }
        }
    }

    public func message(id: String) async throws -> QueuedMessage? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM queue_messages WHERE id = ?", arguments: [id]).map { try Self.load(db, $0) }
        }
    }

    public func remove(id: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM queue_messages WHERE id = ?", arguments: [id])
            if db.changesCount == 0 { throw MailStoreError.io("no queued message \(id)") }
        }
        let path = messagePath(id: id)
        try await BlockingIO.run { DurableFiles.remove(path) }
    }

    /// Removes every queue entry of an account (erasure).
    func removeAll(accountID: String) async throws {
        let ids = try await pool.write { db in
            try String.fetchAll(db, sql: "DELETE FROM queue_messages WHERE account_id = ? RETURNING id", arguments: [accountID])
        }
        let paths = ids.map(messagePath)
        try await BlockingIO.run { for p in paths { DurableFiles.remove(p) } }
    }
}

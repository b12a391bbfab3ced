import Foundation
import GRDB
import MailStore

/// The outbound queue of the embedded backend: entries in the directory database, bytes in
/// `<data_dir>/queue/<id>`, both durable before `enqueue` returns.
public final class SQLiteOutboundQueue: OutboundQueue, @unchecked Sendable {
    // @unchecked: immutable stored properties; DatabasePool is thread-safe.
    let pool: DatabasePool
    let folder: String

    init(pool: DatabasePool, folder: String) throws {
        self.pool = pool
        self.folder = folder
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
        return m
    }()

    public func messagePath(id: String) -> String { folder + "/" + id }

    public func enqueue(sender: String, recipients: [QueuedRecipient], source: MessageSource, accountID: String?,
                        dsn: DSNEnvelope) async throws -> QueuedMessage {
        let id = RandomID.make()
        let path = messagePath(id: id)
        let folder = self.folder
        let size = try await BlockingIO.run {
            let size = try DurableFiles.writeNewFile(at: path, source: source)
            try DurableFiles.fsyncDirectory(folder)
            return size
        }
        let now = Date(timeIntervalSince1970: TimeInterval(Int64(Date().timeIntervalSince1970)))
        let message = QueuedMessage(id: id, sender: sender, recipients: recipients, accountID: accountID, size: size, dsn: dsn,
                                    createdAt: now, nextAttempt: now, attempts: 0)
        do {
            try await pool.write { db in
                try db.execute(sql: """
                    INSERT INTO queue_messages(id, sender, account_id, size, dsn_ret, dsn_envid, created_at, next_attempt, attempts)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)
                    """, arguments: [id, sender, accountID, size, dsn.ret, dsn.envelopeID, Int64(now.timeIntervalSince1970),
                                     Int64(now.timeIntervalSince1970)])
                for (i, r) in recipients.enumerated() {
                    try db.execute(sql: """
                        INSERT INTO queue_recipients(message_id, position, address, notify, orcpt, state, last_reply)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [id, i, r.address, r.notify, r.originalRecipient, r.state.rawValue, r.lastReply])
                }
            }
        } catch {
            DurableFiles.remove(path)
            throw error
        }
        return message
    }

    static func load(_ db: Database, _ row: Row) throws -> QueuedMessage {
        let id: String = row["id"]
        let recipients = try Row.fetchAll(db, sql: "SELECT * FROM queue_recipients WHERE message_id = ? ORDER BY position",
                                          arguments: [id]).map {
            QueuedRecipient(address: $0["address"], notify: $0["notify"], originalRecipient: $0["orcpt"],
                            state: QueuedRecipient.State(rawValue: $0["state"]) ?? .pending, lastReply: $0["last_reply"])
        }
        return QueuedMessage(id: id, sender: row["sender"], recipients: recipients, accountID: row["account_id"], size: row["size"],
                             dsn: DSNEnvelope(ret: row["dsn_ret"], envelopeID: row["dsn_envid"]),
                             createdAt: Date(timeIntervalSince1970: TimeInterval(row["created_at"] as Int64)),
                             nextAttempt: Date(timeIntervalSince1970: TimeInterval(row["next_attempt"] as Int64)),
                             attempts: row["attempts"])
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

import Foundation
import GRDB
import MailStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Ids the store makes (`RandomID`: 32 lowercase hex digits) name account folders, blobs and queue files.
/// An id read back from a file (a backup being restored, a database copy) must pass this check before it
/// becomes part of a path, so a tampered backup cannot write outside its folders.
public enum StoreID {
    public static func isValid(_ id: String) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

/// One mailbox and all its messages, as read in one transaction (export, backup checks).
public struct MailboxSnapshot: Sendable, Hashable {
    public var name: String
    public var specialUse: SpecialUse?
    public var uidValidity: UIDValidity
    public var uidNext: UID
    public var subscribed: Bool
    public var messages: [MessageRecord]
}

/// Read-only access to one account's index (`<folder>/mail.sqlite`) without opening it as a store: no
/// migrations, no default mailboxes created, safe beside a running server (WAL readers never block it).
public enum AccountIndex {
    public static func databasePath(folder: String) -> String { folder + "/mail.sqlite" }

    /// Same rule as `SQLiteAccountStore.blobPath`.
    public static func blobPath(folder: String, blobID: String) -> String {
        "\(folder)/blobs/\(blobID.prefix(2))/\(blobID)"
    }

    static func openReadOnly(_ path: String) throws -> DatabaseQueue {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(30)
        return try DatabaseQueue(path: path, configuration: config)
    }

    /// Every mailbox with its messages, INBOX first, read in one transaction.
    public static func snapshot(databasePath: String) throws -> [MailboxSnapshot] {
        let queue = try openReadOnly(databasePath)
        defer { try? queue.close() }
        return try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM mailboxes ORDER BY name = 'INBOX' DESC, name").map { row in
                let messages = try Row.fetchAll(db, sql: "SELECT * FROM messages WHERE mailbox_id = ? ORDER BY uid",
                                                arguments: [row["id"] as Int64]).map(SQLiteAccountStore.record)
                return MailboxSnapshot(
                    name: row["name"], specialUse: (row["special_use"] as String?).flatMap(SpecialUse.init(rawValue:)),
                    uidValidity: UIDValidity(truncatingIfNeeded: row["uidvalidity"] as Int64),
                    uidNext: UID(truncatingIfNeeded: row["uidnext"] as Int64),
                    subscribed: (row["subscribed"] as Int64) != 0, messages: messages)
            }
        }
    }

    /// The blobs the index's messages reference, with their sizes.
    public static func referencedBlobs(databasePath: String) throws -> [String: Int64] {
        let queue = try openReadOnly(databasePath)
        defer { try? queue.close() }
        return try queue.read { db in
            var blobs: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT blob_id, MAX(size) AS size FROM messages GROUP BY blob_id") {
                blobs[row["blob_id"]] = row["size"]
            }
            return blobs
        }
    }

    /// Which of `blobIDs` the index still references.
    public static func stillReferenced(_ blobIDs: Set<String>, databasePath: String) throws -> Set<String> {
        let queue = try openReadOnly(databasePath)
        defer { try? queue.close() }
        return try queue.read { db in
            try Set(blobIDs.filter { try Bool.fetchOne(db, sql: "SELECT 1 FROM messages WHERE blob_id = ?", arguments: [$0]) != nil })
        }
    }

    /// Removes from a *copy* of an index the messages whose blobs are gone (expunged after the copy was taken),
    /// as the store's expunge would have: rows and blob rows deleted, HIGHESTMODSEQ of each mailbox touched
    /// raised, so a client resynchronising against the restored copy sees a change. Returns the messages removed.
    @discardableResult
    public static func dropMessages(withBlobs blobIDs: Set<String>, inCopy databasePath: String) throws -> Int {
        guard !blobIDs.isEmpty else { return 0 }
        let queue = try DatabaseQueue(path: databasePath)
        defer { try? queue.close() }
        return try queue.write { db in
            var removed = 0
            for blob in blobIDs.sorted() {
                let boxes = try Int64.fetchAll(db, sql: "DELETE FROM messages WHERE blob_id = ? RETURNING mailbox_id", arguments: [blob])
                removed += boxes.count
                for box in Set(boxes) {
                    try db.execute(sql: "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = ?", arguments: [box])
                }
                try db.execute(sql: "DELETE FROM blobs WHERE id = ?", arguments: [blob])
            }
            return removed
        }
    }

    /// `PRAGMA quick_check` of a database file; nil when it is fine, else SQLite's first complaint.
    public static func problem(databasePath: String) throws -> String? {
        let queue = try openReadOnly(databasePath)
        defer { try? queue.close() }
        let result = try queue.read { db in try String.fetchOne(db, sql: "PRAGMA quick_check") }
        return result == "ok" ? nil : (result ?? "no answer")
    }
}

/// Consistent copies of live databases while the server writes to them, through SQLite's online backup API:
/// the whole copy is made in one `sqlite3_backup_step` inside one read transaction, so it is one committed
/// state of the source, never a torn one (https://www.sqlite.org/backup.html).
public enum OnlineBackup {
    /// Copies the database at `source` into a new single file at `destination` (rollback journal, no WAL beside
    /// it), replacing a leftover file of an interrupted run.
    public static func copyDatabase(from source: String, to destination: String) throws {
        for suffix in ["", "-journal", "-wal", "-shm"] { unlink(destination + suffix) }
        let reader = try AccountIndex.openReadOnly(source)
        defer { try? reader.close() }
        let copy = try DatabaseQueue(path: destination)
        try reader.backup(to: copy)
        try copy.writeWithoutTransaction { db in
            _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        try copy.close()
    }
}

/// An in-memory copy of the directory database (`skjold.sqlite`) that a backup edits before writing it out:
/// No Backup accounts are removed here, in memory, so their addresses never reach the backup folder's disk,
/// and `write(to:)` uses `VACUUM INTO`, which writes only live rows into a fresh file (no freed pages).
public final class DirectoryDatabaseCopy {
    let queue: DatabaseQueue

    /// Copies the live directory database at `source`.
    public init(copying source: String) throws {
        queue = try DatabaseQueue()
        let reader = try AccountIndex.openReadOnly(source)
        defer { try? reader.close() }
        try reader.backup(to: queue)
    }

    /// Every account id with its No Backup switch.
    public func accounts() throws -> [(id: String, noBackup: Bool)] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT id, no_backup FROM accounts ORDER BY id").map { (id: $0["id"], noBackup: ($0["no_backup"] as Int64) != 0) }
        }
    }

    /// Ids of the queued outbound messages.
    public func queueEntries() throws -> [String] {
        try queue.read { db in try String.fetchAll(db, sql: "SELECT id FROM queue_messages ORDER BY id") }
    }

    /// Removes accounts and every row that names them: aliases, their queue entries and recipients, and any
    /// other table keyed by `account_id` (so a table added later cannot leak a No Backup account into a backup).
    public func removeAccounts(_ ids: Set<String>) throws {
        guard !ids.isEmpty else { return }
        try queue.write { db in
            let tables = try String.fetchAll(db, sql: """
                SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c
                WHERE m.type = 'table' AND c.name = 'account_id' ORDER BY m.name
                """)
            for id in ids.sorted() {
                if tables.contains("queue_messages") {
                    try db.execute(sql: "DELETE FROM queue_recipients WHERE message_id IN (SELECT id FROM queue_messages WHERE account_id = ?)",
                                   arguments: [id])
                }
                for table in tables {
                    try db.execute(sql: "DELETE FROM \(table.quotedDatabaseIdentifier) WHERE account_id = ?", arguments: [id])
                }
                try db.execute(sql: "DELETE FROM accounts WHERE id = ?", arguments: [id])
            }
        }
    }

    /// Removes queue entries whose files vanished (delivered or removed after the copy was taken).
    public func removeQueueEntries(_ ids: Set<String>) throws {
        guard !ids.isEmpty else { return }
        try queue.write { db in
            for id in ids.sorted() {
                try db.execute(sql: "DELETE FROM queue_recipients WHERE message_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM queue_messages WHERE id = ?", arguments: [id])
            }
        }
    }

    /// Writes the copy as a fresh, compact database file at `path` (which must not exist).
    public func write(to path: String) throws {
        try queue.vacuum(into: path)
    }
}

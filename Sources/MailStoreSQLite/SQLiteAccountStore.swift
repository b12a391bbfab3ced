import Foundation
import GRDB
import MailStore
import Synchronization

/// One account's mail in the embedded backend: `<folder>/mail.sqlite` (WAL, synchronous=FULL,
/// secure_delete) for the index and `<folder>/blobs/xx/<id>` for message bytes exactly as received.
public final class SQLiteAccountStore: AccountMailStore, @unchecked Sendable {
    // @unchecked: every stored property is immutable or atomic, and DatabasePool is thread-safe.
    public let account: Account
    public let folder: String
    let pool: DatabasePool
    /// Concurrent deliveries share one transaction (see `commitDeliveries`).
    let deliveries: GroupCommit<PendingDelivery, DeliveryReceipt>
    /// Picks the blob directory of the next delivery (see `newBlobID`).
    let blobCounter: Atomic<Int>
    /// Blob directories known to exist durably (see `ensureBlobDirectory`).
    let blobDirectories = Mutex<Set<String>>([])
    /// Batches the IMAP sessions' state reads (see ``IMAPStateReads``).
    let stateReads: IMAPStateReads

    /// Largest number of deliveries committed in one transaction.
    static let maxDeliveryBatch = 256

    /// Opens (creating if needed) the account's folder and database, with the default mailboxes.
    public init(account: Account, folder: String) throws {
        self.account = account
        self.folder = folder
        try DurableFiles.ensureDirectory(folder)
        try DurableFiles.ensureDirectory(folder + "/blobs")
        let pool = try SQLiteDatabase.open(path: folder + "/mail.sqlite")
        self.pool = pool
        deliveries = GroupCommit(maxBatch: Self.maxDeliveryBatch) { batch in await Self.commitDeliveries(batch, pool: pool) }
        stateReads = IMAPStateReads(pool: pool)
        // A random starting directory, so stores opened one after another do not all fill "00" first.
        blobCounter = Atomic(Int.random(in: 0..<256) * Self.blobsPerDirectoryRun)
        try SQLiteAccountStore.migrator.migrate(pool)
        try pool.write { db in
            for (name, use) in defaultMailboxes where try SQLiteAccountStore.mailboxRow(db, name) == nil {
                _ = try SQLiteAccountStore.insertMailbox(db, name: name, specialUse: use)
            }
        }
    }

    public func close() throws {
        try pool.close()
    }

    static let migrator: DatabaseMigrator = {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE mailboxes(
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL UNIQUE,
                    special_use TEXT,
                    uidvalidity INTEGER NOT NULL,
                    uidnext INTEGER NOT NULL,
                    highestmodseq INTEGER NOT NULL,
                    subscribed INTEGER NOT NULL DEFAULT 1);
                CREATE TABLE blobs(id TEXT PRIMARY KEY, size INTEGER NOT NULL, refs INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE messages(
                    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
                    uid INTEGER NOT NULL,
                    modseq INTEGER NOT NULL,
                    flags TEXT NOT NULL DEFAULT '',
                    internal_date INTEGER NOT NULL,
                    size INTEGER NOT NULL,
                    blob_id TEXT NOT NULL REFERENCES blobs(id),
                    PRIMARY KEY(mailbox_id, uid)) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v2-usage") { db in
            // The storage quota's "used", kept by triggers in the same transaction as every insert and
            // delete: reading it is one row, not a SUM over every message on each SMTP RCPT.
            try db.execute(sql: """
                CREATE TABLE usage(id INTEGER PRIMARY KEY CHECK (id = 1), total INTEGER NOT NULL);
                INSERT INTO usage(id, total) SELECT 1, COALESCE(SUM(size), 0) FROM messages;
                CREATE TRIGGER usage_insert AFTER INSERT ON messages BEGIN
                    UPDATE usage SET total = total + NEW.size WHERE id = 1;
                END;
                CREATE TRIGGER usage_delete AFTER DELETE ON messages BEGIN
                    UPDATE usage SET total = total - OLD.size WHERE id = 1;
                END;
                CREATE TRIGGER usage_update AFTER UPDATE OF size ON messages BEGIN
                    UPDATE usage SET total = total - OLD.size + NEW.size WHERE id = 1;
                END;
                """)
        }
        return m
    }()

    // MARK: Mailboxes

    /// INBOX is case-insensitive (RFC 9051 §5.1), also as the first level of a hierarchy.
    static func normalize(_ name: String) throws(MailStoreError) -> String {
        guard !name.isEmpty, name.utf8.count <= 1024, !name.hasPrefix("/"), !name.hasSuffix("/"), !name.contains("//"),
              !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f })
        else { throw .invalidMailboxName(name) }
        let first = name.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        if first[0].uppercased() == "INBOX" {
            return first.count == 1 ? "INBOX" : "INBOX/" + first[1]
        }
        return name
    }

    static func mailboxRow(_ db: Database, _ name: String) throws -> Row? {
        try Row.fetchOne(db, sql: "SELECT * FROM mailboxes WHERE name = ?", arguments: [name])
    }

    static func insertMailbox(_ db: Database, name: String, specialUse: SpecialUse?) throws -> Int64 {
        // UIDVALIDITY: at least the current time and above every value handed out before in this account,
        // so a deleted and re-created mailbox never repeats one (RFC 9051 §2.3.1.1).
        let last = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'last_uidvalidity'") ?? 0
        let now = Int64(Date().timeIntervalSince1970)
        let validity = min(max(last + 1, now), Int64(UInt32.max))
        try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES ('last_uidvalidity', ?)", arguments: [validity])
        try db.execute(sql: """
            INSERT INTO mailboxes(name, special_use, uidvalidity, uidnext, highestmodseq, subscribed)
            VALUES (?, ?, ?, 1, 1, 1)
            """, arguments: [name, specialUse?.rawValue, validity])
        return db.lastInsertedRowID
    }

    static func info(_ db: Database, _ row: Row) throws -> MailboxInfo {
        let id: Int64 = row["id"]
        let stats = try Row.fetchOne(db, sql: """
            SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes,
                   SUM(CASE WHEN (' ' || flags || ' ') LIKE '% \\Seen %' ESCAPE '!' THEN 0 ELSE 1 END) AS unseen
            FROM messages WHERE mailbox_id = ?
            """, arguments: [id])
        return MailboxInfo(
            id: id, name: row["name"], specialUse: (row["special_use"] as String?).flatMap(SpecialUse.init(rawValue:)),
            uidValidity: UIDValidity(truncatingIfNeeded: row["uidvalidity"] as Int64),
            uidNext: UID(truncatingIfNeeded: row["uidnext"] as Int64),
            highestModSeq: ModSeq(row["highestmodseq"] as Int64),
            messageCount: stats?["n"] ?? 0, unseenCount: stats?["unseen"] ?? 0, totalSize: stats?["bytes"] ?? 0,
            subscribed: (row["subscribed"] as Int64) != 0)
    }

    public func mailboxes() async throws -> [MailboxInfo] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM mailboxes ORDER BY name = 'INBOX' DESC, name").map { try Self.info(db, $0) }
        }
    }

    public func mailbox(named name: String) async throws -> MailboxInfo? {
        let name = try Self.normalize(name)
        return try await pool.read { db in try Self.mailboxRow(db, name).map { try Self.info(db, $0) } }
    }

    public func mailboxID(named name: String) async throws -> (id: Int64, name: String)? {
        let name = try Self.normalize(name)
        return try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT id, name FROM mailboxes WHERE name = ?", arguments: [name]).map { ($0[0], $0[1]) }
        }
    }

    public func createMailbox(_ name: String, specialUse: SpecialUse?) async throws -> MailboxInfo {
        let name = try Self.normalize(name)
        return try await pool.write { db in
            if try Self.mailboxRow(db, name) != nil { throw MailStoreError.mailboxExists(name) }
            _ = try Self.insertMailbox(db, name: name, specialUse: specialUse)
            guard let row = try Self.mailboxRow(db, name) else { throw MailStoreError.noSuchMailbox(name) }
            return try Self.info(db, row)
        }
    }

    public func deleteMailbox(_ name: String) async throws {
        let name = try Self.normalize(name)
        if name == "INBOX" { throw MailStoreError.cannotDelete(name, reason: "INBOX cannot be deleted") }
        let orphaned: [String] = try await pool.write { db in
            guard let row = try Self.mailboxRow(db, name) else { throw MailStoreError.noSuchMailbox(name) }
            let id: Int64 = row["id"]
            let blobs = try String.fetchAll(db, sql: "SELECT blob_id FROM messages WHERE mailbox_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM messages WHERE mailbox_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM mailboxes WHERE id = ?", arguments: [id])
            return try Self.releaseBlobs(db, blobs)
        }
        try await removeBlobFiles(orphaned)
        try await purgeDeletedPagesIfNoBackup()
    }

    public func renameMailbox(_ name: String, to newName: String) async throws {
        let name = try Self.normalize(name)
        let newName = try Self.normalize(newName)
        if name == "INBOX" { throw MailStoreError.cannotDelete(name, reason: "INBOX cannot be renamed here") }
        try await pool.write { db in
            guard try Self.mailboxRow(db, name) != nil else { throw MailStoreError.noSuchMailbox(name) }
            if try Self.mailboxRow(db, newName) != nil { throw MailStoreError.mailboxExists(newName) }
            // Children move with their parent; each renamed mailbox gets a new UIDVALIDITY is not required
            // (RFC 9051 §6.3.6 keeps UIDs), so ids and UIDs are kept.
            let children = try Row.fetchAll(db, sql: "SELECT id, name FROM mailboxes WHERE name LIKE ? ESCAPE '!'",
                                            arguments: [Self.likePrefix(name + "/")])
            for child in children {
                let childName: String = child["name"]
                let renamed = newName + childName.dropFirst(name.count)
                if try Self.mailboxRow(db, renamed) != nil { throw MailStoreError.mailboxExists(renamed) }
                try db.execute(sql: "UPDATE mailboxes SET name = ? WHERE id = ?", arguments: [renamed, child["id"] as Int64])
            }
            try db.execute(sql: "UPDATE mailboxes SET name = ? WHERE name = ?", arguments: [newName, name])
        }
    }

    static func likePrefix(_ s: String) -> String {
        s.replacingOccurrences(of: "!", with: "!!").replacingOccurrences(of: "%", with: "!%")
            .replacingOccurrences(of: "_", with: "!_") + "%"
    }

    // MARK: Messages

    func blobPath(_ id: String) -> String {
        "\(folder)/blobs/\(id.prefix(2))/\(id)"
    }

    /// A new blob id whose first two hex digits (its directory) are shared by runs of consecutive deliveries,
    /// so a batch usually needs one directory fsync instead of one per message. The other 120 bits are random.
    func newBlobID() -> String {
        let run = blobCounter.wrappingAdd(1, ordering: .relaxed).oldValue / Self.blobsPerDirectoryRun
        let shard = UInt8(truncatingIfNeeded: run)
        return String([Self.hexDigits[Int(shard >> 4)], Self.hexDigits[Int(shard & 0xf)]]) + RandomID.make().dropFirst(2)
    }

    static let hexDigits = Array("0123456789abcdef")

    /// Makes sure a blob directory exists and its own entry is durable. Done once per directory and process,
    /// under a lock, so no delivery commits into a directory that another one just created but whose parent
    /// was not fsync'd yet (nor one left so by a crash).
    func ensureBlobDirectory(_ directory: String) throws {
        let parent = folder + "/blobs"
        try blobDirectories.withLock { known throws in
            if known.contains(directory) { return }
            try DurableFiles.ensureDirectory(directory)
            try DurableFiles.fsyncDirectory(parent)
            known.insert(directory)
        }
    }

    /// Consecutive blobs per directory before moving on to the next one (of 256).
    static let blobsPerDirectoryRun = 64

    /// Durability order (STYLE.md): 1. the bytes, fsync'd by this caller, in parallel with the other callers;
    /// 2. in the group commit: one fsync per blob directory of the batch, then one transaction (one WAL fsync
    /// with synchronous=FULL) for all the index rows; 3. return. A crash before the commit leaves only
    /// orphan blob files, never an index row without its bytes.
    public func deliver(_ source: MessageSource, to mailbox: String, flags: Set<String>, internalDate: Date) async throws -> DeliveryReceipt {
        let mailbox = try Self.normalize(mailbox)
        let blobID = newBlobID()
        let path = blobPath(blobID)
        let directory = folder + "/blobs/" + String(blobID.prefix(2))
        let size = try await DurableIO.run { [self] in
            try ensureBlobDirectory(directory)
            return try DurableFiles.writeNewFile(at: path, source: source)
        }
        return try await deliveries.submit(PendingDelivery(
            blobID: blobID, path: path, directory: directory, mailbox: mailbox, flags: Self.encodeFlags(flags),
            internalDate: Int64(internalDate.timeIntervalSince1970), size: size))
    }

    /// A delivery whose blob is written and fsync'd, waiting for its index row.
    struct PendingDelivery: Sendable {
        let blobID: String
        let path: String
        let directory: String
        let mailbox: String
        let flags: String
        let internalDate: Int64
        let size: Int64
    }

    /// The group commit of deliveries. Each item gets its own UID and MODSEQ in arrival order, inside its own
    /// savepoint: an item that fails (say, its mailbox was deleted meanwhile) is rolled back alone and its blob
    /// removed, and the others still commit.
    static func commitDeliveries(_ batch: [PendingDelivery], pool: DatabasePool) async -> [Result<DeliveryReceipt, any Error>] {
        do {
            return try await DurableIO.run {
                do {
                    // After every file of the batch exists: one fsync per directory covers all their entries.
                    for directory in Set(batch.map(\.directory)).sorted() { try DurableFiles.fsyncDirectory(directory) }
                } catch {
                    for item in batch { DurableFiles.remove(item.path) }
                    throw error
                }
                var results: [Result<DeliveryReceipt, any Error>] = []
                results.reserveCapacity(batch.count)
                var committing = false
                do {
                    try pool.writeWithoutTransaction { db in
                        try db.inTransaction(.immediate) {
                            for item in batch {
                                do {
                                    var receipt: DeliveryReceipt?
                                    try db.inSavepoint {
                                        receipt = try insert(db, item)
                                        return .commit
                                    }
                                    guard let receipt else { throw MailStoreError.io("delivery of \(item.blobID) not recorded") }
                                    results.append(.success(receipt))
                                } catch {
                                    // An error that aborted the whole transaction fails the whole batch.
                                    guard db.isInsideTransaction else { throw error }
                                    results.append(.failure(error))
                                }
                            }
                            committing = true
                            return .commit
                        }
                    }
                } catch {
                    // Rolled back before COMMIT: no row names these blobs. A failed COMMIT is ambiguous (the WAL
                    // frames may survive a crash), so its blobs stay, at worst as orphans.
                    if !committing { for item in batch { DurableFiles.remove(item.path) } }
                    throw error
                }
                for (item, result) in zip(batch, results) {
                    if case .failure = result { DurableFiles.remove(item.path) }
                }
                return results
            }
        } catch {
            return Array(repeating: .failure(error), count: batch.count)
        }
    }

    /// One delivery's index rows. Cached statements: they run once per message on the hot path.
    static func insert(_ db: Database, _ item: PendingDelivery) throws -> DeliveryReceipt {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: """
            UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1
            WHERE name = ? RETURNING id, uidnext - 1 AS uid, highestmodseq, uidvalidity
            """), arguments: [item.mailbox])
        else { throw MailStoreError.noSuchMailbox(item.mailbox) }
        let uid: Int64 = row["uid"]
        try db.cachedStatement(sql: "INSERT INTO blobs(id, size, refs) VALUES (?, ?, 1)").execute(arguments: [item.blobID, item.size])
        try db.cachedStatement(sql: """
            INSERT INTO messages(mailbox_id, uid, modseq, flags, internal_date, size, blob_id)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [row["id"] as Int64, uid, row["highestmodseq"] as Int64, item.flags, item.internalDate, item.size,
                                     item.blobID])
        return DeliveryReceipt(mailbox: item.mailbox, uidValidity: UIDValidity(truncatingIfNeeded: row["uidvalidity"] as Int64),
                               uid: UID(truncatingIfNeeded: uid), size: item.size)
    }

    public func messages(in mailbox: String) async throws -> [MessageRecord] {
        let mailbox = try Self.normalize(mailbox)
        return try await pool.read { db in
            guard let box = try Self.mailboxRow(db, mailbox) else { throw MailStoreError.noSuchMailbox(mailbox) }
            // Positional columns from a cursor: a SELECT of a large mailbox reads every row.
            return try Self.records(db, sql: "SELECT \(Self.recordColumns) FROM messages WHERE mailbox_id = ? ORDER BY uid",
                                    arguments: [box["id"] as Int64])
        }
    }

    static func record(_ row: Row) -> MessageRecord {
        MessageRecord(uid: UID(truncatingIfNeeded: row["uid"] as Int64), modSeq: ModSeq(row["modseq"] as Int64),
                      flags: decodeFlags(row["flags"]), internalDate: Date(timeIntervalSince1970: TimeInterval(row["internal_date"] as Int64)),
                      size: row["size"], blobID: row["blob_id"])
    }

    static func encodeFlags(_ flags: Set<String>) -> String { flags.sorted().joined(separator: " ") }
    static func decodeFlags(_ text: String) -> Set<String> { Set(text.split(separator: " ").map(String.init)) }

    public func messagePath(in mailbox: String, uid: UID) async throws -> String {
        let mailbox = try Self.normalize(mailbox)
        let blob = try await pool.read { db in
            try String.fetchOne(db, sql: """
                SELECT m.blob_id FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.name = ? AND m.uid = ?
                """, arguments: [mailbox, Int64(uid)])
        }
        guard let blob else { throw MailStoreError.noSuchMessage(uid) }
        return blobPath(blob)
    }

    public func messageBytes(in mailbox: String, uid: UID) async throws -> [UInt8] {
        let path = try await messagePath(in: mailbox, uid: uid)
        return try await BlockingIO.run { try DurableFiles.readFile(path) }
    }

    public func setFlags(in mailbox: String, uids: [UID], flags: Set<String>) async throws {
        let mailbox = try Self.normalize(mailbox)
        let text = Self.encodeFlags(flags)
        try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: """
                UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE name = ? RETURNING id, highestmodseq
                """, arguments: [mailbox])
            else { throw MailStoreError.noSuchMailbox(mailbox) }
            for uid in uids {
                try db.execute(sql: "UPDATE messages SET flags = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?",
                               arguments: [text, row["highestmodseq"] as Int64, row["id"] as Int64, Int64(uid)])
            }
        }
    }

    public func expunge(in mailbox: String, uids: [UID]) async throws {
        let mailbox = try Self.normalize(mailbox)
        let orphaned: [String] = try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: """
                UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE name = ? RETURNING id
                """, arguments: [mailbox])
            else { throw MailStoreError.noSuchMailbox(mailbox) }
            let id: Int64 = row["id"]
            var blobs: [String] = []
            for uid in uids {
                if let blob = try String.fetchOne(db, sql: "DELETE FROM messages WHERE mailbox_id = ? AND uid = ? RETURNING blob_id",
                                                  arguments: [id, Int64(uid)]) {
                    blobs.append(blob)
                }
            }
            return try Self.releaseBlobs(db, blobs)
        }
        try await removeBlobFiles(orphaned)
        try await purgeDeletedPagesIfNoBackup()
    }

    /// Drops one reference per listed blob; returns the blobs nobody references any more.
    static func releaseBlobs(_ db: Database, _ blobs: [String]) throws -> [String] {
        var gone: [String] = []
        for blob in blobs {
            let refs = try Int64.fetchOne(db, sql: "UPDATE blobs SET refs = refs - 1 WHERE id = ? RETURNING refs", arguments: [blob])
            if let refs, refs <= 0 {
                try db.execute(sql: "DELETE FROM blobs WHERE id = ?", arguments: [blob])
                gone.append(blob)
            }
        }
        return gone
    }

    func removeBlobFiles(_ blobs: [String]) async throws {
        guard !blobs.isEmpty else { return }
        let paths = blobs.map(blobPath)
        try await BlockingIO.run { for path in paths { DurableFiles.remove(path) } }
    }

    public func storageUsed() async throws -> Int64 {
        try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT total FROM usage WHERE id = 1") ?? 0 }
    }
}

import Foundation
import GRDB
import MailStore
import Synchronization

/// The IMAP operations of the embedded store. The side tables live in the account's `mail.sqlite`:
/// - `imap_parse_cache(blob_id, data)`: the compact MIME parse of a stored message (ENVELOPE,
///   BODYSTRUCTURE, part offsets), filled in the background after delivery (with the text index) or by the
///   first FETCH that needs it, so delivery stays fast and a message is parsed at most once; shared by
///   every copy of the blob.
/// - index `imap_messages_modseq(mailbox_id, modseq)`: finds a session's changes without a scan.
/// - `imap_expunge_marks(mailbox_id, modseq)`: the mailbox HIGHESTMODSEQ at its latest message removal (by
///   any path: trigger `imap_message_removed`), so a session learns that nothing was expunged since it
///   last looked without counting the mailbox.
/// - `imap_fts(header, body)`: an FTS5 index with the trigram tokenizer (case-insensitive substring
///   matching, as SEARCH TEXT/BODY need), one row per blob; `imap_fts_docs(blob_id, docid)` maps blobs to
///   its rows, `imap_fts_uids(mailbox_id, uid, docid)` maps each indexed message to its row (a search
///   joins integers, not blob ids; trigger `imap_fts_uid_removed` follows removals), and
///   `imap_fts_mailboxes(mailbox_id, indexed_uid)` records how far each mailbox is indexed
///   (UIDs only grow, so "indexed through UID n" stays true). Filled by the IMAP server in the background
///   after deliveries, and caught up before a text search.
/// - trigger `imap_blob_removed`: when a blob goes (by any path: IMAP, POP3, admin tools), its parse and
///   index rows go in the same transaction. Rows left by a binary that predates the trigger are pruned when
///   the store is prepared.
/// They are created on first use by IMAP (`CREATE ... IF NOT EXISTS`), outside the store's migrator, so an
/// older binary opening the same database is not confused by an unknown migration.
extension SQLiteAccountStore: IMAPAccountStore {
    public func prepareForIMAP() async throws {
        let key = folder + "|" + String(describing: ObjectIdentifier(pool))
        guard IMAPPreparation.claim(key) else { return }
        let pool = self.pool
        let observer = MailboxChangeObserver(accountID: account.id)
        do {
            try await BlockingIO.run {
                try pool.write { db in
                    try db.execute(sql: """
                        CREATE TABLE IF NOT EXISTS imap_parse_cache(blob_id TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
                        CREATE INDEX IF NOT EXISTS imap_messages_modseq ON messages(mailbox_id, modseq);
                        DELETE FROM imap_parse_cache WHERE blob_id NOT IN (SELECT id FROM blobs);
                        CREATE VIRTUAL TABLE IF NOT EXISTS imap_fts USING fts5(header, body, tokenize = 'trigram');
                        CREATE TABLE IF NOT EXISTS imap_fts_docs(blob_id TEXT PRIMARY KEY, docid INTEGER NOT NULL UNIQUE) WITHOUT ROWID;
                        CREATE TABLE IF NOT EXISTS imap_fts_mailboxes(mailbox_id INTEGER PRIMARY KEY, indexed_uid INTEGER NOT NULL);
                        CREATE TABLE IF NOT EXISTS imap_fts_uids(
                            mailbox_id INTEGER NOT NULL, uid INTEGER NOT NULL, docid INTEGER NOT NULL,
                            PRIMARY KEY(mailbox_id, uid)) WITHOUT ROWID;
                        CREATE TRIGGER IF NOT EXISTS imap_fts_uid_removed AFTER DELETE ON messages BEGIN
                            DELETE FROM imap_fts_uids WHERE mailbox_id = OLD.mailbox_id AND uid = OLD.uid;
                        END;
                        CREATE TABLE IF NOT EXISTS imap_expunge_marks(mailbox_id INTEGER PRIMARY KEY, modseq INTEGER NOT NULL);
                        CREATE TRIGGER IF NOT EXISTS imap_message_removed AFTER DELETE ON messages BEGIN
                            INSERT INTO imap_expunge_marks(mailbox_id, modseq)
                                SELECT OLD.mailbox_id, highestmodseq FROM mailboxes WHERE id = OLD.mailbox_id
                                ON CONFLICT(mailbox_id) DO UPDATE SET modseq = max(modseq, excluded.modseq);
                        END;
                        CREATE TRIGGER IF NOT EXISTS imap_blob_removed AFTER DELETE ON blobs BEGIN
                            DELETE FROM imap_parse_cache WHERE blob_id = OLD.id;
                            DELETE FROM imap_fts WHERE rowid IN (SELECT docid FROM imap_fts_docs WHERE blob_id = OLD.id);
                            DELETE FROM imap_fts_docs WHERE blob_id = OLD.id;
                        END;
                        """)
                    try Self.completeUIDMap(db)
                    _ = try Self.pruneIndex(db)
                }
                // Every write of this process to the account goes through this pool's writer (SMTP delivery,
                // POP3, IMAP), so observing it feeds the change feed without touching those paths. The
                // `mailboxes` row of a mailbox is updated by every message change (uidnext, highestmodseq),
                // and unlike `messages` it is a rowid table, which SQLite's update hook reports.
                pool.add(transactionObserver: observer, extent: .databaseLifetime)
            }
        } catch {
            IMAPPreparation.release(key)
            throw error
        }
    }

    public func setSubscribed(_ mailbox: String, subscribed: Bool) async throws {
        let name = try Self.normalize(mailbox)
        try await pool.write { db in
            try db.execute(sql: "UPDATE mailboxes SET subscribed = ? WHERE name = ?", arguments: [subscribed ? 1 : 0, name])
            if db.changesCount == 0 { throw MailStoreError.noSuchMailbox(name) }
        }
    }

    public func highestModSeq(mailboxID: Int64) async throws -> ModSeq? {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT highestmodseq FROM mailboxes WHERE id = ?", arguments: [mailboxID]).map { ModSeq($0) }
        }
    }

    public func delta(mailboxID: Int64, since modSeq: ModSeq, knownUIDBound: UID, knownCount: Int) async throws -> MailboxDelta {
        try await stateReads.deltas.submit(
            IMAPStateReads.DeltaQuestion(mailboxID: mailboxID, since: modSeq, knownUIDBound: knownUIDBound))
    }

    static func readDelta(_ db: Database, _ question: IMAPStateReads.DeltaQuestion) throws -> MailboxDelta {
        let mailboxID = question.mailboxID, modSeq = question.since
        guard let highest = try Int64.fetchOne(db, sql: "SELECT highestmodseq FROM mailboxes WHERE id = ?", arguments: [mailboxID])
        else { throw MailStoreError.noSuchMailbox("#\(mailboxID)") }
        if ModSeq(highest) <= modSeq { return MailboxDelta(highestModSeq: ModSeq(highest), changed: [], survivingUIDs: nil) }
        let changed = try Self.records(db, sql: """
            SELECT \(Self.recordColumns) FROM messages WHERE mailbox_id = ? AND modseq > ? ORDER BY uid
            """, arguments: [mailboxID, Int64(clamping: modSeq)])
        // Expunges since `modSeq` are possible only if the mailbox's last one is not older (trigger
        // `imap_message_removed`); only then are the survivors listed. Counting the mailbox instead would
        // cost a scan per command and session.
        let lastExpunge = try Int64.fetchOne(db, sql: "SELECT modseq FROM imap_expunge_marks WHERE mailbox_id = ?",
                                             arguments: [mailboxID]) ?? 0
        var surviving: [UID]?
        if lastExpunge >= Int64(clamping: modSeq) {
            surviving = try Int64.fetchAll(db, sql: "SELECT uid FROM messages WHERE mailbox_id = ? AND uid <= ? ORDER BY uid",
                                           arguments: [mailboxID, Int64(question.knownUIDBound)]).map { UID(truncatingIfNeeded: $0) }
        }
        return MailboxDelta(highestModSeq: ModSeq(highest), changed: changed, survivingUIDs: surviving)
    }

    public func messages(mailboxID: Int64, uids ranges: [ClosedRange<UID>]) async throws -> [MessageRecord] {
        try await pool.read { db in
            var out: [MessageRecord] = []
            for r in ranges {
                out += try Self.records(db, sql: """
                    SELECT \(Self.recordColumns) FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid
                    """, arguments: [mailboxID, Int64(r.lowerBound), Int64(r.upperBound)])
            }
            return out
        }
    }

    public func messagesWithCachedParses(mailboxID: Int64, uids ranges: [ClosedRange<UID>]) async throws -> [(MessageRecord, [UInt8]?)] {
        try await pool.read { db in
            var out: [(MessageRecord, [UInt8]?)] = []
            var flagSets: [String: Set<String>] = [:]
            let statement = try db.cachedStatement(sql: """
                SELECT m.uid, m.modseq, m.flags, m.internal_date, m.size, m.blob_id, c.data
                FROM messages m LEFT JOIN imap_parse_cache c ON c.blob_id = m.blob_id
                WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid
                """)
            for r in ranges {
                let rows = try Row.fetchCursor(statement, arguments: [mailboxID, Int64(r.lowerBound), Int64(r.upperBound)])
                while let row = try rows.next() {
                    let parse = try row.withUnsafeData(atIndex: 6) { data in data.map { $0.withUnsafeBytes { Array($0) } } }
                    out.append((Self.record(positional: row, flagSets: &flagSets), parse))
                }
            }
            return out
        }
    }

    /// The columns ``records(_:sql:arguments:)`` reads, in its order.
    static let recordColumns = "uid, modseq, flags, internal_date, size, blob_id"

    /// Message records of a query selecting ``recordColumns``, read by position from a cursor (a FETCH or a
    /// refresh reads many: no per-row column-name lookups, no row copies), with each distinct flag set
    /// decoded once and shared.
    static func records(_ db: Database, sql: String, arguments: StatementArguments) throws -> [MessageRecord] {
        var out: [MessageRecord] = []
        var flagSets: [String: Set<String>] = [:]
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        while let row = try rows.next() { out.append(record(positional: row, flagSets: &flagSets)) }
        return out
    }

    /// A record from a row whose first columns are ``recordColumns``.
    static func record(positional row: Row, flagSets: inout [String: Set<String>]) -> MessageRecord {
        let text: String = row[2]
        let flags: Set<String>
        if let known = flagSets[text] {
            flags = known
        } else {
            flags = decodeFlags(text)
            if flagSets.count < 256 { flagSets[text] = flags }
        }
        return MessageRecord(uid: UID(truncatingIfNeeded: row[0] as Int64), modSeq: ModSeq(row[1] as Int64), flags: flags,
                             internalDate: Date(timeIntervalSince1970: TimeInterval(row[3] as Int64)), size: row[4], blobID: row[5])
    }

    public func updateFlags(mailboxID: Int64, uids: [UID], change: FlagChange, flags: Set<String>,
                            unchangedSince: ModSeq?) async throws -> FlagUpdateResult {
        try await pool.write { db in
            guard try Int64.fetchOne(db, sql: "SELECT id FROM mailboxes WHERE id = ?", arguments: [mailboxID]) != nil
            else { throw MailStoreError.noSuchMailbox("#\(mailboxID)") }
            // The current state of the addressed messages, read one UID run at a time (a STORE 1:* is one
            // range scan, not a lookup per message), before anything is written.
            var current: [(uid: UID, modSeq: ModSeq, flags: String)] = []
            current.reserveCapacity(uids.count)
            let select = try db.cachedStatement(sql: "SELECT uid, modseq, flags FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ?")
            for run in Self.runs(of: uids) {
                let rows = try Row.fetchCursor(select, arguments: [mailboxID, Int64(run.lowerBound), Int64(run.upperBound)])
                while let row = try rows.next() {
                    current.append((UID(truncatingIfNeeded: row[0] as Int64), ModSeq(row[1] as Int64), row[2] as String))
                }
            }
            var newModSeq: Int64?
            var states: [MessageFlagState] = []
            states.reserveCapacity(current.count)
            var modified: [UID] = []
            // A mailbox holds few distinct flag sets: each is decoded and changed once per command.
            var outcomes: [String: (old: Set<String>, new: Set<String>, text: String?)] = [:]
            let update = try db.cachedStatement(sql: "UPDATE messages SET flags = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?")
            for message in current {
                if let unchangedSince, message.modSeq > unchangedSince {
                    modified.append(message.uid)
                    continue
                }
                let outcome: (old: Set<String>, new: Set<String>, text: String?)
                if let known = outcomes[message.flags] {
                    outcome = known
                } else {
                    let old = Self.decodeFlags(message.flags)
                    let new = change.apply(flags, to: old)
                    outcome = (old, new, new == old ? nil : Self.encodeFlags(new))
                    if outcomes.count < 1024 { outcomes[message.flags] = outcome }
                }
                guard let text = outcome.text else {
                    states.append(MessageFlagState(uid: message.uid, modSeq: message.modSeq, flags: outcome.old))
                    continue
                }
                if newModSeq == nil {
                    newModSeq = try Int64.fetchOne(db, sql: """
                        UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = ? RETURNING highestmodseq
                        """, arguments: [mailboxID])
                }
                guard let modSeq = newModSeq else { throw MailStoreError.noSuchMailbox("#\(mailboxID)") }
                try update.execute(arguments: [text, modSeq, mailboxID, Int64(message.uid)])
                states.append(MessageFlagState(uid: message.uid, modSeq: ModSeq(modSeq), flags: outcome.new))
            }
            return FlagUpdateResult(states: states, modified: modified, modSeq: newModSeq.map { ModSeq($0) })
        }
    }

    /// Ascending runs of consecutive UIDs.
    static func runs(of uids: [UID]) -> [ClosedRange<UID>] {
        var sorted = uids
        if !zip(uids, uids.dropFirst()).allSatisfy({ $0 < $1 }) { sorted = Array(Set(uids)).sorted() }
        var out: [ClosedRange<UID>] = []
        var i = sorted.startIndex
        while i < sorted.endIndex {
            var j = i
            while j + 1 < sorted.endIndex, sorted[j + 1] == sorted[j] &+ 1 { j += 1 }
            out.append(sorted[i]...sorted[j])
            i = j + 1
        }
        return out
    }

    public func copyMessages(mailboxID: Int64, uids: [UID], to destination: String, move: Bool) async throws -> CopyResult {
        let destination = try Self.normalize(destination)
        return try await pool.write { db in
            guard try Int64.fetchOne(db, sql: "SELECT id FROM mailboxes WHERE id = ?", arguments: [mailboxID]) != nil
            else { throw MailStoreError.noSuchMailbox("#\(mailboxID)") }
            guard let target = try Self.mailboxRow(db, destination) else { throw MailStoreError.noSuchMailbox(destination) }
            let targetID: Int64 = target["id"]
            let select = try db.cachedStatement(sql: "SELECT * FROM messages WHERE mailbox_id = ? AND uid = ?")
            var rows: [Row] = []
            for uid in uids {
                if let row = try Row.fetchOne(select, arguments: [mailboxID, Int64(uid)]) { rows.append(row) }
            }
            guard !rows.isEmpty else {
                return CopyResult(destinationUIDValidity: UIDValidity(truncatingIfNeeded: target["uidvalidity"] as Int64),
                                  sourceUIDs: [], destinationUIDs: [])
            }
            guard let slot = try Row.fetchOne(db, sql: """
                UPDATE mailboxes SET uidnext = uidnext + ?, highestmodseq = highestmodseq + 1
                WHERE id = ? RETURNING uidnext - ? AS first, highestmodseq, uidvalidity
                """, arguments: [rows.count, targetID, rows.count])
            else { throw MailStoreError.noSuchMailbox(destination) }
            let first: Int64 = slot["first"]
            let modSeq: Int64 = slot["highestmodseq"]
            guard first + Int64(rows.count) - 1 <= Int64(UInt32.max) else { throw MailStoreError.io("UID space of \(destination) exhausted") }
            let insert = try db.cachedStatement(sql: """
                INSERT INTO messages(mailbox_id, uid, modseq, flags, internal_date, size, blob_id) VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            var sources: [UID] = []
            var targets: [UID] = []
            for (i, row) in rows.enumerated() {
                let uid = first + Int64(i)
                let blob: String = row["blob_id"]
                try insert.execute(arguments: [targetID, uid, modSeq, row["flags"] as String, row["internal_date"] as Int64,
                                               row["size"] as Int64, blob])
                if move {
                    try db.execute(sql: "DELETE FROM messages WHERE mailbox_id = ? AND uid = ?", arguments: [mailboxID, row["uid"] as Int64])
                } else {
                    // Stored once, shared by reference (the blob is released when its last message goes).
                    try db.execute(sql: "UPDATE blobs SET refs = refs + 1 WHERE id = ?", arguments: [blob])
                }
                sources.append(UID(truncatingIfNeeded: row["uid"] as Int64))
                targets.append(UID(truncatingIfNeeded: uid))
            }
            if move {
                try db.execute(sql: "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = ?", arguments: [mailboxID])
            }
            return CopyResult(destinationUIDValidity: UIDValidity(truncatingIfNeeded: slot["uidvalidity"] as Int64),
                              sourceUIDs: sources, destinationUIDs: targets)
        }
    }

    public func expungeMessages(mailboxID: Int64, uids: [UID]) async throws -> [UID] {
        guard !uids.isEmpty else { return [] }
        let (removed, orphaned): ([UID], [String]) = try await pool.write { db in
            guard try Int64.fetchOne(db, sql: "SELECT id FROM mailboxes WHERE id = ?", arguments: [mailboxID]) != nil
            else { throw MailStoreError.noSuchMailbox("#\(mailboxID)") }
            var removed: [UID] = []
            var blobs: [String] = []
            let delete = try db.cachedStatement(sql: "DELETE FROM messages WHERE mailbox_id = ? AND uid = ? RETURNING blob_id")
            for uid in uids {
                if let blob = try String.fetchOne(delete, arguments: [mailboxID, Int64(uid)]) {
                    removed.append(uid)
                    blobs.append(blob)
                }
            }
            if !removed.isEmpty {
                try db.execute(sql: "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = ?", arguments: [mailboxID])
            }
            // The parse cache and the text index hold message text: trigger `imap_blob_removed` takes them
            // with the blob, in this transaction.
            let gone = try Self.releaseBlobs(db, blobs)
            return (removed, gone)
        }
        try await removeBlobFiles(orphaned)
        try await purgeDeletedPagesIfNoBackup()
        return removed
    }

    public func cachedParse(blobID: String) async throws -> [UInt8]? {
        try await pool.read { db in
            try Data.fetchOne(db, sql: "SELECT data FROM imap_parse_cache WHERE blob_id = ?", arguments: [blobID]).map { [UInt8]($0) }
        }
    }

    public func storeCachedParse(blobID: String, _ data: [UInt8]) async throws {
        try await pool.write { db in
            // Only for a blob that still exists: a message expunged meanwhile leaves nothing behind.
            try db.execute(sql: """
                INSERT OR REPLACE INTO imap_parse_cache(blob_id, data) SELECT id, ? FROM blobs WHERE id = ?
                """, arguments: [Data(data), blobID])
        }
    }

    public func cachedParses(blobIDs: [String]) async throws -> [String: [UInt8]] {
        guard !blobIDs.isEmpty else { return [:] }
        return try await pool.read { db in
            var out: [String: [UInt8]] = [:]
            out.reserveCapacity(blobIDs.count)
            // Bounded IN lists: one statement per few hundred blobs, well under SQLite's variable limit.
            var start = 0
            while start < blobIDs.count {
                let chunk = Array(blobIDs[start..<min(blobIDs.count, start + Self.parseLookupChunk)])
                start += chunk.count
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                let rows = try Row.fetchCursor(db, sql: "SELECT blob_id, data FROM imap_parse_cache WHERE blob_id IN (\(marks))",
                                               arguments: StatementArguments(chunk))
                while let row = try rows.next() {
                    let blob: String = row[0]
                    out[blob] = try row.withUnsafeData(atIndex: 1) { data in data.map { $0.withUnsafeBytes { Array($0) } } ?? [] }
                }
            }
            return out
        }
    }

    static let parseLookupChunk = 500

    public func storeCachedParses(_ parses: [String: [UInt8]]) async throws {
        guard !parses.isEmpty else { return }
        try await pool.write { db in
            let insert = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO imap_parse_cache(blob_id, data) SELECT id, ? FROM blobs WHERE id = ?
                """)
            for (blob, data) in parses { try insert.execute(arguments: [Data(data), blob]) }
        }
    }

    public func blobFilePath(_ blobID: String) -> String {
        blobPath(blobID)
    }
}

// MARK: Full-text index

extension SQLiteAccountStore: FullTextIndex {
    public var minimumIndexedNeedle: Int { 3 }

    public func unindexedMessages(mailboxID: Int64, limit: Int) async throws -> UnindexedBatch {
        try await pool.read { db in
            let watermark = try Int64.fetchOne(db, sql: "SELECT indexed_uid FROM imap_fts_mailboxes WHERE mailbox_id = ?",
                                               arguments: [mailboxID]) ?? 0
            let rows = try Row.fetchAll(db, sql: """
                SELECT m.uid, m.blob_id, EXISTS(SELECT 1 FROM imap_fts_docs d WHERE d.blob_id = m.blob_id) AS indexed
                FROM messages m WHERE m.mailbox_id = ? AND m.uid > ? ORDER BY m.uid LIMIT ?
                """, arguments: [mailboxID, watermark, max(1, limit)])
            var seen = Set<String>()
            var blobs: [String] = []
            for row in rows where !(row["indexed"] as Bool) {
                let blob: String = row["blob_id"]
                if seen.insert(blob).inserted { blobs.append(blob) }
            }
            let last = rows.last.map { UID(truncatingIfNeeded: $0["uid"] as Int64) }
            return UnindexedBatch(blobIDs: blobs, throughUID: last)
        }
    }

    public func addToIndex(_ documents: [SearchTextDocument], mailboxID: Int64, throughUID: UID) async throws {
        try await pool.write { db in
            let watermark = try Int64.fetchOne(db, sql: "SELECT indexed_uid FROM imap_fts_mailboxes WHERE mailbox_id = ?",
                                               arguments: [mailboxID]) ?? 0
            let exists = try db.cachedStatement(sql: "SELECT EXISTS(SELECT 1 FROM blobs WHERE id = ?) AND NOT EXISTS(SELECT 1 FROM imap_fts_docs WHERE blob_id = ?)")
            let insertText = try db.cachedStatement(sql: "INSERT INTO imap_fts(header, body) VALUES (?, ?)")
            let insertDoc = try db.cachedStatement(sql: "INSERT INTO imap_fts_docs(blob_id, docid) VALUES (?, ?)")
            for document in documents {
                guard try Bool.fetchOne(exists, arguments: [document.blobID, document.blobID]) == true else { continue }
                try insertText.execute(arguments: [document.header, document.body])
                try insertDoc.execute(arguments: [document.blobID, db.lastInsertedRowID])
            }
            // The messages of the range, also those whose blob was indexed before (copies share one entry).
            try db.execute(sql: """
                INSERT OR IGNORE INTO imap_fts_uids(mailbox_id, uid, docid)
                SELECT m.mailbox_id, m.uid, d.docid FROM messages m JOIN imap_fts_docs d ON d.blob_id = m.blob_id
                WHERE m.mailbox_id = ? AND m.uid > ? AND m.uid <= ?
                """, arguments: [mailboxID, watermark, Int64(throughUID)])
            try db.execute(sql: """
                INSERT INTO imap_fts_mailboxes(mailbox_id, indexed_uid) SELECT id, ? FROM mailboxes WHERE id = ?
                ON CONFLICT(mailbox_id) DO UPDATE SET indexed_uid = max(indexed_uid, excluded.indexed_uid)
                """, arguments: [Int64(throughUID), mailboxID])
        }
    }

    public func indexedUIDs(mailboxID: Int64, containing needle: String, scope: TextSearchScope) async throws -> Set<UID> {
        // An FTS5 string is a phrase in double quotes, quotes doubled; with the trigram tokenizer a phrase
        // matches as a case-insensitive substring. `body :` limits it to that column.
        let phrase = "\"" + needle.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        let query = scope == .body ? "body : " + phrase : phrase
        return try await pool.read { db in
            // The matching entries form a set of integers that SQLite probes while walking the mailbox's
            // part of the UID map: no text keys, no join with the messages.
            var uids = Set<UID>()
            let rows = try Int64.fetchCursor(db, sql: """
                SELECT uid FROM imap_fts_uids WHERE mailbox_id = ? AND docid IN (SELECT rowid FROM imap_fts WHERE imap_fts MATCH ?)
                """, arguments: [mailboxID, query])
            while let uid = try rows.next() { uids.insert(UID(truncatingIfNeeded: uid)) }
            return uids
        }
    }

    @discardableResult
    public func pruneIndex() async throws -> Int {
        try await pool.write { db in try Self.pruneIndex(db) }
    }

    static func pruneIndex(_ db: Database) throws -> Int {
        let stale = try String.fetchAll(db, sql: "SELECT blob_id FROM imap_fts_docs WHERE blob_id NOT IN (SELECT id FROM blobs)")
        for blob in stale { try removeFromIndex(db, blob) }
        try db.execute(sql: "DELETE FROM imap_fts_mailboxes WHERE mailbox_id NOT IN (SELECT id FROM mailboxes)")
        try db.execute(sql: "DELETE FROM imap_fts_uids WHERE mailbox_id NOT IN (SELECT id FROM mailboxes)")
        try db.execute(sql: "DELETE FROM imap_expunge_marks WHERE mailbox_id NOT IN (SELECT id FROM mailboxes)")
        return stale.count
    }

    /// Maps the indexed messages of mailboxes whose UID map is behind their index: all of them when the map
    /// is new, or those an older binary indexed further. Probing the last indexed message of each mailbox
    /// finds them without a scan.
    static func completeUIDMap(_ db: Database) throws {
        let behind = try Row.fetchAll(db, sql: """
            SELECT f.mailbox_id, f.indexed_uid FROM imap_fts_mailboxes f
            WHERE EXISTS (SELECT 1 FROM imap_fts_docs d WHERE d.blob_id = (
                    SELECT blob_id FROM messages WHERE mailbox_id = f.mailbox_id AND uid <= f.indexed_uid ORDER BY uid DESC LIMIT 1))
              AND NOT EXISTS (SELECT 1 FROM imap_fts_uids u WHERE u.mailbox_id = f.mailbox_id AND u.uid = (
                    SELECT MAX(uid) FROM messages WHERE mailbox_id = f.mailbox_id AND uid <= f.indexed_uid))
            """)
        for row in behind {
            try db.execute(sql: """
                INSERT OR IGNORE INTO imap_fts_uids(mailbox_id, uid, docid)
                SELECT m.mailbox_id, m.uid, d.docid FROM messages m JOIN imap_fts_docs d ON d.blob_id = m.blob_id
                WHERE m.mailbox_id = ? AND m.uid <= ?
                """, arguments: [row[0] as Int64, row[1] as Int64])
        }
    }

    static func removeFromIndex(_ db: Database, _ blob: String) throws {
        guard let docid = try Int64.fetchOne(db, sql: "DELETE FROM imap_fts_docs WHERE blob_id = ? RETURNING docid", arguments: [blob])
        else { return }
        try db.execute(sql: "DELETE FROM imap_fts WHERE rowid = ?", arguments: [docid])
    }
}

/// Many sessions asking the store the same thing at once are answered by batches of reads: a delivery wakes
/// every IDLE session of the account, and each reads the mailbox's changes (one read per refresh). Requests
/// that arrive while a batch runs are served by the next one (``GroupCommit``'s discipline), with one query
/// per distinct question, so every answer is read after its question was asked (never stale), a lone
/// request is read at once, and thousands of woken sessions cost a handful of queries.
final class IMAPStateReads: Sendable {
    /// What a session asks for its refresh (the session's message count is not needed: see `readDelta`).
    struct DeltaQuestion: Hashable, Sendable {
        var mailboxID: Int64
        var since: ModSeq
        var knownUIDBound: UID
    }

    let deltas: GroupCommit<DeltaQuestion, MailboxDelta>

    /// Requests answered by one read transaction at most.
    static let maxBatch = 4096

    init(pool: DatabasePool) {
        deltas = GroupCommit(maxBatch: Self.maxBatch) { questions in
            do {
                let answers = try await pool.read { db in
                    var out: [DeltaQuestion: Result<MailboxDelta, any Error>] = [:]
                    for question in Set(questions) {
                        out[question] = Result { try SQLiteAccountStore.readDelta(db, question) }
                    }
                    return out
                }
                return questions.map { answers[$0] ?? .failure(MailStoreError.io("delta not read")) }
            } catch {
                return questions.map { _ in .failure(error) }
            }
        }
    }
}

/// Which stores of this process have their IMAP side set up.
enum IMAPPreparation {
    private static let prepared = Mutex<Set<String>>([])

    static func claim(_ key: String) -> Bool { prepared.withLock { $0.insert(key).inserted } }
    static func release(_ key: String) { _ = prepared.withLock { $0.remove(key) } }
}

/// Posts the ids of the mailboxes a committed transaction touched on ``MailboxChangeFeed/shared``.
final class MailboxChangeObserver: TransactionObserver, Sendable {
    let accountID: String
    /// Touched in the transaction under way; only the writer connection's queue calls in.
    private let pending = Mutex<Set<Int64>>([])

    init(accountID: String) {
        self.accountID = accountID
    }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        switch eventKind {
        case .insert(let table), .delete(let table), .update(let table, _): return table == "mailboxes"
        }
    }

    func databaseDidChange(with event: DatabaseEvent) {
        let id = event.rowID
        pending.withLock { _ = $0.insert(id) }
    }

    func databaseDidCommit(_ db: Database) {
        let ids = pending.withLock { ids in
            defer { ids = [] }
            return ids
        }
        guard !ids.isEmpty else { return }
        // Posted once the writer has returned, not from inside the commit: waking thousands of idling
        // sessions must not delay the committing caller (an SMTP client waiting for its 250).
        let accountID = self.accountID
        Task { MailboxChangeFeed.shared.post(accountID: accountID, mailboxIDs: ids) }
    }

    func databaseDidRollback(_ db: Database) {
        pending.withLock { $0 = [] }
    }
}

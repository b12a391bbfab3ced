import Foundation
import GRDB
import MailStore

/// Empties a database's write-ahead log after data was deleted (erasure, No Backup expunge).
///
/// With `secure_delete` on, SQLite zeroes deleted cells and freed pages, but in WAL mode it writes those
/// zeroed pages as new WAL frames: the older frames, holding the deleted content, stay in the `-wal` file
/// until a checkpoint copies the new versions into the database file and the log is reset.
/// `wal_checkpoint(TRUNCATE)` does both and truncates the log to zero bytes (https://www.sqlite.org/pragma.html#pragma_wal_checkpoint).
public enum WALTruncation {
    /// Attempts before giving up when readers of other processes keep an older snapshot open.
    static let attempts = 20

    /// Checkpoints every frame and truncates the WAL. Waits (busy timeout, then short retries) for readers
    /// of older snapshots, which would otherwise keep the old frames needed.
    public static func run(_ writer: any DatabaseWriter) throws {
        var lastError: (any Error)?
        for attempt in 0..<attempts {
            do {
                let (logFrames, checkpointed) = try writer.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
                // TRUNCATE reports 0/0 once the log was reset; anything else means frames are left behind.
                if logFrames <= 0 || logFrames == checkpointed { return }
                lastError = MailStoreError.io("WAL checkpoint left \(logFrames - checkpointed) frames")
            } catch {
                lastError = error
            }
            Thread.sleep(forTimeInterval: 0.05 * Double(attempt + 1))
        }
        throw MailStoreError.io("could not truncate the WAL: \(lastError.map { "\($0)" } ?? "busy")")
    }
}

extension SQLiteAccountStore {
    /// No Backup accounts (issue 8): once an expunge or mailbox deletion has committed and its blob files
    /// are unlinked, move the zeroed pages into the database file and empty the WAL, so no earlier page
    /// version (mailbox names, flags, and the search index once there is one) stays readable on disk.
    /// Normal accounts skip this: their deleted mail may survive in backups anyway, and SQLite's own
    /// automatic checkpoints reclaim the log.
    public func purgeDeletedPagesIfNoBackup() async throws {
        guard account.noBackup else { return }
        let pool = self.pool
        try await BlockingIO.run { try WALTruncation.run(pool) }
    }
}

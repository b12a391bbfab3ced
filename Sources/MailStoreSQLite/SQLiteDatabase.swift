import GRDB

/// Connection settings shared by the directory and account databases.
enum SQLiteDatabase {
    /// `PRAGMA synchronous` value FULL: in WAL mode the WAL is fsync'd at every commit.
    static let synchronousFull = 2

    static func open(path: String) throws -> DatabasePool {
        var config = Configuration()
        // The admin CLI and the server use the same files: wait for a writer instead of failing at once.
        config.busyMode = .timeout(30)
        config.prepareDatabase { db in
            // Freed pages are zeroed, so deleted mail is not left readable in the file (No Backup, erasure).
            try db.execute(sql: "PRAGMA secure_delete = ON")
        }
        let pool = try DatabasePool(path: path, configuration: config)
        // WAL (DatabasePool's default) + synchronous=FULL: a commit is on disk when it returns. It must be set
        // here, after the pool is open: DatabasePool switches its writer to WAL *after* prepareDatabase and
        // sets synchronous=NORMAL on the way (GRDB 7 `setUpWALMode`), under which a commit acknowledged to an
        // SMTP client could be lost on power failure. Only the writer commits, so only it needs the setting.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        guard try synchronousLevel(pool) == synchronousFull else {
            throw DatabaseError(message: "could not set PRAGMA synchronous = FULL on \(path)")
        }
        return pool
    }

    /// The writer connection's `PRAGMA synchronous`.
    static func synchronousLevel(_ pool: DatabasePool) throws -> Int? {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
    }
}

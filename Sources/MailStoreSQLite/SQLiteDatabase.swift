import GRDB

/// Connection settings shared by the directory and account databases.
enum SQLiteDatabase {
    static func open(path: String) throws -> DatabasePool {
        var config = Configuration()
        // The admin CLI and the server use the same files: wait for a writer instead of failing at once.
        config.busyMode = .timeout(30)
        config.prepareDatabase { db in
            // WAL (DatabasePool's default) + synchronous=FULL: a commit is on disk when it returns.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Freed pages are zeroed, so deleted mail is not left readable in the file (No Backup, erasure).
            try db.execute(sql: "PRAGMA secure_delete = ON")
        }
        return try DatabasePool(path: path, configuration: config)
    }
}

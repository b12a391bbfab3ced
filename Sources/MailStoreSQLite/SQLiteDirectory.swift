import Foundation
import GRDB
import Synchronization
import MailStore

/// The directory (`<data_dir>/skjold.sqlite`): domains, accounts, aliases, credentials.
public final class SQLiteDirectory: MailDirectory, @unchecked Sendable {
    // @unchecked: immutable stored properties; DatabasePool is thread-safe.
    let pool: DatabasePool
    let layout: StorageLayout
    let plans: PlanCatalog
    let passwordCost: Int
    let onErase: @Sendable (Account) async throws -> Void
    /// Traffic counted but not yet written (see ``recordTraffic(accountID:bytes:now:)``).
    let pendingTraffic = Mutex(PendingTraffic())

    init(pool: DatabasePool, layout: StorageLayout, plans: PlanCatalog, passwordCost: Int,
         onErase: @escaping @Sendable (Account) async throws -> Void) throws {
        self.pool = pool
        self.layout = layout
        self.plans = plans
        self.passwordCost = passwordCost
        self.onErase = onErase
        try Self.migrator.migrate(pool)
    }

    static let migrator: DatabaseMigrator = {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE domains(name TEXT PRIMARY KEY, created_at INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE accounts(
                    id TEXT PRIMARY KEY,
                    address TEXT NOT NULL,
                    address_key TEXT NOT NULL UNIQUE,
                    domain TEXT NOT NULL REFERENCES domains(name),
                    password_hash TEXT NOT NULL,
                    plan TEXT NOT NULL,
                    no_backup INTEGER NOT NULL,
                    created_at INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE aliases(
                    address_key TEXT PRIMARY KEY,
                    address TEXT NOT NULL,
                    domain TEXT NOT NULL REFERENCES domains(name),
                    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                    created_at INTEGER NOT NULL) WITHOUT ROWID;
                CREATE INDEX aliases_by_account ON aliases(account_id);
                """)
        }
        m.registerMigration("v2-quotas") { db in
            // Add-ons per account, and the rolling outgoing-recipient ledger (counts and times only: no
            // addresses, so it is no traffic log). Both carry account_id, so erasure removes them.
            try db.execute(sql: """
                CREATE TABLE account_extras(
                    account_id TEXT PRIMARY KEY NOT NULL,
                    storage INTEGER NOT NULL DEFAULT 0,
                    outgoing INTEGER NOT NULL DEFAULT 0,
                    bandwidth INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                CREATE TABLE outgoing_ledger(
                    id INTEGER PRIMARY KEY,
                    account_id TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    count INTEGER NOT NULL
                );
                CREATE INDEX outgoing_ledger_account ON outgoing_ledger(account_id, at);
                """)
        }
        m.registerMigration("v3-traffic") { db in
            // Bandwidth per account in hourly buckets: totals only, nothing about what was fetched.
            try db.execute(sql: """
                CREATE TABLE traffic_ledger(
                    account_id TEXT NOT NULL,
                    hour INTEGER NOT NULL,
                    bytes INTEGER NOT NULL,
                    PRIMARY KEY(account_id, hour)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v4-protection") { db in
            // App passwords are found by their first group (`lookup`), so a login verifies at most one of
            // them besides the main password: no scrypt run per stored app password.
            try db.execute(sql: """
                CREATE TABLE app_passwords(
                    account_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    lookup TEXT NOT NULL,
                    password_hash TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY(account_id, name)
                ) WITHOUT ROWID;
                CREATE INDEX app_passwords_lookup ON app_passwords(account_id, lookup);
                CREATE TABLE account_pauses(
                    account_id TEXT PRIMARY KEY NOT NULL,
                    since INTEGER NOT NULL,
                    reason TEXT NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v5-web-only") { db in
            try db.execute(sql: "CREATE TABLE account_web_only(account_id TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID")
        }
        m.registerMigration("v6-dkim") { db in
            try db.execute(sql: """
                CREATE TABLE dkim_keys(
                    domain TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
                    selector TEXT NOT NULL,
                    algorithm TEXT NOT NULL,
                    private_key TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY(domain, selector)) WITHOUT ROWID
                """)
        }
        return m
    }()

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

    // MARK: Domains

    public func addDomain(_ name: String) async throws -> HostedDomain {
        guard let normalized = DomainName.normalize(name), normalized.contains(".") || normalized == "localhost" else {
            throw DirectoryError.malformedDomain(name)
        }
        let created = Self.now()
        try await pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM domains WHERE name = ?", arguments: [normalized]) != nil {
                throw DirectoryError.duplicateDomain(normalized)
            }
            try db.execute(sql: "INSERT INTO domains(name, created_at) VALUES (?, ?)", arguments: [normalized, created])
        }
        return HostedDomain(name: normalized, createdAt: Date(timeIntervalSince1970: TimeInterval(created)))
    }

    public func removeDomain(_ name: String) async throws {
        guard let normalized = DomainName.normalize(name) else { throw DirectoryError.malformedDomain(name) }
        try await pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM domains WHERE name = ?", arguments: [normalized]) != nil else {
                throw DirectoryError.unknownDomain(normalized)
            }
            let users = try Int.fetchOne(db, sql: """
                SELECT (SELECT COUNT(*) FROM accounts WHERE domain = ?1) + (SELECT COUNT(*) FROM aliases WHERE domain = ?1)
                """, arguments: [normalized]) ?? 0
            if users > 0 { throw DirectoryError.domainInUse(normalized, addresses: users) }
            try db.execute(sql: "DELETE FROM dkim_keys WHERE domain = ?", arguments: [normalized])
            try db.execute(sql: "DELETE FROM domains WHERE name = ?", arguments: [normalized])
        }
    }

    public func domains() async throws -> [HostedDomain] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM domains ORDER BY name").map {
                HostedDomain(name: $0["name"], createdAt: Date(timeIntervalSince1970: TimeInterval($0["created_at"] as Int64)))
            }
        }
    }

    public func isHostedDomain(_ name: String) async throws -> Bool {
        guard let normalized = DomainName.normalize(name) else { return false }
        return try await pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM domains WHERE name = ?", arguments: [normalized]) != nil
        }
    }

    // MARK: Accounts

    static func account(_ row: Row) throws -> Account {
        Account(id: row["id"], address: try EmailAddress(row["address"] as String), plan: row["plan"],
                noBackup: (row["no_backup"] as Int64) != 0,
                createdAt: Date(timeIntervalSince1970: TimeInterval(row["created_at"] as Int64)))
    }

    public func addAccount(_ address: String, password: String, plan: String, noBackup: Bool) async throws -> Account {
        let address = try EmailAddress(address)
        guard plans.names.contains(plan) else { throw DirectoryError.unknownPlan(plan, known: plans.names.sorted()) }
        try PasswordGenerator.check(password)
        let cost = passwordCost
        let hash = try await BlockingIO.run { try PasswordHash.make(password: password, logN: cost) }
        // Validate before touching the disk, so a refused address leaves no folder behind.
        try await pool.read { db in try Self.checkFree(db, address) }
        let account = Account(id: RandomID.make(), address: address, plan: plan, noBackup: noBackup,
                              createdAt: Date(timeIntervalSince1970: TimeInterval(Self.now())))
        let folder = layout.folder(for: account)
        // The folder with its mailboxes first: an account row never points at a missing folder.
        let store = try await BlockingIO.run { try SQLiteAccountStore(account: account, folder: folder) }
        try store.close()
        do {
            try await pool.write { db in
                try Self.checkFree(db, address)
                try db.execute(sql: """
                    INSERT INTO accounts(id, address, address_key, domain, password_hash, plan, no_backup, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [account.id, address.given, address.key, address.domain, hash.encoded, plan,
                                     noBackup ? 1 : 0, Int64(account.createdAt.timeIntervalSince1970)])
            }
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
        return account
    }

    /// The address must be in a hosted domain and not yet used by an account or an alias.
    static func checkFree(_ db: Database, _ address: EmailAddress) throws {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM domains WHERE name = ?", arguments: [address.domain]) != nil else {
            throw DirectoryError.unknownDomain(address.domain)
        }
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM accounts WHERE address_key = ?", arguments: [address.key]) != nil
            || Bool.fetchOne(db, sql: "SELECT 1 FROM aliases WHERE address_key = ?", arguments: [address.key]) != nil {
            throw DirectoryError.duplicateAddress(address.given)
        }
    }

    public func account(_ address: String) async throws -> Account? {
        guard let address = try? EmailAddress(address) else { return nil }
        return try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE address_key = ?", arguments: [address.key]).map(Self.account)
        }
    }

    public func account(id: String) async throws -> Account? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE id = ?", arguments: [id]).map(Self.account)
        }
    }

    public func accounts() async throws -> [Account] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM accounts ORDER BY domain, address_key").map(Self.account)
        }
    }

    func requireAccount(_ address: String) async throws -> Account {
        let parsed = try EmailAddress(address)
        guard let account = try await account(parsed.given) else { throw DirectoryError.noSuchAccount(parsed.given) }
        return account
    }

    public func setPassword(_ address: String, password: String) async throws {
        let account = try await requireAccount(address)
        try PasswordGenerator.check(password)
        let cost = passwordCost
        let hash = try await BlockingIO.run { try PasswordHash.make(password: password, logN: cost) }
        try await pool.write { db in
            try db.execute(sql: "UPDATE accounts SET password_hash = ? WHERE id = ?", arguments: [hash.encoded, account.id])
        }
    }

    public func setPlan(_ address: String, plan: String) async throws {
        let account = try await requireAccount(address)
        guard plans.names.contains(plan) else { throw DirectoryError.unknownPlan(plan, known: plans.names.sorted()) }
        try await pool.write { db in
            try db.execute(sql: "UPDATE accounts SET plan = ? WHERE id = ?", arguments: [plan, account.id])
        }
    }

    /// Erasure (issue 8), in this order: 1. every directory row naming the account (aliases, the account and
    /// credentials, any table keyed by `account_id` such as quota ledgers) in one transaction, so the address
    /// stops resolving at once; 2. the erase hook: this process's open store closed, the account's outbound
    /// queue entries and their files removed; 3. the account folder (index and blobs) under both `data_dir`
    /// and `nobackup_dir`; 4. the directory's WAL checkpointed and truncated, so with secure_delete no old
    /// page version holding the address, password hash or queued envelopes stays on disk.
    public func eraseAccount(_ address: String) async throws {
        let account = try await requireAccount(address)
        try await pool.write { db in
            // Queue rows are left to the hook, which removes each entry's file with it.
            for table in try Self.tablesKeyedByAccount(db) where table != "queue_messages" {
                try db.execute(sql: "DELETE FROM \(table.quotedDatabaseIdentifier) WHERE account_id = ?", arguments: [account.id])
            }
            try db.execute(sql: "DELETE FROM accounts WHERE id = ?", arguments: [account.id])
        }
        try await onErase(account)
        let folders = [layout.dataDir, layout.nobackupDir].map { $0 + "/accounts/" + account.id }
        try await BlockingIO.run {
            for folder in folders where FileManager.default.fileExists(atPath: folder) {
                try FileManager.default.removeItem(atPath: folder)
            }
        }
        let pool = self.pool
        try await BlockingIO.run { try WALTruncation.run(pool) }
    }

    /// Tables with an `account_id` column (aliases, queue entries, and whatever later versions add).
    static func tablesKeyedByAccount(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: """
            SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c
            WHERE m.type = 'table' AND c.name = 'account_id' ORDER BY m.name
            """)
    }

    // MARK: Aliases

    public func addAlias(_ alias: String, target: String) async throws -> Alias {
        let aliasAddress = try EmailAddress(alias)
        let targetAddress = try EmailAddress(target)
        let created = Self.now()
        let limits = plans
        return try await pool.write { db in
            guard let targetRow = try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE address_key = ?", arguments: [targetAddress.key]) else {
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM aliases WHERE address_key = ?", arguments: [targetAddress.key]) != nil {
                    throw DirectoryError.aliasOfAlias(alias: aliasAddress.given, target: targetAddress.given)
                }
                throw DirectoryError.aliasTargetMissing(alias: aliasAddress.given, target: targetAddress.given)
            }
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM domains WHERE name = ?", arguments: [aliasAddress.domain]) != nil else {
                throw DirectoryError.unknownDomain(aliasAddress.domain)
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM accounts WHERE address_key = ?", arguments: [aliasAddress.key]) != nil {
                throw DirectoryError.aliasShadowsAccount(aliasAddress.given)
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM aliases WHERE address_key = ?", arguments: [aliasAddress.key]) != nil {
                throw DirectoryError.duplicateAddress(aliasAddress.given)
            }
            let target = try Self.account(targetRow)
            // Counted inside the write transaction, so two concurrent adds cannot both take the last slot.
            if let limit = limits.aliasLimits[target.plan] {
                let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM aliases WHERE account_id = ?", arguments: [target.id]) ?? 0
                if count >= limit { throw DirectoryError.aliasLimitReached(account: target.address.given, limit: limit) }
            }
            try db.execute(sql: "INSERT INTO aliases(address_key, address, domain, account_id, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [aliasAddress.key, aliasAddress.given, aliasAddress.domain, target.id, created])
            return Alias(address: aliasAddress, target: target.address, createdAt: Date(timeIntervalSince1970: TimeInterval(created)))
        }
    }

    public func removeAlias(_ alias: String) async throws {
        let address = try EmailAddress(alias)
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM aliases WHERE address_key = ?", arguments: [address.key])
            if db.changesCount == 0 { throw DirectoryError.noSuchAlias(address.given) }
        }
    }

    public func aliases(of target: String?) async throws -> [Alias] {
        let filter: String? = if let target { try await requireAccount(target).id } else { nil }
        return try await pool.read { db in
            let rows: [Row]
            let sql = """
                SELECT a.address, a.created_at, t.address AS target FROM aliases a JOIN accounts t ON t.id = a.account_id
                """
            if let filter {
                rows = try Row.fetchAll(db, sql: sql + " WHERE a.account_id = ? ORDER BY a.domain, a.address_key", arguments: [filter])
            } else {
                rows = try Row.fetchAll(db, sql: sql + " ORDER BY a.domain, a.address_key")
            }
            return try rows.map {
                Alias(address: try EmailAddress($0["address"] as String), target: try EmailAddress($0["target"] as String),
                      createdAt: Date(timeIntervalSince1970: TimeInterval($0["created_at"] as Int64)))
            }
        }
    }

    // MARK: Mail routing and login

    public func resolveRecipient(_ address: String) async throws -> RecipientResolution {
        guard let parsed = try? EmailAddress(address) else { return .notHosted }
        return try await pool.read { db in
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE address_key = ?", arguments: [parsed.key]) {
                return .local(try Self.account(row), via: nil)
            }
            if let row = try Row.fetchOne(db, sql: """
                SELECT t.* FROM aliases a JOIN accounts t ON t.id = a.account_id WHERE a.address_key = ?
                """, arguments: [parsed.key]) {
                return .local(try Self.account(row), via: parsed)
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM domains WHERE name = ?", arguments: [parsed.domain]) != nil {
                return .unknownUser
            }
            return .notHosted
        }
    }

    public func authenticate(_ login: String, password: String) async throws -> Account? {
        var found: (hash: String, appHash: String?, account: Account)?
        if let parsed = try? EmailAddress(login) {
            let lookup = Self.appPasswordLookup(password)
            found = try await pool.read { db -> (hash: String, appHash: String?, account: Account)? in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE address_key = ?", arguments: [parsed.key])
                else { return nil }
                let account = try Self.account(row)
                let appHash = try lookup.flatMap {
                    try String.fetchOne(db, sql: "SELECT password_hash FROM app_passwords WHERE account_id = ? AND lookup = ?",
                                        arguments: [account.id, $0])
                }
                // Main password restricted to the web: mail protocols accept app passwords only. The hash is
                // still checked (and the answer thrown away) so the timing does not tell.
                let webOnly = try Bool.fetchOne(db, sql: "SELECT 1 FROM account_web_only WHERE account_id = ?",
                                                arguments: [account.id]) == true
                return (webOnly ? "!" + (row["password_hash"] as String) : row["password_hash"], appHash, account)
            }
        }
        let webOnly = found?.hash.hasPrefix("!") == true
        guard let found, let hash = try? PasswordHash(encoded: webOnly ? String(found.hash.dropFirst()) : found.hash) else {
            try await BlockingIO.run { PasswordHash.burnEquivalentTime(password) }
            return nil
        }
        if let appHash = found.appHash.flatMap({ try? PasswordHash(encoded: $0) }),
           try await BlockingIO.run({ appHash.verify(password) }) {
            return found.account
        }
        let ok = try await BlockingIO.run { hash.verify(password) }
        return ok && !webOnly ? found.account : nil
    }

    public func senderAddresses(of account: Account) async throws -> [EmailAddress] {
        let aliases = try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT address FROM aliases WHERE account_id = ?", arguments: [account.id])
        }
        return [account.address] + aliases.compactMap { try? EmailAddress($0) }
    }
}

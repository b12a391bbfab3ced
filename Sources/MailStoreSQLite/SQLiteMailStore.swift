import Foundation
import GRDB
import MailStore
import Synchronization

/// Plan facts the directory enforces itself (the rest of quota enforcement lives with the servers).
public struct PlanCatalog: Sendable {
    public var names: Set<String>
    public var aliasLimits: [String: Int]
    public init(names: Set<String>, aliasLimits: [String: Int]) {
        self.names = names
        self.aliasLimits = aliasLimits
    }
}

/// Where things live on disk.
public struct StorageLayout: Sendable {
    public var dataDir: String
    public var nobackupDir: String
    public init(dataDir: String, nobackupDir: String) {
        self.dataDir = dataDir
        self.nobackupDir = nobackupDir
    }

    public var directoryDatabase: String { dataDir + "/skjold.sqlite" }

    /// No Backup accounts live under `nobackup_dir`, everyone else under `data_dir`.
    public func folder(for account: Account) -> String {
        (account.noBackup ? nobackupDir : dataDir) + "/accounts/" + account.id
    }
}

/// The embedded (SQLite + files) MailStore.
public final class SQLiteMailStore: MailStore, Sendable {
    public let layout: StorageLayout
    public let sqliteDirectory: SQLiteDirectory
    public let outboundQueue: SQLiteOutboundQueue
    /// One open store per account in this process, so writes to one account share one writer.
    let open = OpenStores()

    public var directory: any MailDirectory { sqliteDirectory }
    /// Per-account add-ons and the outgoing-recipient ledger.
    public var quotas: any QuotaLedger { sqliteDirectory }
    /// App passwords and submission pauses.
    public var protection: any AccountProtection { sqliteDirectory }
    public var queue: any OutboundQueue { outboundQueue }
    /// DKIM signing keys of the hosted domains.
    public var dkimKeys: any DKIMKeyStore { sqliteDirectory }

    /// Opens (creating if needed) the data directory. `passwordCost` is scrypt's log2(N); tests may lower it.
    public init(layout: StorageLayout, plans: PlanCatalog, passwordCost: Int = PasswordHash.defaultLogN) throws {
        self.layout = layout
        try DurableFiles.ensureDirectory(layout.dataDir)
        try DurableFiles.ensureDirectory(layout.dataDir + "/accounts")
        try DurableFiles.ensureDirectory(layout.nobackupDir + "/accounts")
        let pool = try SQLiteDatabase.open(path: layout.directoryDatabase)
        let openStores = open
        let queue = try SQLiteOutboundQueue(pool: pool, folder: layout.dataDir + "/queue")
        outboundQueue = queue
        sqliteDirectory = try SQLiteDirectory(pool: pool, layout: layout, plans: plans, passwordCost: passwordCost) { account in
            let store = openStores.stores.withLock { $0.removeValue(forKey: account.id) }
            try? store?.close()
            try await queue.removeAll(accountID: account.id)
        }
    }

    public func mail(for account: Account) async throws -> any AccountMailStore {
        try await accountStore(for: account)
    }

    public func accountStore(for account: Account) async throws -> SQLiteAccountStore {
        if let store = open.stores.withLock({ $0[account.id] }) {
            if store.account.noBackup == account.noBackup { return store }
            // `account set --no-backup/--backup` moved the folder (maybe from another process): reopen there.
            _ = open.stores.withLock { stores in stores[account.id] === store ? stores.removeValue(forKey: account.id) : nil }
            try? store.close()
        }
        var folder = layout.folder(for: account)
        if !FileManager.default.fileExists(atPath: folder + "/mail.sqlite") {
            // A move interrupted between the rename and the flag update leaves the folder at the other place.
            var other = account
            other.noBackup.toggle()
            let otherFolder = layout.folder(for: other)
            guard FileManager.default.fileExists(atPath: otherFolder + "/mail.sqlite") else { throw MailStoreError.accountGone(account.id) }
            folder = otherFolder
        }
        let resolved = folder
        let store = try await BlockingIO.run { try SQLiteAccountStore(account: account, folder: resolved) }
        return open.stores.withLock { stores in
            if let existing = stores[account.id] { return existing }
            stores[account.id] = store
            return store
        }
    }
}

/// The account stores this process has open, shared with the directory's erase hook.
extension SQLiteMailStore {
    /// Switches an account to or from No Backup (`skjold account set --no-backup` / `--backup`): its folder
    /// moves between `data_dir` and `nobackup_dir` (a rename; across file systems a copy that is synced
    /// before the original is removed), then the directory records the flag. A running server reopens the
    /// account at its new place on its next use; sessions open during the move should reconnect.
    public func setNoBackup(_ address: String, _ noBackup: Bool) async throws {
        guard let account = try await directory.account(address) else { throw DirectoryError.noSuchAccount(address) }
        guard account.noBackup != noBackup else { return }
        var moved = account
        moved.noBackup = noBackup
        let source = layout.folder(for: account)
        let destination = layout.folder(for: moved)
        try await BlockingIO.run {
            let manager = FileManager.default
            guard !manager.fileExists(atPath: destination) else {
                throw MailStoreError.io("\(destination) already exists; move or remove it first")
            }
            if rename(source, destination) != 0 {
                guard errno == EXDEV else { throw MailStoreError.io("cannot move \(source) to \(destination): errno \(errno)") }
                try manager.copyItem(atPath: source, toPath: destination)
                sync()  // the copy must be on disk before the only other copy goes
                try manager.removeItem(atPath: source)
            }
            try DurableFiles.fsyncDirectory((source as NSString).deletingLastPathComponent)
            try DurableFiles.fsyncDirectory((destination as NSString).deletingLastPathComponent)
        }
        try await sqliteDirectory.setNoBackupFlag(account.id, noBackup)
        if let store = open.stores.withLock({ $0.removeValue(forKey: account.id) }) { try? store.close() }
    }
}

final class OpenStores: Sendable {
    let stores = Mutex<[String: SQLiteAccountStore]>([:])
}

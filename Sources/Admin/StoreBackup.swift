import Foundation
import MailStore
import MailStoreSQLite
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What one backup run did.
public struct BackupReport: Sendable, Equatable {
    public var accounts = 0
    /// No Backup accounts left out.
    public var noBackupAccounts = 0
    public var messages = 0
    public var blobsCopied = 0
    public var bytesCopied: Int64 = 0
    /// Blobs already in the backup with the right size (not copied again).
    public var blobsUnchanged = 0
    /// Blob files of earlier runs no longer referenced, removed.
    public var blobsRemoved = 0
    /// Messages expunged while the run was copying, left out of this backup.
    public var expungedDuringBackup = 0
    /// Messages whose blob file is missing from the live store although its index still names it.
    public var missingBlobs = 0
    public var queuedMessages = 0
}

/// `skjold backup --to DIR`: a consistent, incremental copy of the store while the server runs.
///
/// Layout of DIR (the same as `data_dir`, so restore is a copy back):
/// `manifest.json`, `skjold.sqlite`, `accounts/<id>/mail.sqlite`, `accounts/<id>/blobs/xx/<blob>`, `queue/<id>`.
///
/// Consistency rests on one invariant of the store: **a blob (or queue) file is unlinked only after the
/// transaction that stops the index referencing it has committed** (`SQLiteAccountStore.expunge` and
/// `deleteMailbox`: rows deleted and committed, then `removeBlobFiles`; deliveries write and fsync the blob
/// before the row is committed). So for each account the run 1. copies the index with SQLite's online
/// backup (one committed state), 2. copies the blobs that copy references — every one of them existed at
/// that state, and can only have vanished since by a later expunge, in which case the run applies that
/// expunge to its copy — and 3. only then renames the index copy into place and removes blob files no
/// longer referenced. The directory database is copied first, into memory; accounts created after that
/// are not in this run, accounts erased meanwhile are dropped from the copy.
///
/// No Backup accounts never reach DIR: not their index (mailbox names), blobs, or queue files, and their
/// rows, aliases and queue entries are deleted from the in-memory directory copy before it is written with
/// `VACUUM INTO` (a fresh file, so no freed page keeps their address).
public struct StoreBackup: Sendable {
    public let layout: StorageLayout
    public let destination: String

    public init(layout: StorageLayout, destination: String) {
        self.layout = layout
        self.destination = destination
    }

    public func run(now: Date = Date()) throws -> BackupReport {
        guard DurableCopy.size(layout.directoryDatabase) != nil else { throw AdminError.noStore(layout.dataDir) }
        for store in [layout.dataDir, layout.nobackupDir]
        where DurableCopy.contains(store, destination) || DurableCopy.contains(destination, store) {
            throw AdminError.destinationOverlapsStore(destination, store: store)
        }
        try prepareDestination()
        guard let lock = try FileLock(path: destination + "/.lock") else { throw AdminError.backupInUse(destination) }
        defer { lock.release() }

        var report = BackupReport()
        let directory = try DirectoryDatabaseCopy(copying: layout.directoryDatabase)
        let accounts = try directory.accounts()
        let excluded = Set(accounts.filter(\.noBackup).map(\.id))
        report.noBackupAccounts = excluded.count
        try directory.removeAccounts(excluded)

        var kept: [String] = []
        var gone: Set<String> = []
        try DurableCopy.ensureDirectory(destination + "/accounts")
        for account in accounts where !account.noBackup {
            guard StoreID.isValid(account.id) else { throw AdminError.io("account id \"\(account.id)\" is malformed") }
            let source = layout.dataDir + "/accounts/" + account.id
            guard DurableCopy.size(AccountIndex.databasePath(folder: source)) != nil else {
                gone.insert(account.id)  // erased after the directory was copied
                continue
            }
            try backUpAccount(from: source, to: destination + "/accounts/" + account.id, report: &report)
            kept.append(account.id)
        }
        try directory.removeAccounts(gone)
        // Folders of accounts erased or turned No Backup since the last run.
        for name in DurableCopy.entries(destination + "/accounts") where !kept.contains(name) {
            try DurableCopy.remove(destination + "/accounts/" + name)
        }

        let queued = try backUpQueue(directory)
        report.queuedMessages = queued
        report.accounts = kept.count

        let database = destination + "/skjold.sqlite"
        let temporary = database + ".partial"
        try DurableCopy.remove(temporary)
        try directory.write(to: temporary)
        try DurableCopy.fsyncPath(temporary, directory: false)
        guard rename(temporary, database) == 0 else { throw DurableCopy.failure("rename", temporary) }

        let manifest = BackupManifest(created: now, accounts: kept, messages: report.messages, queuedMessages: queued)
        try DurableCopy.writeFile(try manifest.encoded(), to: destination + "/" + BackupManifest.fileName)
        try DurableCopy.fsyncPath(destination, directory: true)
        return report
    }

    /// DIR may be missing, empty, or an earlier backup (updated incrementally); anything else is refused,
    /// since a run removes files it does not know.
    func prepareDestination() throws {
        if DurableCopy.isDirectory(destination) {
            let entries = DurableCopy.entries(destination).filter { $0 != ".lock" }
            if !entries.isEmpty, !entries.contains(BackupManifest.fileName) {
                throw AdminError.io("\(destination) is not empty and holds no Skjold backup (no manifest.json): choose an empty folder")
            }
            if entries.contains(BackupManifest.fileName) { _ = try BackupManifest.read(folder: destination) }
        } else if FileManager.default.fileExists(atPath: destination) {
            throw AdminError.io("\(destination) exists and is not a directory")
        }
        try DurableCopy.ensureDirectory(destination)
    }

    func backUpAccount(from source: String, to target: String, report: inout BackupReport) throws {
        try DurableCopy.ensureDirectory(target + "/blobs")
        let database = AccountIndex.databasePath(folder: target)
        let copy = database + ".partial"
        // 1. One committed state of the index.
        try OnlineBackup.copyDatabase(from: AccountIndex.databasePath(folder: source), to: copy)
        var blobs = try AccountIndex.referencedBlobs(databasePath: copy)
        // 2. The blobs it references: new ones copied, unchanged ones (immutable, same size) kept.
        var vanished: Set<String> = []
        var touched: Set<String> = []
        for (blob, size) in blobs.sorted(by: { $0.key < $1.key }) {
            guard StoreID.isValid(blob) else { throw AdminError.io("blob id \"\(blob)\" in \(source) is malformed") }
            let to = AccountIndex.blobPath(folder: target, blobID: blob)
            if DurableCopy.size(to) == size {
                report.blobsUnchanged += 1
                continue
            }
            let shard = target + "/blobs/" + blob.prefix(2)
            try DurableCopy.ensureDirectory(shard)
            guard let copied = try DurableCopy.copyFile(AccountIndex.blobPath(folder: source, blobID: blob), to: to) else {
                vanished.insert(blob)
                continue
            }
            guard copied == size else { throw AdminError.io("message file \(blob) in \(source) has \(copied) bytes, its index says \(size)") }
            touched.insert(shard)
            report.blobsCopied += 1
            report.bytesCopied &+= copied
        }
        if !vanished.isEmpty {
            // Expunged since step 1 (the invariant), or already missing from the live store: either way the
            // copy must not name a file the backup does not hold.
            let missing = try AccountIndex.stillReferenced(vanished, databasePath: AccountIndex.databasePath(folder: source))
            report.missingBlobs += missing.count
            let dropped = try AccountIndex.dropMessages(withBlobs: vanished, inCopy: copy)
            report.expungedDuringBackup += max(0, dropped - missing.count)
            for blob in vanished { blobs[blob] = nil }
        }
        for shard in touched.sorted() { try DurableCopy.fsyncPath(shard, directory: true) }
        try DurableCopy.fsyncPath(target + "/blobs", directory: true)
        // 3. The index into place, then the blobs nothing references any more.
        try DurableCopy.fsyncPath(copy, directory: false)
        guard rename(copy, database) == 0 else { throw DurableCopy.failure("rename", copy) }
        try DurableCopy.fsyncPath(target, directory: true)
        report.messages += try AccountIndex.snapshot(databasePath: database).reduce(0) { $0 + $1.messages.count }
        for shard in DurableCopy.entries(target + "/blobs") {
            let folder = target + "/blobs/" + shard
            for name in DurableCopy.entries(folder) where blobs[name] == nil {
                try DurableCopy.remove(folder + "/" + name)
                if !name.hasSuffix(".partial") { report.blobsRemoved += 1 }
            }
        }
    }

    /// Queue files of the entries in the directory copy (No Backup accounts' already removed from it).
    /// Returns how many entries the backup holds.
    func backUpQueue(_ directory: DirectoryDatabaseCopy) throws -> Int {
        let target = destination + "/queue"
        try DurableCopy.ensureDirectory(target)
        var kept: Set<String> = []
        var vanished: Set<String> = []
        for id in try directory.queueEntries() {
            guard StoreID.isValid(id) else { throw AdminError.io("queue id \"\(id)\" is malformed") }
            let source = layout.dataDir + "/queue/" + id
            let to = target + "/" + id
            if let size = DurableCopy.size(source), DurableCopy.size(to) == size {
                kept.insert(id)
            } else if try DurableCopy.copyFile(source, to: to) != nil {
                kept.insert(id)
            } else {
                vanished.insert(id)  // delivered or removed since the directory was copied
            }
        }
        try directory.removeQueueEntries(vanished)
        for name in DurableCopy.entries(target) where !kept.contains(name) {
            try DurableCopy.remove(target + "/" + name)
        }
        try DurableCopy.fsyncPath(target, directory: true)
        return kept.count
    }
}

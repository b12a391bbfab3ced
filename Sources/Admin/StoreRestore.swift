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

/// What a restore brought back.
public struct RestoreReport: Sendable, Equatable {
    public var accounts = 0
    public var messages = 0
    public var bytes: Int64 = 0
    public var queuedMessages = 0
}

/// `skjold restore --from DIR`: copies a backup made by `StoreBackup` into an empty (or missing) data
/// directory. Everything is assembled and checked in a sibling staging folder first (every database passes
/// `quick_check`, every message file the indexes name is there with its size) and then renamed into place,
/// so a failed restore leaves the data directory as it was. Indexes are copied as they are, so every mailbox
/// keeps its UIDVALIDITY, UIDs and MODSEQs.
public struct StoreRestore: Sendable {
    public let layout: StorageLayout
    public let source: String

    public init(layout: StorageLayout, source: String) {
        self.layout = layout
        self.source = source
    }

    public func run() throws -> RestoreReport {
        let manifest = try BackupManifest.read(folder: source)
        let target = layout.dataDir
        if DurableCopy.isDirectory(target) {
            if !DurableCopy.entries(target).isEmpty { throw AdminError.destinationNotEmpty(target) }
        } else if FileManager.default.fileExists(atPath: target) {
            throw AdminError.destinationNotEmpty(target)
        }
        let parent = (target as NSString).deletingLastPathComponent
        try DurableCopy.ensureDirectory(parent)
        let staging = parent + "/.skjold-restore-" + RandomID.make()
        try DurableCopy.ensureDirectory(staging)
        var done = false
        defer { if !done { try? DurableCopy.remove(staging) } }

        var report = RestoreReport()
        let directoryCopy = staging + "/skjold.sqlite"
        guard try DurableCopy.copyFile(source + "/skjold.sqlite", to: directoryCopy) != nil else {
            throw AdminError.brokenBackup("skjold.sqlite is missing")
        }
        if let problem = try AccountIndex.problem(databasePath: directoryCopy) { throw AdminError.brokenBackup("skjold.sqlite: \(problem)") }
        let directory = try DirectoryDatabaseCopy(copying: directoryCopy)
        let accounts = try directory.accounts()
        guard Set(accounts.map(\.id)) == Set(manifest.accounts) else {
            throw AdminError.brokenBackup("the accounts in skjold.sqlite differ from manifest.json")
        }
        try DurableCopy.ensureDirectory(staging + "/accounts")
        for account in accounts {
            guard StoreID.isValid(account.id), !account.noBackup else { throw AdminError.brokenBackup("account \"\(account.id)\" cannot be restored") }
            let (messages, bytes) = try restoreAccount(from: source + "/accounts/" + account.id, to: staging + "/accounts/" + account.id)
            report.accounts += 1
            report.messages += messages
            report.bytes &+= bytes
        }
        try DurableCopy.ensureDirectory(staging + "/queue")
        for id in try directory.queueEntries() {
            guard StoreID.isValid(id) else { throw AdminError.brokenBackup("queue id \"\(id)\" is malformed") }
            guard try DurableCopy.copyFile(source + "/queue/" + id, to: staging + "/queue/" + id) != nil else {
                throw AdminError.brokenBackup("queued message \(id) is missing")
            }
            report.queuedMessages += 1
        }
        try DurableCopy.fsyncPath(staging + "/queue", directory: true)
        try DurableCopy.fsyncPath(staging + "/accounts", directory: true)
        try DurableCopy.fsyncPath(staging, directory: true)

        // An existing target is empty (checked above); rename(2) replaces an empty directory.
        guard rename(staging, target) == 0 else { throw DurableCopy.failure("rename \(staging) to", target) }
        done = true
        try DurableCopy.fsyncPath(parent, directory: true)
        return report
    }

    func restoreAccount(from folder: String, to target: String) throws -> (messages: Int, bytes: Int64) {
        try DurableCopy.ensureDirectory(target + "/blobs")
        let database = AccountIndex.databasePath(folder: target)
        guard try DurableCopy.copyFile(AccountIndex.databasePath(folder: folder), to: database) != nil else {
            throw AdminError.brokenBackup("\(folder)/mail.sqlite is missing")
        }
        if let problem = try AccountIndex.problem(databasePath: database) { throw AdminError.brokenBackup("\(folder)/mail.sqlite: \(problem)") }
        var bytes: Int64 = 0
        var shards: Set<String> = []
        for (blob, size) in try AccountIndex.referencedBlobs(databasePath: database).sorted(by: { $0.key < $1.key }) {
            guard StoreID.isValid(blob) else { throw AdminError.brokenBackup("blob id \"\(blob)\" in \(folder) is malformed") }
            let shard = target + "/blobs/" + blob.prefix(2)
            if !shards.contains(shard) {
                try DurableCopy.ensureDirectory(shard)
                shards.insert(shard)
            }
            let copied = try DurableCopy.copyFile(AccountIndex.blobPath(folder: folder, blobID: blob),
                                                  to: AccountIndex.blobPath(folder: target, blobID: blob))
            guard copied == size else { throw AdminError.brokenBackup("message file \(blob) in \(folder) is missing or has the wrong size") }
            bytes &+= size
        }
        for shard in shards.sorted() { try DurableCopy.fsyncPath(shard, directory: true) }
        try DurableCopy.fsyncPath(target + "/blobs", directory: true)
        try DurableCopy.fsyncPath(target, directory: true)
        let messages = try AccountIndex.snapshot(databasePath: database).reduce(0) { $0 + $1.messages.count }
        return (messages, bytes)
    }
}

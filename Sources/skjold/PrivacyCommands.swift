import Admin
import ArgumentParser
import Foundation
import MailStore
import MailStoreSQLite
import SkjoldConfig

/// `skjold backup --to DIR`: a consistent, incremental copy of every normal account (never No Backup ones).
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the store into DIR while the server runs (incremental; No Backup accounts left out).")
    @OptionGroup var options: StoreOptions
    @Option(name: .customLong("to"), help: "Backup folder: missing, empty, or an earlier backup to update.")
    var destination: String

    func run() async throws {
        let config = try options.resolveConfig()
        let layout = StoreLayouts.layout(config)
        let destination = StoreOptions.absolute(self.destination)
        let report = try await adminTask { try StoreBackup(layout: layout, destination: destination).run() }
        print("backed up \(report.accounts) account(s), \(report.messages) message(s), \(report.queuedMessages) queued message(s) to \(destination)")
        print("copied \(report.blobsCopied) message file(s) (\(ByteSize.format(report.bytesCopied))), \(report.blobsUnchanged) unchanged, \(report.blobsRemoved) removed")
        if report.noBackupAccounts > 0 { print("left out \(report.noBackupAccounts) No Backup account(s)") }
        if report.expungedDuringBackup > 0 { print("left out \(report.expungedDuringBackup) message(s) expunged during the backup") }
        if report.missingBlobs > 0 {
            FileHandle.standardError.write(Data("skjold: warning: \(report.missingBlobs) message file(s) named by the store are missing and were left out\n".utf8))
        }
    }
}

/// `skjold restore --from DIR`: a backup back into an empty data directory.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup made by `skjold backup` into an empty (or missing) data directory.")
    @OptionGroup var options: StoreOptions
    @Option(name: .customLong("from"), help: "Backup folder written by `skjold backup --to`.")
    var source: String

    func run() async throws {
        let config = try options.resolveConfig()
        let layout = StoreLayouts.layout(config)
        let source = StoreOptions.absolute(self.source)
        let report = try await adminTask { try StoreRestore(layout: layout, source: source).run() }
        print("restored \(report.accounts) account(s), \(report.messages) message(s) (\(ByteSize.format(report.bytes))), \(report.queuedMessages) queued message(s) from \(source) into \(layout.dataDir)")
    }
}

/// `skjold export ADDRESS --to FILE`: one account's mailboxes as a tar of a Maildir++ tree.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write an account's mailboxes to FILE as a tar of a Maildir++ tree (see README).")
    @OptionGroup var options: StoreOptions
    @Argument var address: String
    @Option(name: .customLong("to"), help: "The .tar file to create (must not exist).")
    var destination: String

    func run() async throws {
        // Reads the store and writes FILE where the admin asked: stays root.
        let (_, store) = try options.open(asServiceUser: false)
        guard let account = try await store.directory.account(address) else {
            throw DirectoryError.noSuchAccount((try? EmailAddress(address).given) ?? address)
        }
        let folder = store.layout.folder(for: account)
        let destination = StoreOptions.absolute(self.destination)
        let report = try await adminTask { try MaildirExport(accountFolder: folder, destination: destination).run() }
        print("exported \(account.address): \(report.mailboxes) mailbox(es), \(report.messages) message(s) (\(ByteSize.format(report.bytes))) to \(destination)")
        if report.skipped > 0 { print("left out \(report.skipped) message(s) expunged during the export") }
    }
}

enum StoreLayouts {
    static func layout(_ config: SkjoldConfig) -> StorageLayout {
        StorageLayout(dataDir: config.dataDir, nobackupDir: config.nobackupDir)
    }
}

/// Runs blocking file and database work off the cooperative pool and turns its failures into one line.
func adminTask<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    do {
        return try await Task.detached { try work() }.value
    } catch let error as AdminError {
        throw CLIError(message: error.description)
    } catch let error as MailStoreError {
        throw CLIError(message: error.description)
    } catch let error as CLIError {
        throw error
    } catch {
        throw CLIError(message: "storage error: \(error)".replacingOccurrences(of: "\n", with: " "))
    }
}

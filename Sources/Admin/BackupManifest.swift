import Foundation

/// `manifest.json` at the top of a backup folder: what it is, when it was made, which accounts it holds.
/// Written last by every backup run, so its presence says the folder holds a complete backup.
public struct BackupManifest: Codable, Sendable, Equatable {
    public static let formatName = "skjold-backup"
    public static let currentVersion = 1
    public static let fileName = "manifest.json"

    public var format: String
    public var version: Int
    /// ISO 8601, UTC, when the run started.
    public var created: String
    /// Ids of the accounts in the backup (never a No Backup account's).
    public var accounts: [String]
    public var messages: Int
    public var queuedMessages: Int

    public init(created: Date, accounts: [String], messages: Int, queuedMessages: Int) {
        format = Self.formatName
        version = Self.currentVersion
        self.created = created.formatted(.iso8601)
        self.accounts = accounts
        self.messages = messages
        self.queuedMessages = queuedMessages
    }

    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try encoder.encode(self)) + [0x0A]
    }

    /// Reads and checks the manifest of the backup folder `folder`.
    public static func read(folder: String) throws -> BackupManifest {
        guard let data = FileManager.default.contents(atPath: folder + "/" + fileName) else { throw AdminError.notABackup(folder) }
        guard let manifest = try? JSONDecoder().decode(BackupManifest.self, from: data), manifest.format == formatName else {
            throw AdminError.unsupportedBackup(folder, found: "unreadable manifest.json")
        }
        guard manifest.version == currentVersion else {
            throw AdminError.unsupportedBackup(folder, found: "format version \(manifest.version)")
        }
        return manifest
    }
}

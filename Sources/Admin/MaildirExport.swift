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

/// What an export wrote.
public struct ExportReport: Sendable, Equatable {
    public var mailboxes = 0
    public var messages = 0
    public var bytes: Int64 = 0
    /// Messages expunged between reading the index and reading their bytes, left out.
    public var skipped = 0
}

/// Maildir++ naming (Courier, Dovecot `LAYOUT=maildir++`; Python's `mailbox.Maildir` folders).
///
/// The archive holds one folder `Maildir/`: INBOX is its top level (`Maildir/cur|new|tmp`), every other
/// mailbox a folder `Maildir/.<name>` whose hierarchy levels are joined by "." (`Archive/2024` becomes
/// `.Archive.2024`, `INBOX/Lists` becomes `.INBOX.Lists`); a "." or "%" inside a level is written `%2E` /
/// `%25`, so a name can never form a path of its own. Messages are in `cur/`, named
/// `<internal date>.U<uid>V<uidvalidity>.skjold:2,<flags>` (Maildir "info" flags, ASCII order): \Draft D,
/// \Flagged F, \Answered R, \Seen S, \Deleted T; keywords as the letters a–z listed in the folder's
/// `dovecot-keywords` file (Dovecot's format, the first 26 keywords). The file's modification time is the
/// message's internal date. Bytes are exactly as stored, trace headers included.
public enum MaildirNaming {
    public static let root = "Maildir"

    /// The folder of a mailbox inside the archive (without a trailing "/").
    public static func folder(for mailbox: String) -> String {
        if mailbox == "INBOX" { return root }
        let levels = mailbox.split(separator: "/", omittingEmptySubsequences: false).map { level in
            level.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: ".", with: "%2E")
        }
        return root + "/." + levels.joined(separator: ".")
    }

    /// The Maildir info letter of a system flag (case-insensitive, RFC 9051 §2.3.2).
    public static func letter(for flag: String) -> Character? {
        switch flag.lowercased() {
        case "\\draft": return "D"
        case "\\flagged": return "F"
        case "\\answered": return "R"
        case "\\seen": return "S"
        case "\\deleted": return "T"
        default: return nil
        }
    }

    public static func fileName(_ message: MessageRecord, uidValidity: UIDValidity, keywordLetters: [String: Character]) -> String {
        var letters = message.flags.compactMap(letter(for:))
        letters += message.flags.compactMap { keywordLetters[$0] }
        let date = Int64(message.internalDate.timeIntervalSince1970)
        return "\(date).U\(message.uid)V\(uidValidity).skjold:2," + String(letters.sorted())
    }
}

/// `skjold export ADDRESS --to FILE`: one account's whole mailbox tree as a tar of a Maildir++ tree (see
/// `MaildirNaming`), read through read-only connections while the server runs. The mailbox list and message
/// list come from one read transaction; a message expunged before its bytes are read is left out (and
/// counted). The archive is written to `FILE.partial`, fsync'd and renamed, so FILE is always complete.
public struct MaildirExport: Sendable {
    public let folder: String
    public let destination: String

    /// `folder`: the account's folder (`StorageLayout.folder(for:)`).
    public init(accountFolder folder: String, destination: String) {
        self.folder = folder
        self.destination = destination
    }

    public func run(now: Date = Date()) throws -> ExportReport {
        if FileManager.default.fileExists(atPath: destination) { throw AdminError.exists(destination) }
        let mailboxes = try AccountIndex.snapshot(databasePath: AccountIndex.databasePath(folder: folder))
        let temporary = destination + ".partial"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DurableCopy.failure("create", temporary) }
        var done = false
        defer {
            close(fd)
            if !done { unlink(temporary) }
        }
        let stamp = Int64(now.timeIntervalSince1970)
        func emit(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try DurableCopy.writeAll(fd, $0, path: temporary) }
        }
        func directory(_ path: String) throws {
            try emit(TarArchive.headers(for: .init(path: path + "/", type: .directory, modified: stamp)))
        }
        func file(_ path: String, _ content: [UInt8], modified: Int64) throws {
            try emit(TarArchive.headers(for: .init(path: path, type: .file, size: Int64(content.count), modified: modified)))
            try emit(content)
            try emit(TarArchive.padding(for: Int64(content.count)))
        }

        var report = ExportReport()
        // INBOX is the root and must come first even if (say) a hierarchy sorted before it.
        let ordered = mailboxes.filter { $0.name == "INBOX" } + mailboxes.filter { $0.name != "INBOX" }
        if !ordered.contains(where: { $0.name == "INBOX" }) {
            try directory(MaildirNaming.root)
            for sub in ["cur", "new", "tmp"] { try directory(MaildirNaming.root + "/" + sub) }
        }
        for mailbox in ordered {
            let base = MaildirNaming.folder(for: mailbox.name)
            try directory(base)
            for sub in ["cur", "new", "tmp"] { try directory(base + "/" + sub) }
            if mailbox.name != "INBOX" { try file(base + "/maildirfolder", [], modified: stamp) }
            // Keywords: first come, first lettered, a–z (Dovecot's dovecot-keywords).
            var keywordLetters: [String: Character] = [:]
            var keywordLines = ""
            for keyword in Set(mailbox.messages.flatMap(\.flags)).filter({ !$0.hasPrefix("\\") }).sorted()
            where keywordLetters.count < 26 {
                let scalar = Unicode.Scalar(UInt8(0x61 + keywordLetters.count))
                keywordLines += "\(keywordLetters.count) \(keyword)\n"
                keywordLetters[keyword] = Character(scalar)
            }
            if !keywordLines.isEmpty { try file(base + "/dovecot-keywords", Array(keywordLines.utf8), modified: stamp) }
            report.mailboxes += 1
            for message in mailbox.messages {
                let name = base + "/cur/" + MaildirNaming.fileName(message, uidValidity: mailbox.uidValidity, keywordLetters: keywordLetters)
                if let size = try copyMessage(message.blobID, as: name, modified: Int64(message.internalDate.timeIntervalSince1970),
                                              into: fd, archivePath: temporary) {
                    report.messages += 1
                    report.bytes &+= size
                } else {
                    report.skipped += 1
                }
            }
        }
        try emit(TarArchive.trailer)
        guard fsync(fd) == 0 else { throw DurableCopy.failure("fsync", temporary) }
        guard rename(temporary, destination) == 0 else { throw DurableCopy.failure("rename", temporary) }
        done = true
        let parent = (destination as NSString).deletingLastPathComponent
        try? DurableCopy.fsyncPath(parent.isEmpty ? "." : parent, directory: true)
        return report
    }

    /// Streams one blob into the archive; nil when it is gone (expunged since the index was read). The size in
    /// the header is the open file's, so the entry is exact even if the index row and file ever disagreed.
    func copyMessage(_ blobID: String, as path: String, modified: Int64, into fd: Int32, archivePath: String) throws -> Int64? {
        guard StoreID.isValid(blobID) else { throw AdminError.io("blob id \"\(blobID)\" in \(folder) is malformed") }
        let source = AccountIndex.blobPath(folder: folder, blobID: blobID)
        let input = open(source, O_RDONLY | O_CLOEXEC)
        if input < 0 {
            if errno == ENOENT { return nil }
            throw DurableCopy.failure("open", source)
        }
        defer { close(input) }
        var info = stat()
        guard fstat(input, &info) == 0 else { throw DurableCopy.failure("stat", source) }
        let size = Int64(info.st_size)
        let header = TarArchive.headers(for: .init(path: path, type: .file, size: size, modified: modified))
        try header.withUnsafeBytes { try DurableCopy.writeAll(fd, $0, path: archivePath) }
        let copied = try DurableCopy.pump(from: input, source: source, to: fd, destination: archivePath)
        // Blobs are immutable; a different length would corrupt every later entry of the archive.
        guard copied == size else { throw AdminError.io("message file \(source) changed while it was exported") }
        try TarArchive.padding(for: size).withUnsafeBytes { try DurableCopy.writeAll(fd, $0, path: archivePath) }
        return size
    }
}

import Foundation
import MailStore
import MailTesting
import Testing

/// A real sync client: mbsync (Debian package isync) over IMAPS between the server and a local Maildir,
/// both ways, several rounds. SKJOLD_MBSYNC_MESSAGES sets the INBOX size (default 300; the issue's
/// acceptance figure is 2000).
@Suite struct IMAPMbsyncTests {
    static let mbsync = ["/usr/bin/mbsync", "/usr/local/bin/mbsync"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static func run(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mbsync ?? "/usr/bin/mbsync")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Message files of a Maildir folder (cur and new).
    static func files(_ folder: String) -> [String] {
        var out: [String] = []
        for sub in ["cur", "new"] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder + "/" + sub)) ?? []
            for name in names { out.append(folder + "/" + sub + "/" + name) }
        }
        return out
    }

    /// The Maildir info flags of a file name (after ":2,").
    static func flags(_ path: String) -> String {
        let name = (path as NSString).lastPathComponent
        guard let range = name.range(of: ":2,") else { return "" }
        return String(name[range.upperBound...])
    }

    @Test(.enabled(if: mbsync != nil, "mbsync (isync) not installed"))
    func mbsyncSyncsAMailboxTreeBothWays() async throws {
        let count = Int(ProcessInfo.processInfo.environment["SKJOLD_MBSYNC_MESSAGES"] ?? "") ?? 300
        let server = try await IMAPTestServer(maximumMessageSize: 10 << 20)
        defer { Task { await server.stop() } }
        let mail = try #require(try await server.mail() as? any IMAPAccountStore)
        _ = try await mail.createMailbox("Work", specialUse: nil)
        _ = try await mail.createMailbox("Work/Projects", specialUse: nil)
        try await server.deliverMany(count) { i in
            "From: sender\(i)@example.org\r\nTo: alice@example.test\r\nSubject: message \(i)\r\nMessage-ID: <m\(i)@example.org>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nbody \(i)\r\n"
        }
        for i in 0..<5 {
            try await server.deliver("From: boss@example.org\r\nSubject: project \(i)\r\nMessage-ID: <p\(i)@example.org>\r\n\r\nplan \(i)\r\n",
                                     to: "Work/Projects")
        }
        let local = server.directory + "/maildir"
        try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
        let config = server.directory + "/mbsyncrc"
        try """
            IMAPAccount skjold
            Host 127.0.0.1
            Port \(server.tlsPort)
            User alice@example.test
            Pass "\(IMAPTestServer.password)"
            SSLType IMAPS
            CertificateFile \(IMAPTestServer.certificatePath)

            IMAPStore remote
            Account skjold

            MaildirStore local
            Path \(local)/
            Inbox \(local)/INBOX
            SubFolders Verbatim

            Channel all
            Far :remote:
            Near :local:
            Patterns *
            Create Both
            Remove None
            Expunge Both
            SyncState *
            Sync All

            """.write(toFile: config, atomically: true, encoding: .utf8)
        func sync() async throws {
            let (status, output) = try await blocking { try Self.run(["-c", config, "-a"]) }
            #expect(status == 0, "mbsync failed: \(output)")
        }

        // Round 1: server → Maildir, the whole tree.
        let start = ContinuousClock.now
        try await sync()
        print("mbsync first sync of \(count + 5) messages: \(ContinuousClock.now - start)")
        #expect(Self.files(local + "/INBOX").count == count)
        #expect(Self.files(local + "/Work/Projects").count == 5)
        #expect(FileManager.default.fileExists(atPath: local + "/Sent"))

        // Round 2: Maildir → server: a flag, a deletion, a new message.
        let inboxFiles = Self.files(local + "/INBOX").sorted()
        let flagged = try #require(inboxFiles.first)
        let flaggedName = (flagged as NSString).lastPathComponent
        let base = flaggedName.components(separatedBy: ":2,").first ?? flaggedName
        try FileManager.default.moveItem(atPath: flagged, toPath: local + "/INBOX/cur/" + base + ":2,F")
        try FileManager.default.removeItem(atPath: inboxFiles[1])
        let newMessage = "From: alice@example.test\r\nSubject: written offline\r\nMessage-ID: <offline@example.test>\r\n\r\nhello from the maildir\r\n"
        try newMessage.write(toFile: local + "/Work/Projects/new/1700000000.1.local", atomically: true, encoding: .utf8)
        try await sync()
        let inbox = try #require(try await mail.mailbox(named: "INBOX"))
        let serverInbox = try await mail.messages(in: "INBOX")
        #expect(serverInbox.count == count - 1)
        #expect(serverInbox.filter { $0.flags.contains("\\Flagged") }.count == 1)
        #expect(try await mail.messages(in: "Work/Projects").count == 6)

        // Round 3: server → Maildir: a flag set over IMAP arrives; nothing is duplicated.
        let seenUID = try #require(serverInbox.last?.uid)
        _ = try await mail.updateFlags(mailboxID: inbox.id, uids: [seenUID], change: .add, flags: ["\\Seen"], unchangedSince: nil)
        try await sync()
        try await sync()
        let after = Self.files(local + "/INBOX")
        #expect(after.count == count - 1)
        #expect(after.filter { Self.flags($0).contains("S") }.count == 1)
        #expect(after.filter { Self.flags($0).contains("F") }.count == 1)
        #expect(Self.files(local + "/Work/Projects").count == 6)
        #expect(try await mail.messages(in: "Work/Projects").count == 6)
        #expect(try await mail.messages(in: "INBOX").count == count - 1)
    }
}

import Admin
import Foundation
import MailStore
import MailStoreSQLite
import Testing

extension AdminSuite {
    /// `skjold export`: a tar of a Maildir++ tree that Python's tarfile and mailbox.Maildir open.
    @Suite("export")
    struct ExportTests {
        /// Extracts the archive and prints, per message: folder ("" for INBOX), flags, hex of the bytes.
        static let readExport = """
            import mailbox, sys, tarfile, tempfile, os
            archive = sys.argv[1]
            target = tempfile.mkdtemp()
            with tarfile.open(archive) as tar:
                for member in tar.getmembers():
                    assert not member.name.startswith("/") and ".." not in member.name.split("/"), member.name
                tar.extractall(target)
            root = mailbox.Maildir(os.path.join(target, "Maildir"), factory=None, create=False)
            def dump(box, name):
                for key in box.keys():
                    message = box.get_message(key)
                    print("M", name, message.get_subdir(), message.get_flags() or "-", box.get_bytes(key).hex())
            dump(root, "")
            for folder in root.list_folders():
                print("F", folder)
                dump(root.get_folder(folder), folder)
            """

        @Test("export while the server runs round-trips every message byte-exact with its flags, through tarfile and mailbox.Maildir")
        func exportRoundTrip() async throws {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let data = scratch.data.path
            let archive = scratch.url.appendingPathComponent("demo.tar").path
            // Mailboxes that stress the naming: hierarchy, a dot in a name, non-ASCII, a very long name (pax).
            let longName = "Projects/" + String(repeating: "verylongfoldername", count: 12)
            let boxes = ["Archive/2024", "Lists.dev", "Reçus", longName]
            var expected: [String: [(flags: String, bytes: String)]] = [:]

            try await withDevServer(data: scratch.data, in: scratch.url) { _, report in
                let smtp = try report.port("smtp")
                let delivered = try await python(Scripts.deliver, [String(smtp), "3", "export", "demo@skjold.test"], in: scratch.url)
                try #require(delivered.status == 0, "\(delivered)")
                let store = try SQLiteMailStore(layout: StorageLayout(dataDir: data, nobackupDir: data + "/nobackup"),
                                                plans: BackupRestoreTests.plans)
                let demo = try #require(try await store.directory.account("demo@skjold.test"))
                let mail = try await store.mail(for: demo)
                let inbox = try await mail.messages(in: "INBOX")
                try await mail.setFlags(in: "INBOX", uids: [inbox[0].uid], flags: ["\\Seen", "\\Answered", "\\Flagged", "$Label1"])
                try await mail.setFlags(in: "INBOX", uids: [inbox[1].uid], flags: ["\\Deleted", "\\Draft", "\\seen"])
                for (i, box) in boxes.enumerated() {
                    _ = try await mail.createMailbox(box, specialUse: nil)
                    // Bytes Maildir must not touch: a bare LF line, a leading "From ", binary.
                    let body: [UInt8] = Array("From nobody\r\nSubject: \(box)\r\n\r\nline\nFrom here\r\n".utf8) + [0, 0xFF, 0x0D, UInt8(i)]
                    _ = try await mail.deliver(.bytes(body), to: box, flags: i == 0 ? ["\\Flagged"] : [], internalDate: Date(timeIntervalSince1970: 1_700_000_000))
                }
                for box in try await mail.mailboxes() {
                    let folder = box.name == "INBOX" ? "" : String(MaildirNaming.folder(for: box.name).dropFirst("Maildir/.".count))
                    expected[folder, default: []] += []
                    for message in try await mail.messages(in: box.name) {
                        let letters = String(message.flags.compactMap(MaildirNaming.letter(for:)).sorted())
                        let keywords = message.flags.contains("$Label1") ? "a" : ""
                        let flags = letters + keywords
                        let bytes = try await mail.messageBytes(in: box.name, uid: message.uid)
                        expected[folder, default: []].append((flags.isEmpty ? "-" : flags, bytes.map { String(format: "%02x", $0) }.joined()))
                    }
                }

                let export = try await Child.skjold(["export", "Demo@skjold.test", "--to", archive, "--data", data], in: scratch.url)
                #expect(export.status == 0, "\(export)")
                #expect(export.stdoutLines.first?.hasPrefix("exported demo@skjold.test: \(6 + boxes.count) mailbox(es), \(3 + boxes.count) message(s)") == true, "\(export)")

                let again = try await Child.skjold(["export", "demo@skjold.test", "--to", archive, "--data", data], in: scratch.url)
                #expect(again.status == 1)
                #expect(again.stderrLines == ["skjold: \(archive) already exists"], "\(again)")
                let unknown = try await Child.skjold(["export", "nobody@skjold.test", "--to", archive + "2", "--data", data], in: scratch.url)
                #expect(unknown.status == 1)
                #expect(unknown.stderrLines == ["skjold: no account \"nobody@skjold.test\""], "\(unknown)")
                #expect(!FileManager.default.fileExists(atPath: archive + "2"))
            }

            let read = try await python(Self.readExport, [archive], in: scratch.url)
            try #require(read.status == 0, "\(read)")
            var found: [String: [(flags: String, bytes: String)]] = [:]
            var folders: [String] = []
            for line in read.stdoutLines {
                let fields = line.components(separatedBy: " ")
                if fields.first == "F" { folders.append(fields.dropFirst().joined(separator: " ")) }
                if fields.first == "M", fields.count == 5 {
                    #expect(fields[2] == "cur")
                    found[fields[1], default: []].append((fields[3], fields[4]))
                }
            }
            #expect(Set(folders) == Set(expected.keys.filter { !$0.isEmpty }), "\(read.stdout)")
            #expect(folders.contains("Archive.2024") && folders.contains("Lists%2Edev") && folders.contains("Reçus"))
            for (folder, messages) in expected {
                let got = found[folder] ?? []
                #expect(got.count == messages.count, "folder \(folder)")
                for message in messages {
                    #expect(got.contains { $0.flags == message.flags && $0.bytes == message.bytes }, "folder \(folder): a message with flags \(message.flags) is missing or differs")
                }
            }
        }
    }
}

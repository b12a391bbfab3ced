import Foundation
import MailStore
import MailStoreSQLite
import Testing

extension AdminSuite {
    /// `skjold backup` while SMTP deliveries run, `skjold restore` into an empty data directory, and a
    /// restored server that serves the same messages under the same UIDs.
    @Suite("backup and restore")
    struct BackupRestoreTests {
        static let plans = PlanCatalog(names: ["standard", "max"], aliasLimits: [:])

        /// Lists the restored server's maildrop over POP3 (STLS, USER/PASS): `<UIDL> <hex of the message>` per
        /// message, the bytes as RETR returns them (dot-unstuffed lines joined with CRLF).
        static let popList = """
            import poplib, ssl, sys
            port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            pop = poplib.POP3("127.0.0.1", port, timeout=30)
            pop.stls(context)
            pop.user(user)
            pop.pass_(password)
            for entry in pop.uidl()[1]:
                number, uidl = entry.decode().split()
                lines = pop.retr(int(number))[1]
                print(uidl, (b"\\r\\n".join(lines) + b"\\r\\n").hex())
            pop.quit()
            """

        @Test("backup during SMTP load, then restore: every message acknowledged before the backup is back byte-exact with its UID; nothing of a No Backup account is in the backup")
        func backupWhileDeliveringThenRestore() async throws {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let data = scratch.data.path
            let backup = scratch.url.appendingPathComponent("backup").path
            let restored = scratch.url.appendingPathComponent("restored").path
            let hiddenLocal = uniqueToken("nbuser")
            let hiddenAddress = hiddenLocal + "@skjold.test"
            let aliasLocal = uniqueToken("nbalias")
            let hiddenMarker = uniqueToken("NBMARKER")
            let hiddenMailbox = uniqueToken("NBBOX")
            var acknowledged: [String] = []
            var demoPassword = ""
            var hiddenID = ""

            try await withDevServer(data: scratch.data, in: scratch.url) { _, report in
                demoPassword = try #require(report.demoPassword)
                let smtp = try report.port("smtp")
                let submission = try report.port("submission")

                // A No Backup account with an alias, a mailbox of its own, mail, and a queued message.
                let add = try await Child.skjold(["account", "add", hiddenAddress, "--no-backup", "--password-stdin", "--data", data],
                                                 in: scratch.url, stdin: "nb-password-123\n")
                try #require(add.status == 0, "\(add)")
                let alias = try await Child.skjold(["alias", "add", aliasLocal + "@skjold.test", hiddenAddress, "--data", data], in: scratch.url)
                try #require(alias.status == 0, "\(alias)")
                let store = try SQLiteMailStore(layout: StorageLayout(dataDir: data, nobackupDir: data + "/nobackup"), plans: Self.plans)
                let hidden = try #require(try await store.directory.account(hiddenAddress))
                hiddenID = hidden.id
                let mail = try await store.mail(for: hidden)
                _ = try await mail.createMailbox(hiddenMailbox, specialUse: nil)
                _ = try await mail.deliver(.bytes(Array("Subject: private\r\n\r\n\(hiddenMarker)\r\n".utf8)), to: hiddenMailbox,
                                           flags: ["\\Seen"], internalDate: Date())
                let toHidden = try await python(Scripts.deliver, [String(smtp), "3", hiddenMarker, hiddenAddress], in: scratch.url)
                try #require(toHidden.status == 0, "\(toHidden)")
                let queuedHidden = try await python(Scripts.submit, [String(submission), hiddenAddress, "nb-password-123",
                                                                     "kim@example.net", hiddenMarker], in: scratch.url)
                try #require(queuedHidden.status == 0, "\(queuedHidden)")
                let queuedDemo = try await python(Scripts.submit, [String(submission), "demo@skjold.test", demoPassword,
                                                                   "lee@example.org", "demo-queued"], in: scratch.url)
                try #require(queuedDemo.status == 0, "\(queuedDemo)")

                let before = try await python(Scripts.deliver, [String(smtp), "20", "pre", "demo@skjold.test"], in: scratch.url)
                try #require(before.status == 0, "\(before)")

                // Deliveries keep running while the backup copies.
                let (load, out, err) = try Child.launch(URL(fileURLWithPath: "/usr/bin/env"),
                                                        ["python3", "-c", Scripts.deliver, String(smtp), "200", "live", "demo@skjold.test"],
                                                        in: scratch.url)
                #expect(await eventually(timeout: .seconds(30)) { out.lines.count >= 5 || !load.isRunning }, "\(err.text)")
                acknowledged = before.stdoutLines + out.lines.map(\.text)
                let first = try await Child.skjold(["backup", "--to", backup, "--data", data], in: scratch.url)
                #expect(first.status == 0, "\(first)")
                #expect(load.isRunning, "the load ended before the backup did; raise its count")
                #expect(await Child.waitForExit(load, timeout: .seconds(60)))
                #expect(load.terminationStatus == 0, "\(err.text)")
                #expect(first.stdoutLines.first?.hasPrefix("backed up 1 account(s), ") == true, "\(first)")
                #expect(first.stdoutLines.contains("left out 1 No Backup account(s)"), "\(first)")

                // Incremental: the second run copies only what arrived since and keeps the rest.
                let second = try await Child.skjold(["backup", "--to", backup, "--data", data], in: scratch.url)
                #expect(second.status == 0, "\(second)")
                let copiedLine = try #require(second.stdoutLines.first { $0.hasPrefix("copied ") }, "\(second)")
                let unchanged = copiedLine.components(separatedBy: ", ").first { $0.hasSuffix(" unchanged") }
                    .flatMap { Int($0.split(separator: " ")[0]) }
                #expect((unchanged ?? 0) >= acknowledged.count, "\(second)")
            }

            // Nothing of the No Backup account anywhere in the backup, in any file's bytes.
            #expect(filesContaining([hiddenMarker, hiddenMailbox, hiddenLocal, aliasLocal, hiddenID], under: backup) == [])
            #expect(filesContaining(["demo-queued", "pre-0000"], under: backup).count >= 2, "the backup lacks normal data")

            // Refusals, one line each.
            let occupied = try await Child.skjold(["restore", "--from", backup, "--data", data], in: scratch.url)
            #expect(occupied.status == 1)
            #expect(occupied.stderrLines == ["skjold: \(data) is not empty: restore only into an empty or missing data directory"], "\(occupied)")
            let notBackup = try await Child.skjold(["restore", "--from", data, "--data", restored], in: scratch.url)
            #expect(notBackup.status == 1)
            #expect(notBackup.stderrLines == ["skjold: \(data) is not a Skjold backup (no manifest.json)"], "\(notBackup)")
            let intoStore = try await Child.skjold(["backup", "--to", data + "/inside", "--data", data], in: scratch.url)
            #expect(intoStore.status == 1)
            #expect(intoStore.stderrLines.count == 1 && intoStore.stderrLines[0].hasPrefix("skjold: "), "\(intoStore)")

            let restore = try await Child.skjold(["restore", "--from", backup, "--data", restored], in: scratch.url)
            #expect(restore.status == 0, "\(restore)")
            #expect(restore.stdoutLines.first?.hasPrefix("restored 1 account(s), ") == true, "\(restore)")
            #expect(filesContaining([hiddenMarker, hiddenMailbox, hiddenLocal, aliasLocal, hiddenID], under: restored) == [])

            // Same mailboxes, UIDVALIDITY, UIDs and bytes as the original store.
            let original = try SQLiteMailStore(layout: StorageLayout(dataDir: data, nobackupDir: data + "/nobackup"), plans: Self.plans)
            let demo = try #require(try await original.directory.account("demo@skjold.test"))
            let originalFolder = data + "/accounts/" + demo.id
            let restoredFolder = restored + "/accounts/" + demo.id
            let before = try AccountIndex.snapshot(databasePath: AccountIndex.databasePath(folder: originalFolder))
            let after = try AccountIndex.snapshot(databasePath: AccountIndex.databasePath(folder: restoredFolder))
            #expect(after.map(\.name) == before.map(\.name))
            #expect(after.map(\.uidValidity) == before.map(\.uidValidity))
            let inbox = try #require(before.first { $0.name == "INBOX" })
            let restoredInbox = try #require(after.first { $0.name == "INBOX" })
            var expected: [String: String] = [:]  // UIDL -> bytes (hex)
            for tag in acknowledged {
                var found = false
                for message in inbox.messages {
                    let bytes = try Data(contentsOf: URL(fileURLWithPath: AccountIndex.blobPath(folder: originalFolder, blobID: message.blobID)))
                    guard bytes.range(of: Data("body \(tag)\r\n".utf8)) != nil else { continue }
                    found = true
                    let copy = try #require(restoredInbox.messages.first { $0.uid == message.uid }, "\(tag) (UID \(message.uid)) not restored")
                    #expect(copy.flags == message.flags && copy.internalDate == message.internalDate)
                    let restoredBytes = try Data(contentsOf: URL(fileURLWithPath: AccountIndex.blobPath(folder: restoredFolder, blobID: copy.blobID)))
                    #expect(restoredBytes == bytes, "\(tag) differs after restore")
                    expected[String(format: "%08X%08X", message.uid, inbox.uidValidity)] = bytes.map { String(format: "%02x", $0) }.joined()
                }
                #expect(found, "acknowledged message \(tag) is not in the original store")
            }
            #expect(expected.count == acknowledged.count)

            // A server on the restored data serves them: POP3 UIDLs and RETR bytes.
            try await withDevServer(data: URL(fileURLWithPath: restored), in: scratch.url) { _, report in
                #expect(report.demoPassword == nil, "the restored server made a new demo account")
                let list = try await python(Self.popList, [String(try report.port("pop3")), "demo@skjold.test", demoPassword], in: scratch.url)
                try #require(list.status == 0, "\(list)")
                var served: [String: String] = [:]
                for line in list.stdoutLines {
                    let parts = line.split(separator: " ")
                    if parts.count == 2 { served[String(parts[0])] = String(parts[1]) }
                }
                #expect(served.count == restoredInbox.messages.count)
                for (uidl, hex) in expected { #expect(served[uidl] == hex, "UIDL \(uidl) not served byte-exact") }
            }
        }
    }
}

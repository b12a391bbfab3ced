import Foundation
import MailStore
import MailStoreSQLite
import Testing

extension AdminSuite {
    /// `skjold account remove ADDRESS --erase` and No Backup deletion: afterwards no byte of the user's
    /// mail, address or queued envelopes is left in data_dir or nobackup_dir.
    @Suite("erasure and No Backup")
    struct ErasureTests {
        @Test("erase a normal and a No Backup account while the server runs: mail, aliases, queue entries gone; a scan finds no marker")
        func eraseLeavesNothing() async throws {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let data = scratch.data.path
            let nobackup = scratch.url.appendingPathComponent("nobackup").path
            var needles: [String] = []
            var others: [String] = []

            let server = try DevServer(data: scratch.data, in: scratch.url, extraArguments: ["--set", "storage.nobackup_dir=\(nobackup)"])
            let report: StartupReport
            do {
                report = try await server.waitUntilReady()
            } catch {
                await server.stop()
                throw error
            }
            do {
                let smtp = try report.port("smtp")
                let submission = try report.port("submission")
                let set = ["--data", data, "--set", "storage.nobackup_dir=\(nobackup)"]
                for noBackup in [false, true] {
                    let local = uniqueToken(noBackup ? "gonenb" : "gone")
                    let address = local + "@skjold.test"
                    let aliasLocal = uniqueToken("gonealias")
                    let marker = uniqueToken("ERASEMARKER")
                    needles += [local, aliasLocal, marker]
                    let add = try await Child.skjold(["account", "add", address, "--password-stdin"] + (noBackup ? ["--no-backup"] : []) + set,
                                                     in: scratch.url, stdin: "erase-password-1\n")
                    try #require(add.status == 0, "\(add)")
                    let alias = try await Child.skjold(["alias", "add", aliasLocal + "@skjold.test", address] + set, in: scratch.url)
                    try #require(alias.status == 0, "\(alias)")
                    let delivered = try await python(Scripts.deliver, [String(smtp), "5", marker, address], in: scratch.url)
                    try #require(delivered.status == 0, "\(delivered)")
                    let viaAlias = try await python(Scripts.deliver, [String(smtp), "1", marker, aliasLocal + "@skjold.test"], in: scratch.url)
                    try #require(viaAlias.status == 0, "\(viaAlias)")
                    let queued = try await python(Scripts.submit, [String(submission), address, "erase-password-1", "far@example.net", marker],
                                                  in: scratch.url)
                    try #require(queued.status == 0, "\(queued)")
                    let queue = try await Child.skjold(["queue", "list"] + set, in: scratch.url)
                    #expect(queue.stdout.contains("from \(address)"), "\(queue)")
                    let present = filesContaining([marker], under: noBackup ? nobackup : data)
                    #expect(!present.isEmpty, "the marker never reached the disk, so the scan proves nothing")

                    let refused = try await Child.skjold(["account", "remove", address] + set, in: scratch.url)
                    #expect(refused.status == 2)
                    #expect(refused.stderrLines.count == 1 && refused.stderrLines[0].contains("--erase deletes"), "\(refused)")
                    let erase = try await Child.skjold(["account", "remove", address, "--erase"] + set, in: scratch.url)
                    #expect(erase.status == 0, "\(erase)")
                    let show = try await Child.skjold(["account", "show", address] + set, in: scratch.url)
                    #expect(show.status == 1)
                    let aliases = try await Child.skjold(["alias", "list"] + set, in: scratch.url)
                    #expect(!aliases.stdout.contains(aliasLocal))
                }
                // Someone else's mail stays.
                let keep = uniqueToken("KEEPMARKER")
                others.append(keep)
                let kept = try await python(Scripts.deliver, [String(smtp), "1", keep, "demo@skjold.test"], in: scratch.url)
                try #require(kept.status == 0, "\(kept)")
                let queue = try await Child.skjold(["queue", "list"] + set, in: scratch.url)
                #expect(queue.stdoutLines == ["queue is empty"], "\(queue)")
                // Scanned while the server still runs (its open files are what an attacker would read too)...
                #expect(filesContaining(needles, under: data) == [])
                #expect(filesContaining(needles, under: nobackup) == [])
            } catch {
                await server.stop()
                throw error
            }
            #expect(await server.stop() == 0)
            // ...and after it stopped and checkpointed.
            #expect(filesContaining(needles, under: data) == [])
            #expect(filesContaining(needles, under: nobackup) == [])
            #expect(!filesContaining(others, under: data).isEmpty)
        }

        @Test("No Backup: expunge and mailbox deletion, then the purge, leave no marker or mailbox name in nobackup_dir")
        func noBackupExpungeLeavesNothing() async throws {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let data = scratch.data.path
            let nobackup = scratch.url.appendingPathComponent("nobackup").path
            let store = try SQLiteMailStore(layout: StorageLayout(dataDir: data, nobackupDir: nobackup),
                                            plans: BackupRestoreTests.plans, passwordCost: 4)
            _ = try await store.directory.addDomain("example.org")
            let account = try await store.directory.addAccount("nb@example.org", password: "long-enough-1", plan: "standard", noBackup: true)
            let mail = try await store.accountStore(for: account)
            let marker = uniqueToken("EXPUNGEMARKER")
            let boxName = uniqueToken("SECRETBOX")
            _ = try await mail.createMailbox(boxName, specialUse: nil)
            var uids: [UID] = []
            for i in 0..<20 {
                let receipt = try await mail.deliver(.bytes(Array("Subject: \(marker) \(i)\r\n\r\n\(marker)\r\n".utf8)), to: "INBOX",
                                                     flags: ["$" + marker], internalDate: Date())
                uids.append(receipt.uid)
            }
            _ = try await mail.deliver(.bytes(Array("Subject: x\r\n\r\n\(marker)\r\n".utf8)), to: boxName, flags: [], internalDate: Date())
            #expect(!filesContaining([marker, boxName], under: nobackup).isEmpty)
            #expect(filesContaining([marker, boxName], under: data) == [], "No Backup mail must live under nobackup_dir only")

            try await mail.expunge(in: "INBOX", uids: uids)
            try await mail.deleteMailbox(boxName)
            try await mail.purgeDeletedPagesIfNoBackup()
            #expect(filesContaining([marker, boxName], under: nobackup) == [])
            // The store still works after the purge.
            let receipt = try await mail.deliver(.bytes(Array("Subject: after\r\n\r\nok\r\n".utf8)), to: "INBOX", flags: [], internalDate: Date())
            #expect(try await mail.messageBytes(in: "INBOX", uid: receipt.uid) == Array("Subject: after\r\n\r\nok\r\n".utf8))
        }
    }
}

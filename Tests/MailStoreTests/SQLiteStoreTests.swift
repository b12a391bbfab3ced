import Foundation
import Testing
import MailStore
@testable import MailStoreSQLite

/// A throwaway data directory for one test.
struct TempDataDir: ~Copyable {
    let path: String
    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("skjold-test-\(RandomID.make())").path
    }
    var layout: StorageLayout { StorageLayout(dataDir: path + "/data", nobackupDir: path + "/nobackup") }
    func open() throws -> SQLiteMailStore {
        try SQLiteMailStore(layout: layout, plans: PlanCatalog(names: ["standard", "max"], aliasLimits: ["standard": 3, "max": 100]),
                            passwordCost: 10)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

@Suite struct SQLiteStoreTests {
    func withAccount(_ dir: borrowing TempDataDir, address: String = "demo@skjold.test") async throws -> (SQLiteMailStore, Account) {
        let store = try dir.open()
        _ = try await store.directory.addDomain("skjold.test")
        let account = try await store.directory.addAccount(address, password: "a good password", plan: "standard", noBackup: false)
        return (store, account)
    }

    @Test func newAccountHasSpecialUseMailboxes() async throws {
        let dir = TempDataDir()
        let (store, account) = try await withAccount(dir)
        let mail = try await store.mail(for: account)
        let boxes = try await mail.mailboxes()
        #expect(boxes.map(\.name) == ["INBOX", "Archive", "Drafts", "Junk", "Sent", "Trash"])
        #expect(Set(boxes.compactMap(\.specialUse)) == Set(SpecialUse.allCases))
        #expect(boxes.allSatisfy { $0.uidNext == 1 && $0.messageCount == 0 })
    }

    @Test func byteExactRoundTrip() async throws {
        let dir = TempDataDir()
        let (store, account) = try await withAccount(dir)
        let mail = try await store.mail(for: account)
        var message: [UInt8] = Array("Subject: caf\u{e9}\r\n\r\n".utf8)
        message += [0xff, 0xfe, 0x00, 0x80, 0x0a]  // 8-bit, NUL, bare LF
        message += Array(repeating: UInt8(ascii: "x"), count: 200_000)  // one very long line
        message += Array("\rbare CR\n.leading dot\r\n".utf8)
        let receipt = try await mail.deliver(.bytes(message), to: "inbox", flags: ["\\Seen"], internalDate: Date())
        #expect(receipt.mailbox == "INBOX")
        #expect(receipt.size == Int64(message.count))
        #expect(try await mail.messageBytes(in: "INBOX", uid: receipt.uid) == message)
        let records = try await mail.messages(in: "INBOX")
        #expect(records.map(\.flags) == [["\\Seen"]])
        #expect(try await mail.storageUsed() == Int64(message.count))
    }

    @Test func fileSourceWithPrefix() async throws {
        let dir = TempDataDir()
        let (store, account) = try await withAccount(dir)
        let mail = try await store.mail(for: account)
        let spool = dir.path + "/spool"
        let body: [UInt8] = Array("Subject: x\r\n\r\nbody\r\n".utf8) + [0xc3, 0x28]
        _ = FileManager.default.createFile(atPath: spool, contents: Data(body))
        let prefix = Array("Return-Path: <a@b.example>\r\nDelivered-To: demo@skjold.test\r\n".utf8)
        let receipt = try await mail.deliver(.file(path: spool, prefix: prefix), to: "INBOX", flags: [], internalDate: Date())
        #expect(try await mail.messageBytes(in: "INBOX", uid: receipt.uid) == prefix + body)
    }

    @Test func uidsNeverReusedAfterExpungeAndRestart() async throws {
        let dir = TempDataDir()
        var validity: UIDValidity = 0
        var seen: [UID] = []
        do {
            let (store, account) = try await withAccount(dir)
            let mail = try await store.mail(for: account)
            for i in 0..<5 {
                seen.append(try await mail.deliver(.bytes(Array("m\(i)\r\n".utf8)), to: "INBOX", flags: [], internalDate: Date()).uid)
            }
            #expect(seen == [1, 2, 3, 4, 5])
            try await mail.expunge(in: "INBOX", uids: [4, 5])
            validity = try #require(try await mail.mailbox(named: "INBOX")).uidValidity
            let next = try await mail.deliver(.bytes(Array("after expunge\r\n".utf8)), to: "INBOX", flags: [], internalDate: Date())
            #expect(next.uid == 6)
            try await mail.expunge(in: "INBOX", uids: [6])
        }
        // A fresh process: reopen everything from disk.
        let store = try dir.open()
        let account = try #require(try await store.directory.account("DEMO@skjold.test"))
        let mail = try await store.mail(for: account)
        let box = try #require(try await mail.mailbox(named: "INBOX"))
        #expect(box.uidValidity == validity)
        #expect(box.uidNext == 7)
        let again = try await mail.deliver(.bytes(Array("after restart\r\n".utf8)), to: "INBOX", flags: [], internalDate: Date())
        #expect(again.uid == 7)
        #expect(try await mail.messages(in: "INBOX").map(\.uid) == [1, 2, 3, 7])
        #expect(try await mail.messageBytes(in: "INBOX", uid: 2) == Array("m1\r\n".utf8))
    }

    @Test func recreatedMailboxGetsNewUIDValidity() async throws {
        let dir = TempDataDir()
        let (store, account) = try await withAccount(dir)
        let mail = try await store.mail(for: account)
        let first = try await mail.createMailbox("Projects/2026", specialUse: nil)
        try await mail.deleteMailbox("Projects/2026")
        let second = try await mail.createMailbox("Projects/2026", specialUse: nil)
        #expect(second.uidValidity > first.uidValidity)
        await #expect(throws: MailStoreError.mailboxExists("Projects/2026")) { try await mail.createMailbox("Projects/2026", specialUse: nil) }
        await #expect(throws: MailStoreError.cannotDelete("INBOX", reason: "INBOX cannot be deleted")) { try await mail.deleteMailbox("Inbox") }
    }

    @Test func renameMovesChildren() async throws {
        let dir = TempDataDir()
        let (store, account) = try await withAccount(dir)
        let mail = try await store.mail(for: account)
        _ = try await mail.createMailbox("Work", specialUse: nil)
        _ = try await mail.createMailbox("Work/Reports", specialUse: nil)
        let r = try await mail.deliver(.bytes(Array("x\r\n".utf8)), to: "Work/Reports", flags: [], internalDate: Date())
        try await mail.renameMailbox("Work", to: "Job")
        let names = try await mail.mailboxes().map(\.name)
        #expect(names.contains("Job") && names.contains("Job/Reports") && !names.contains("Work"))
        #expect(try await mail.messageBytes(in: "Job/Reports", uid: r.uid) == Array("x\r\n".utf8))
    }

    @Test func concurrentWritersOnOneAccount() async throws {
        let dir = TempDataDir()
        let (store, account) = try await withAccount(dir)
        let writers = 8, perWriter = 25
        // Two store instances, as two processes (server and CLI) would have.
        let other = try dir.open()
        let receipts = try await withThrowingTaskGroup(of: [DeliveryReceipt].self) { group in
            for w in 0..<writers {
                group.addTask {
                    let mail = try await (w % 2 == 0 ? store : other).mail(for: account)
                    var out: [DeliveryReceipt] = []
                    for i in 0..<perWriter {
                        out.append(try await mail.deliver(.bytes(Array("writer \(w) message \(i)\r\n".utf8)), to: "INBOX",
                                                          flags: [], internalDate: Date()))
                    }
                    return out
                }
            }
            var all: [DeliveryReceipt] = []
            for try await part in group { all += part }
            return all
        }
        let uids = receipts.map(\.uid)
        #expect(Set(uids).count == writers * perWriter)
        let mail = try await store.mail(for: account)
        let stored = try await mail.messages(in: "INBOX")
        #expect(stored.count == writers * perWriter)
        #expect(stored.map(\.uid) == Array(1...UID(writers * perWriter)))
        var bodies = Set<[UInt8]>()
        for record in stored { bodies.insert(try await mail.messageBytes(in: "INBOX", uid: record.uid)) }
        #expect(bodies.count == writers * perWriter)
    }

    @Test func expungeRemovesBlobFile() async throws {
        let dir = TempDataDir()
        let (store, account) = try await withAccount(dir)
        let mail = try await store.mail(for: account)
        let r = try await mail.deliver(.bytes(Array("secret marker\r\n".utf8)), to: "INBOX", flags: [], internalDate: Date())
        let path = try await mail.messagePath(in: "INBOX", uid: r.uid)
        #expect(FileManager.default.fileExists(atPath: path))
        try await mail.expunge(in: "INBOX", uids: [r.uid])
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try await mail.storageUsed() == 0)
    }
}

@Suite struct DirectoryTests {
    @Test func accountsAndAliasesRoundTrip() async throws {
        let dir = TempDataDir()
        let store = try dir.open()
        let d = store.directory
        _ = try await d.addDomain("Example.ORG")
        #expect(try await d.domains().map(\.name) == ["example.org"])
        let alice = try await d.addAccount("Alice@Example.org", password: "alice's password", plan: "standard", noBackup: false)
        #expect(alice.address.given == "Alice@Example.org")
        #expect(try await d.account("alice@EXAMPLE.org")?.id == alice.id)
        _ = try await d.addAlias("info@example.org", target: "alice@example.org")
        #expect(try await d.aliases(of: "alice@example.org").map(\.address.given) == ["info@example.org"])
        #expect(try await d.resolveRecipient("INFO@example.org") == .local(alice, via: try EmailAddress("INFO@example.org")))
        #expect(try await d.resolveRecipient("alice@example.org") == .local(alice, via: nil))
        #expect(try await d.resolveRecipient("bob@example.org") == .unknownUser)
        #expect(try await d.resolveRecipient("bob@elsewhere.example") == .notHosted)
        #expect(try await d.senderAddresses(of: alice).map(\.key) == ["alice@example.org", "info@example.org"])
        try await d.removeAlias("info@example.org")
        #expect(try await d.resolveRecipient("info@example.org") == .unknownUser)
    }

    @Test func authentication() async throws {
        let dir = TempDataDir()
        let store = try dir.open()
        let d = store.directory
        _ = try await d.addDomain("example.org")
        let a = try await d.addAccount("a@example.org", password: "first password", plan: "standard", noBackup: false)
        #expect(try await d.authenticate("A@example.org", password: "first password") == a)
        #expect(try await d.authenticate("a@example.org", password: "wrong password") == nil)
        #expect(try await d.authenticate("nobody@example.org", password: "first password") == nil)
        #expect(try await d.authenticate("not an address", password: "first password") == nil)
        try await d.setPassword("a@example.org", password: "second password")
        #expect(try await d.authenticate("a@example.org", password: "first password") == nil)
        #expect(try await d.authenticate("a@example.org", password: "second password") == a)
    }

    @Test func errorPathsLeaveNothingHalfWritten() async throws {
        let dir = TempDataDir()
        let store = try dir.open()
        let d = store.directory
        _ = try await d.addDomain("example.org")
        await #expect(throws: DirectoryError.duplicateDomain("example.org")) { try await d.addDomain("EXAMPLE.org") }
        await #expect(throws: DirectoryError.malformedDomain("bad domain")) { try await d.addDomain("bad domain") }
        await #expect(throws: DirectoryError.unknownDomain("nowhere.example")) {
            try await d.addAccount("x@nowhere.example", password: "password1", plan: "standard", noBackup: false)
        }
        await #expect(throws: DirectoryError.malformedAddress("not-an-address")) {
            try await d.addAccount("not-an-address", password: "password1", plan: "standard", noBackup: false)
        }
        await #expect(throws: DirectoryError.unknownPlan("gold", known: ["max", "standard"])) {
            try await d.addAccount("x@example.org", password: "password1", plan: "gold", noBackup: false)
        }
        _ = try await d.addAccount("x@example.org", password: "password1", plan: "standard", noBackup: false)
        await #expect(throws: DirectoryError.duplicateAddress("X@example.org")) {
            try await d.addAccount("X@example.org", password: "password1", plan: "standard", noBackup: false)
        }
        await #expect(throws: DirectoryError.aliasTargetMissing(alias: "y@example.org", target: "ghost@example.org")) {
            try await d.addAlias("y@example.org", target: "ghost@example.org")
        }
        await #expect(throws: DirectoryError.aliasShadowsAccount("x@example.org")) {
            try await d.addAlias("x@example.org", target: "x@example.org")
        }
        _ = try await d.addAlias("y@example.org", target: "x@example.org")
        await #expect(throws: DirectoryError.aliasOfAlias(alias: "z@example.org", target: "y@example.org")) {
            try await d.addAlias("z@example.org", target: "y@example.org")
        }
        await #expect(throws: DirectoryError.duplicateAddress("y@example.org")) {
            try await d.addAccount("y@example.org", password: "password1", plan: "standard", noBackup: false)
        }
        await #expect(throws: DirectoryError.domainInUse("example.org", addresses: 2)) { try await d.removeDomain("example.org") }
        await #expect(throws: DirectoryError.noSuchAlias("nope@example.org")) { try await d.removeAlias("nope@example.org") }
        // Only the one good account exists, with exactly one folder.
        #expect(try await d.accounts().count == 1)
        let folders = try FileManager.default.contentsOfDirectory(atPath: dir.layout.dataDir + "/accounts")
        #expect(folders.count == 1)
    }

    @Test func aliasLimitOfPlan() async throws {
        let dir = TempDataDir()
        let store = try dir.open()
        let d = store.directory
        _ = try await d.addDomain("example.org")
        _ = try await d.addAccount("x@example.org", password: "password1", plan: "standard", noBackup: false)
        for i in 0..<3 { _ = try await d.addAlias("a\(i)@example.org", target: "x@example.org") }
        await #expect(throws: DirectoryError.aliasLimitReached(account: "x@example.org", limit: 3)) {
            try await d.addAlias("a3@example.org", target: "x@example.org")
        }
    }

    @Test func eraseRemovesEverything() async throws {
        let dir = TempDataDir()
        let store = try dir.open()
        let d = store.directory
        _ = try await d.addDomain("example.org")
        let nb = try await d.addAccount("nb@example.org", password: "password1", plan: "standard", noBackup: true)
        _ = try await d.addAlias("nb-alias@example.org", target: "nb@example.org")
        let folder = dir.layout.folder(for: nb)
        #expect(folder.hasPrefix(dir.layout.nobackupDir))
        let mail = try await store.mail(for: nb)
        _ = try await mail.deliver(.bytes(Array("unique-marker-7f3a\r\n".utf8)), to: "INBOX", flags: [], internalDate: Date())
        try await d.eraseAccount("NB@example.org")
        #expect(!FileManager.default.fileExists(atPath: folder))
        #expect(try await d.resolveRecipient("nb-alias@example.org") == .unknownUser)
        #expect(try await d.account("nb@example.org") == nil)
        await #expect(throws: DirectoryError.noSuchAccount("nb@example.org")) { try await d.eraseAccount("nb@example.org") }
    }

    /// Traffic is counted in memory and written in batches: usage includes what is pending at once, a
    /// flush makes it durable (another process sees it), and an erased account's pending counts are dropped.
    @Test func trafficCountsArePendingThenWritten() async throws {
        let dir = TempDataDir()
        let store = try dir.open()
        _ = try await store.directory.addDomain("skjold.test")
        let account = try await store.directory.addAccount("demo@skjold.test", password: "a good password", plan: "standard", noBackup: false)
        let other = try await store.directory.addAccount("gone@skjold.test", password: "a good password", plan: "standard", noBackup: false)
        let now = Date()
        for _ in 0..<100 { try await store.quotas.recordTraffic(accountID: account.id, bytes: 1000, now: now) }
        try await store.quotas.recordTraffic(accountID: other.id, bytes: 5, now: now)
        #expect(try await store.quotas.trafficUsage(accountID: account.id, now: now).used == 100_000)
        #expect(try await store.quotas.trafficUsage(accountID: other.id, now: now).used == 5)
        try await store.directory.eraseAccount("gone@skjold.test")
        try await store.sqliteDirectory.flushTraffic()
        let reader = try dir.open()
        let usage = try await reader.quotas.trafficUsage(accountID: account.id, now: now)
        #expect(usage.used == 100_000)
        #expect(usage.freesAt != nil)
        #expect(try await reader.quotas.trafficUsage(accountID: other.id, now: now).used == 0)
        // Written once: more counting adds to the stored total, and usage stays exact across the flush.
        try await store.quotas.recordTraffic(accountID: account.id, bytes: 1, now: now)
        #expect(try await store.quotas.trafficUsage(accountID: account.id, now: now).used == 100_001)
        // The scheduled flush writes without being asked.
        for _ in 0..<50 where try await reader.quotas.trafficUsage(accountID: account.id, now: now).used != 100_001 {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await reader.quotas.trafficUsage(accountID: account.id, now: now).used == 100_001)
    }
}

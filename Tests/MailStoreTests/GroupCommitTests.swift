import Foundation
import Testing
import MailStore
import Synchronization
@testable import MailStoreSQLite

/// Records what a fake commit saw: batch sizes and how many commits ran at once.
final class CommitLog: Sendable {
    struct State {
        var batches: [[Int]] = []
        var running = 0
        var maxRunning = 0
    }
    let state = Mutex(State())

    func begin(_ batch: [Int]) {
        state.withLock { s in
            s.batches.append(batch)
            s.running += 1
            s.maxRunning = max(s.maxRunning, s.running)
        }
    }

    func end() { state.withLock { $0.running -= 1 } }
    var batches: [[Int]] { state.withLock { $0.batches } }
    var maxRunning: Int { state.withLock { $0.maxRunning } }
}

enum FakeCommitError: Error, Equatable { case odd(Int) }

@Suite struct GroupCommitTests {
    /// A committer whose commit takes a while (as an fsync does) and fails odd items when asked to.
    func committer(maxBatch: Int, log: CommitLog, failOdd: Bool = false) -> GroupCommit<Int, Int> {
        GroupCommit(maxBatch: maxBatch) { batch in
            log.begin(batch)
            try? await Task.sleep(for: .milliseconds(10))
            log.end()
            return batch.map { item in
                failOdd && item % 2 == 1 ? .failure(FakeCommitError.odd(item)) : .success(item * 10)
            }
        }
    }

    @Test func loneItemIsCommittedAtOnce() async throws {
        let log = CommitLog()
        let commit = committer(maxBatch: 8, log: log)
        #expect(try await commit.submit(7) == 70)
        #expect(log.batches == [[7]])
    }

    @Test func concurrentItemsShareCommitsAndGetTheirOwnResults() async throws {
        let log = CommitLog()
        let commit = committer(maxBatch: 64, log: log)
        let results = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for i in 0..<100 { group.addTask { (i, try await commit.submit(i)) } }
            var out: [Int: Int] = [:]
            for try await (i, r) in group { out[i] = r }
            return out
        }
        #expect(results.count == 100)
        #expect(results.allSatisfy { $0.value == $0.key * 10 })
        let batches = log.batches
        // Every item committed exactly once, in fewer commits than items, never two commits at once.
        #expect(batches.flatMap { $0 }.sorted() == Array(0..<100))
        #expect(batches.count < 100)
        #expect(batches.contains { $0.count > 1 })
        #expect(log.maxRunning == 1)
    }

    @Test func batchSizeIsBounded() async throws {
        let log = CommitLog()
        let commit = committer(maxBatch: 4, log: log)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<40 {
                group.addTask {
                    let result = try await commit.submit(i)
                    #expect(result == i * 10)
                }
            }
            try await group.waitForAll()
        }
        #expect(log.batches.allSatisfy { $0.count <= 4 })
        #expect(log.batches.flatMap { $0 }.count == 40)
    }

    @Test func failedItemsFailAloneInTheirBatch() async throws {
        let log = CommitLog()
        let commit = committer(maxBatch: 64, log: log, failOdd: true)
        let outcomes = await withTaskGroup(of: (Int, Result<Int, any Error>).self) { group in
            for i in 0..<50 {
                group.addTask {
                    do { return (i, .success(try await commit.submit(i))) } catch { return (i, .failure(error)) }
                }
            }
            var out: [Int: Result<Int, any Error>] = [:]
            for await (i, r) in group { out[i] = r }
            return out
        }
        for (i, outcome) in outcomes {
            switch outcome {
            case .success(let value): #expect(i % 2 == 0 && value == i * 10)
            case .failure(let error): #expect(i % 2 == 1 && error as? FakeCommitError == .odd(i))
            }
        }
        #expect(outcomes.count == 50)
        #expect(log.batches.contains { batch in batch.contains { $0 % 2 == 0 } && batch.contains { $0 % 2 == 1 } })
    }

    @Test func commitReturningTheWrongNumberOfResultsAcknowledgesNothing() async throws {
        let commit = GroupCommit<Int, Int>(maxBatch: 8) { _ in [] }
        await #expect(throws: GroupCommitError.resultCountMismatch) { try await commit.submit(1) }
    }
}

@Suite struct GroupDeliveryTests {
    func openAccount(_ dir: borrowing TempDataDir) async throws -> (SQLiteMailStore, SQLiteAccountStore) {
        let store = try dir.open()
        _ = try await store.directory.addDomain("skjold.test")
        let account = try await store.directory.addAccount("demo@skjold.test", password: "a good password", plan: "standard",
                                                           noBackup: false)
        return (store, try await store.accountStore(for: account))
    }

    /// Distinct content per message, with every byte value in it, of varying length.
    func body(_ i: Int) -> [UInt8] {
        Array("Subject: \(i)\r\n\r\n".utf8) + (0..<(i * 37 % 3000)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
    }

    func blobFiles(_ mail: SQLiteAccountStore) throws -> [String] {
        let root = mail.folder + "/blobs"
        return try FileManager.default.contentsOfDirectory(atPath: root).flatMap { sub in
            try FileManager.default.contentsOfDirectory(atPath: root + "/" + sub)
        }
    }

    @Test func twoHundredConcurrentDeliveriesToOneAccount() async throws {
        let dir = TempDataDir()
        let (_, mail) = try await openAccount(dir)
        let count = 200
        let receipts = try await withThrowingTaskGroup(of: (Int, DeliveryReceipt).self) { group in
            for i in 0..<count {
                group.addTask { (i, try await mail.deliver(.bytes(body(i)), to: "INBOX", flags: i % 3 == 0 ? ["\\Seen"] : [],
                                                           internalDate: Date())) }
            }
            var out: [Int: DeliveryReceipt] = [:]
            for try await (i, r) in group { out[i] = r }
            return out
        }
        #expect(Set(receipts.values.map(\.uid)) == Set(1...UID(count)))
        #expect(Set(receipts.values.map(\.uidValidity)).count == 1)
        for (i, receipt) in receipts {
            #expect(receipt.size == Int64(body(i).count))
            #expect(try await mail.messageBytes(in: "INBOX", uid: receipt.uid) == body(i))
        }
        let records = try await mail.messages(in: "INBOX")
        #expect(records.map(\.uid) == Array(1...UID(count)))
        // MODSEQ strictly increases with UID: each delivery got its own.
        #expect(zip(records, records.dropFirst()).allSatisfy { $0.modSeq < $1.modSeq })
        let box = try #require(try await mail.mailbox(named: "INBOX"))
        #expect(box.uidNext == UID(count + 1))
        #expect(box.highestModSeq >= records.last?.modSeq ?? 0)
        #expect(try blobFiles(mail).count == count)
        // The next delivery continues after them.
        #expect(try await mail.deliver(.bytes(body(0)), to: "INBOX", flags: [], internalDate: Date()).uid == UID(count + 1))
    }

    @Test func unknownMailboxFailsOnlyItsOwnDelivery() async throws {
        let dir = TempDataDir()
        let (_, mail) = try await openAccount(dir)
        let outcomes = await withTaskGroup(of: (Int, Result<DeliveryReceipt, any Error>).self) { group in
            for i in 0..<60 {
                group.addTask {
                    do {
                        return (i, .success(try await mail.deliver(.bytes(body(i)), to: i % 4 == 0 ? "Nowhere" : "INBOX",
                                                                   flags: [], internalDate: Date())))
                    } catch { return (i, .failure(error)) }
                }
            }
            var out: [Int: Result<DeliveryReceipt, any Error>] = [:]
            for await (i, r) in group { out[i] = r }
            return out
        }
        var delivered: [Int: DeliveryReceipt] = [:]
        for (i, outcome) in outcomes {
            switch outcome {
            case .success(let receipt):
                #expect(i % 4 != 0)
                delivered[i] = receipt
            case .failure(let error):
                #expect(i % 4 == 0 && error as? MailStoreError == .noSuchMailbox("Nowhere"))
            }
        }
        #expect(delivered.count == 45)
        #expect(Set(delivered.values.map(\.uid)) == Set(1...45))
        for (i, receipt) in delivered { #expect(try await mail.messageBytes(in: "INBOX", uid: receipt.uid) == body(i)) }
        // Failed deliveries leave no blob behind.
        #expect(try blobFiles(mail).count == 45)
    }

    /// The batch is built by hand, so the failing item is certainly committed together with the others.
    @Test func failingItemInTheMiddleOfOneBatch() async throws {
        let dir = TempDataDir()
        let (_, mail) = try await openAccount(dir)
        var batch: [SQLiteAccountStore.PendingDelivery] = []
        for (i, box) in ["INBOX", "Missing", "Sent", "INBOX"].enumerated() {
            let id = mail.newBlobID()
            let directory = mail.folder + "/blobs/" + String(id.prefix(2))
            try mail.ensureBlobDirectory(directory)
            let size = try DurableFiles.writeNewFile(at: mail.blobPath(id), source: .bytes(body(i + 1)))
            batch.append(.init(blobID: id, path: mail.blobPath(id), directory: directory, mailbox: box, flags: "",
                               internalDate: 0, size: size))
        }
        let results = await SQLiteAccountStore.commitDeliveries(batch, pool: mail.pool)
        #expect(results.count == 4)
        #expect(try results[0].get().uid == 1 && results[3].get().uid == 2)
        #expect(try results[2].get().mailbox == "Sent" && results[2].get().uid == 1)
        #expect(throws: MailStoreError.noSuchMailbox("Missing")) { try results[1].get() }
        #expect(!FileManager.default.fileExists(atPath: batch[1].path))
        #expect(try await mail.messageBytes(in: "INBOX", uid: 1) == body(1))
        #expect(try await mail.messageBytes(in: "INBOX", uid: 2) == body(4))
        #expect(try await mail.messageBytes(in: "Sent", uid: 1) == body(3))
        #expect(try blobFiles(mail).count == 3)
    }

    func writtenBatch(_ mail: SQLiteAccountStore, count: Int) throws -> [SQLiteAccountStore.PendingDelivery] {
        try (0..<count).map { i in
            let id = mail.newBlobID()
            let directory = mail.folder + "/blobs/" + String(id.prefix(2))
            try mail.ensureBlobDirectory(directory)
            let size = try DurableFiles.writeNewFile(at: mail.blobPath(id), source: .bytes(body(i)))
            return .init(blobID: id, path: mail.blobPath(id), directory: directory, mailbox: "INBOX", flags: "", internalDate: 0,
                         size: size)
        }
    }

    /// A batch whose transaction cannot even begin fails every caller and leaves neither rows nor blobs.
    @Test func batchThatCannotCommitAcknowledgesNothing() async throws {
        let dir = TempDataDir()
        let (_, mail) = try await openAccount(dir)
        let batch = try writtenBatch(mail, count: 3)
        // A second connection to the same account (as another process would have), closed before the commit.
        let other = try SQLiteAccountStore(account: mail.account, folder: mail.folder)
        try other.close()
        let results = await SQLiteAccountStore.commitDeliveries(batch, pool: other.pool)
        #expect(results.count == 3)
        #expect(results.allSatisfy { if case .failure = $0 { true } else { false } })
        #expect(batch.allSatisfy { !FileManager.default.fileExists(atPath: $0.path) })
        #expect(try await mail.messages(in: "INBOX").isEmpty)
        #expect(try await mail.mailbox(named: "INBOX")?.uidNext == 1)
    }

    /// If the blob directory cannot be fsync'd, nothing is committed or acknowledged.
    @Test func directorySyncFailureAcknowledgesNothing() async throws {
        let dir = TempDataDir()
        let (_, mail) = try await openAccount(dir)
        var batch = try writtenBatch(mail, count: 2)
        let good = batch[0]
        batch[0] = .init(blobID: good.blobID, path: good.path, directory: mail.folder + "/blobs/not-there", mailbox: "INBOX",
                         flags: "", internalDate: 0, size: good.size)
        let results = await SQLiteAccountStore.commitDeliveries(batch, pool: mail.pool)
        #expect(results.allSatisfy { if case .failure(MailStoreError.io) = $0 { true } else { false } })
        #expect(batch.allSatisfy { !FileManager.default.fileExists(atPath: $0.path) })
        #expect(try await mail.messages(in: "INBOX").isEmpty)
    }

    /// GRDB's DatabasePool sets synchronous=NORMAL when it turns WAL on; every writer must be back at FULL, or
    /// an acknowledged commit could be lost on power failure.
    @Test func everyWriterCommitsWithSynchronousFull() async throws {
        let dir = TempDataDir()
        let (store, mail) = try await openAccount(dir)
        #expect(try SQLiteDatabase.synchronousLevel(mail.pool) == SQLiteDatabase.synchronousFull)
        #expect(try SQLiteDatabase.synchronousLevel(store.sqliteDirectory.pool) == SQLiteDatabase.synchronousFull)
        #expect(try SQLiteDatabase.synchronousLevel(store.outboundQueue.pool) == SQLiteDatabase.synchronousFull)
    }

    @Test func concurrentEnqueuesAreAllDurable() async throws {
        let dir = TempDataDir()
        var ids: [Int: String] = [:]
        do {
            let store = try dir.open()
            ids = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for i in 0..<100 {
                    group.addTask {
                        let q = try await store.queue.enqueue(sender: "a@example.org",
                                                              recipients: [QueuedRecipient(address: "r\(i)@remote.example"),
                                                                           QueuedRecipient(address: "s\(i)@remote.example")],
                                                              source: .bytes(body(i)), accountID: "acc", dsn: DSNEnvelope())
                        return (i, q.id)
                    }
                }
                var out: [Int: String] = [:]
                for try await (i, id) in group { out[i] = id }
                return out
            }
        }
        let store = try dir.open()  // as after a restart
        let listed = try await store.queue.list()
        #expect(listed.count == 100)
        #expect(Set(listed.map(\.id)) == Set(ids.values))
        for (i, id) in ids {
            let message = try #require(try await store.queue.message(id: id))
            #expect(message.recipients.map(\.address) == ["r\(i)@remote.example", "s\(i)@remote.example"])
            #expect(message.size == Int64(body(i).count))
            #expect(FileManager.default.contents(atPath: store.queue.messagePath(id: id)).map(Array.init) == body(i))
        }
    }
}

@Suite struct StorageUsageTests {
    /// The trigger-kept total equals the sum of message sizes through deliveries, copies and expunges.
    @Test func usageFollowsDeliveriesAndExpunges() async throws {
        let directory = NSTemporaryDirectory() + "skjold-usage-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteMailStore(layout: StorageLayout(dataDir: directory + "/data", nobackupDir: directory + "/nb"),
                                        plans: PlanCatalog(names: ["standard"], aliasLimits: ["standard": 10]), passwordCost: 10)
        _ = try await store.directory.addDomain("example.test")
        let account = try await store.directory.addAccount("u@example.test", password: "usage-password-1", plan: "standard", noBackup: false)
        let mail = try await store.mail(for: account)
        #expect(try await mail.storageUsed() == 0)
        var receipts: [DeliveryReceipt] = []
        for size in [100, 2000, 35] {
            receipts.append(try await mail.deliver(.bytes([UInt8](repeating: 65, count: size)), to: "INBOX", flags: [], internalDate: Date()))
        }
        #expect(try await mail.storageUsed() == 2135)
        try await mail.expunge(in: "INBOX", uids: [receipts[1].uid])
        #expect(try await mail.storageUsed() == 135)
        let reopened = try SQLiteMailStore(layout: store.layout, plans: PlanCatalog(names: ["standard"], aliasLimits: ["standard": 10]),
                                           passwordCost: 10)
        #expect(try await reopened.mail(for: account).storageUsed() == 135)
    }
}

import Foundation
import Testing
import MailStore
@testable import MailStoreSQLite

@Suite struct QueueTests {
    @Test func enqueueIsDurableAndListed() async throws {
        let dir = TempDataDir()
        var id = ""
        let body = Array("Subject: out\r\n\r\n\u{00e9}\r\n".utf8)
        do {
            let store = try dir.open()
            let q = try await store.queue.enqueue(
                sender: "a@example.org",
                recipients: [QueuedRecipient(address: "x@remote.example", notify: "FAILURE,DELAY", originalRecipient: "rfc822;x@remote.example"),
                             QueuedRecipient(address: "y@remote.example")],
                source: .bytes(body), accountID: "acc", dsn: DSNEnvelope(ret: "HDRS", envelopeID: "env-1"))
            id = q.id
        }
        let store = try dir.open()  // reopened: as after a restart
        let listed = try await store.queue.list()
        #expect(listed.count == 1)
        let m = try #require(listed.first)
        #expect(m.id == id && m.sender == "a@example.org" && m.size == Int64(body.count))
        #expect(m.recipients.map(\.address) == ["x@remote.example", "y@remote.example"])
        #expect(m.recipients[0].notify == "FAILURE,DELAY")
        #expect(m.dsn == DSNEnvelope(ret: "HDRS", envelopeID: "env-1"))
        #expect(FileManager.default.contents(atPath: store.queue.messagePath(id: id)).map(Array.init) == body)
        try await store.queue.remove(id: id)
        #expect(try await store.queue.list().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: store.queue.messagePath(id: id)))
    }
}

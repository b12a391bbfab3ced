import Foundation
import Testing
import MailStore
@testable import MailStoreSQLite

/// The bookkeeping outbound delivery relies on: due messages, per-recipient states recorded durably,
/// attempts and next attempts, the warned flag and the DKIM signature — all surviving a reopen.
@Suite struct QueueDeliveryStateTests {
    @Test func dueUpdateFinishRetryAcrossReopen() async throws {
        let dir = TempDataDir()
        var id = ""
        let now = Date(timeIntervalSince1970: TimeInterval(Int(Date().timeIntervalSince1970)))
        do {
            let store = try dir.open()
            let q = try await store.queue.enqueue(
                sender: "a@example.org", recipients: [QueuedRecipient(address: "x@r.example"), QueuedRecipient(address: "y@s.example")],
                source: .bytes(Array("Subject: s\r\n\r\nb\r\n".utf8)), accountID: nil, dsn: DSNEnvelope())
            id = q.id
            let due = try await store.queue.due(at: now.addingTimeInterval(1), limit: 10, excluding: [])
            #expect(due.map(\.id) == [id])
            #expect(try await store.queue.due(at: now.addingTimeInterval(1), limit: 10, excluding: [id]).isEmpty)
            var x = q.recipients[0]
            x.state = .delivered
            x.lastReply = "250 2.0.0 ok"
            x.remoteHost = "mx.r.example[192.0.2.1]:25"
            var y = q.recipients[1]
            y.lastReply = "451 4.4.1 refused"
            try await store.queue.update(id: id, recipients: [0: x, 1: y], signature: "DKIM-Signature: v=1\r\n")
            try await store.queue.finishAttempt(id: id, nextAttempt: now.addingTimeInterval(300), countAttempt: true, warned: true)
        }
        let store = try dir.open()
        let m = try #require(try await store.queue.message(id: id))
        #expect(m.attempts == 1 && m.warned)
        #expect(m.nextAttempt == now.addingTimeInterval(300))
        #expect(m.signature == "DKIM-Signature: v=1\r\n")
        #expect(m.recipients[0].state == .delivered && m.recipients[0].remoteHost == "mx.r.example[192.0.2.1]:25")
        #expect(m.recipients[1].state == .pending && m.recipients[1].lastReply == "451 4.4.1 refused")
        #expect(try await store.queue.due(at: now.addingTimeInterval(10), limit: 10, excluding: []).isEmpty, "not due before its next attempt")
        #expect(try await store.queue.retry(id: id, at: now.addingTimeInterval(10)) == 1)
        #expect(try await store.queue.due(at: now.addingTimeInterval(10), limit: 10, excluding: []).map(\.id) == [id])
        #expect(try await store.queue.retry(id: "nope", at: now) == 0)
    }
}

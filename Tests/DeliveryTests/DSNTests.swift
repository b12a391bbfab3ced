import Delivery
import Foundation
import MailStore
import Testing

@Suite("delivery status notifications (RFC 3464, RFC 6522)")
struct DSNTests {
    let arrival = Date(timeIntervalSince1970: 1_795_000_000)

    func notice(_ kind: DeliveryStatusNotification.Kind, _ recipients: [QueuedRecipient]) -> DeliveryStatusNotification {
        DeliveryStatusNotification(
            kind: kind, reportingMTA: "mail.skjold.test", queueID: "abc123", sender: "alice@skjold.test", envelopeID: "env\r\n1",
            arrival: arrival, entries: recipients.map { .init(recipient: $0, status: DeliveryStatusNotification.status(of: $0.lastReply, permanent: kind == .failed)) },
            retryUntil: arrival.addingTimeInterval(5 * 86_400))
    }

    @Test func failureReportHasAllThreeParts() throws {
        let r = QueuedRecipient(address: "bob@example.org", originalRecipient: "rfc822;Bob@Example.org", state: .failed,
                                lastReply: "550 5.1.1 <bob@example.org>: no such user\r\nInjected: header", remoteHost: "mx.example.org[192.0.2.1]:25")
        let headers = Array("From: alice@skjold.test\r\nSubject: hi\r\nMessage-ID: <m1@skjold.test>\r\n\r\n".utf8)
        let bytes = notice(.failed, [r]).render(originalHeaders: headers, originalMessage: nil, now: arrival.addingTimeInterval(60), messageID: "n1@mail.skjold.test")
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("From: Mail Delivery System <MAILER-DAEMON@mail.skjold.test>\r\nTo: <alice@skjold.test>\r\nSubject: Undelivered Mail Returned to Sender\r\n"))
        #expect(text.contains("Auto-Submitted: auto-replied\r\n"))
        #expect(text.contains("Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="))
        #expect(text.contains("Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mail.skjold.test\r\n"))
        #expect(text.contains("Original-Envelope-Id: env  1\r\n"), "controls in the ENVID become spaces")
        #expect(text.contains("Final-Recipient: rfc822; bob@example.org\r\nOriginal-Recipient: rfc822; Bob@Example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"))
        #expect(text.contains("Remote-MTA: dns; mx.example.org\r\n"))
        #expect(text.contains("Diagnostic-Code: smtp; 550 5.1.1 <bob@example.org>: no such user  Injected: header\r\n"))
        #expect(!text.contains("\r\nInjected: header"), "a remote reply cannot add header lines")
        #expect(text.contains("Content-Type: text/rfc822-headers\r\n\r\nFrom: alice@skjold.test\r\nSubject: hi\r\nMessage-ID: <m1@skjold.test>\r\n"))
        #expect(text.contains("<bob@example.org>: host mx.example.org[192.0.2.1]:25 said: 550 5.1.1"))
        #expect(text.hasSuffix("--\r\n"))
        // Every line ends CRLF.
        for (i, byte) in bytes.enumerated() where byte == 0x0A { #expect(i > 0 && bytes[i - 1] == 0x0D) }
    }

    @Test func delayedAndSuccessNotices() {
        let pending = QueuedRecipient(address: "kim@example.net", state: .pending, lastReply: "451 4.4.1 connection refused")
        let delayed = String(decoding: notice(.delayed, [pending]).render(originalHeaders: [], originalMessage: nil, messageID: "x@y"), as: UTF8.self)
        #expect(delayed.contains("Subject: Delayed Mail (still being retried)"))
        #expect(delayed.contains("Action: delayed\r\nStatus: 4.4.1\r\n"))
        #expect(delayed.contains("Will-Retry-Until: "))
        let done = QueuedRecipient(address: "lee@example.net", notify: "SUCCESS", state: .delivered, lastReply: "250 2.0.0 ok")
        let relayed = String(decoding: notice(.relayed, [done]).render(originalHeaders: [], originalMessage: Array("Subject: x\r\n\r\nbody\r\n".utf8), messageID: "x@y"), as: UTF8.self)
        #expect(relayed.contains("Action: relayed"))
        #expect(relayed.contains("Content-Type: message/rfc822\r\n\r\nSubject: x\r\n\r\nbody\r\n"), "RET=FULL returns the message")
    }

    @Test func statusFromReplies() {
        #expect(DeliveryStatusNotification.status(of: "550 5.7.1 denied", permanent: true) == "5.7.1")
        #expect(DeliveryStatusNotification.status(of: "554 rejected", permanent: true) == "5.0.0")
        #expect(DeliveryStatusNotification.status(of: "451 try later", permanent: false) == "4.0.0")
        #expect(DeliveryStatusNotification.status(of: "451 4.4.1 refused", permanent: false) == "4.4.1")
        #expect(DeliveryStatusNotification.status(of: "421 4.4.7 expired", permanent: true) == "4.4.7")
        #expect(DeliveryStatusNotification.status(of: nil, permanent: true) == "5.0.0")
        #expect(DeliveryStatusNotification.status(of: "garbage", permanent: false) == "4.0.0")
        #expect(DeliveryStatusNotification.status(of: "550 5.1.1234 x", permanent: true) == "5.0.0")
    }

    @Test func noticePreferences() {
        #expect(QueuedRecipient(address: "a@b").wantsNotice("FAILURE"))
        #expect(QueuedRecipient(address: "a@b").wantsNotice("DELAY"))
        #expect(!QueuedRecipient(address: "a@b").wantsNotice("SUCCESS"))
        #expect(!QueuedRecipient(address: "a@b", notify: "NEVER").wantsNotice("FAILURE"))
        #expect(QueuedRecipient(address: "a@b", notify: "success,failure").wantsNotice("SUCCESS"))
        #expect(!QueuedRecipient(address: "a@b", notify: "SUCCESS").wantsNotice("DELAY"))
    }

    @Test func dateFormat() {
        #expect(DeliveryStatusNotification.rfc5322Date(Date(timeIntervalSince1970: 0)) == "Thu, 1 Jan 1970 00:00:00 +0000")
    }
}

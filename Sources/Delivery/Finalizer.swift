import Foundation
import Logging
import MailStore

/// Ends an attempt on a message: notices to the sender (failed, delivered/relayed when asked, delayed once),
/// then either removes the message (nobody pending) or schedules its next attempt.
struct Finalizer: Sendable {
    let environment: DeliveryEnvironment

    /// Largest original message returned whole for RET=FULL; larger ones get their headers only.
    static let maxReturnedMessage = 10 << 20

    func finish(_ snapshot: QueuedMessage, now: Date) async {
        var message = snapshot
        let queue = environment.queue
        let path = queue.messagePath(id: message.id)
        var reportedChanges: [Int: QueuedRecipient] = [:]
        var failedEntries: [DeliveryStatusNotification.Entry] = []
        var successEntries: [DeliveryStatusNotification.Entry] = []
        for (index, recipient) in message.recipients.enumerated() where !recipient.reported && recipient.state != .pending {
            var reported = recipient
            reported.reported = true
            reportedChanges[index] = reported
            if recipient.state == .failed, recipient.wantsNotice("FAILURE") {
                failedEntries.append(.init(recipient: recipient, status: DeliveryStatusNotification.status(of: recipient.lastReply, permanent: true)))
            } else if recipient.state == .delivered, recipient.wantsNotice("SUCCESS") {
                successEntries.append(.init(recipient: recipient, status: "2.0.0"))
            }
        }
        // Never a notice about a notice (RFC 5321 §6.1, RFC 3464 §2): the null sender gets none.
        if !message.sender.isEmpty {
            if !failedEntries.isEmpty { await notify(.failed, message, failedEntries, path: path, now: now) }
            if !successEntries.isEmpty { await notify(.relayed, message, successEntries, path: path, now: now) }
        }
        for (index, recipient) in reportedChanges { message.recipients[index] = recipient }
        let pending = message.recipients.filter { $0.state == .pending }
        // Marking recipients reported matters only while the entry stays (it keeps a notice from being sent
        // twice); an entry about to be removed skips that write.
        if !pending.isEmpty || !failedEntries.isEmpty || !successEntries.isEmpty {
            do {
                try await queue.update(id: message.id, recipients: reportedChanges, signature: nil)
            } catch {
                environment.logger.error("queue update failed: \(error)")
            }
        }
        if pending.isEmpty {
            do {
                try await queue.remove(id: message.id)
                environment.logger.info("queue entry done", metadata: [
                    "queue": "\(message.id)",
                    "delivered": "\(message.recipients.filter { $0.state == .delivered }.count)",
                    "failed": "\(message.recipients.filter { $0.state == .failed }.count)",
                ])
            } catch {
                environment.logger.error("queue removal failed: \(error)")
            }
            return
        }
        var warned = message.warned
        let age = now.timeIntervalSince(message.createdAt)
        let warnAfter = environment.delivery.warnAfter
        if !warned, warnAfter > 0, age >= TimeInterval(warnAfter) {
            warned = true
            let delayed = pending.filter { $0.wantsNotice("DELAY") }
            if !message.sender.isEmpty, !delayed.isEmpty {
                let entries = delayed.map {
                    DeliveryStatusNotification.Entry(recipient: $0, status: DeliveryStatusNotification.status(of: $0.lastReply, permanent: false))
                }
                await notify(.delayed, message, entries, path: path, now: now)
            }
        }
        let attempts = message.attempts + 1
        let expiry = message.createdAt.addingTimeInterval(TimeInterval(environment.delivery.maxAge))
        var next = now.addingTimeInterval(TimeInterval(environment.delivery.retryDelay(afterAttempts: attempts)))
        // The last try comes at the deadline rather than long after it.
        if next > expiry { next = max(expiry, now) }
        do {
            try await queue.finishAttempt(id: message.id, nextAttempt: next, countAttempt: true, warned: warned)
        } catch {
            environment.logger.error("queue update failed: \(error)")
        }
    }

    /// Builds a notice and hands it to the sender: into the Inbox when the sender is one of our accounts,
    /// otherwise queued for delivery with the null sender.
    func notify(_ kind: DeliveryStatusNotification.Kind, _ message: QueuedMessage, _ entries: [DeliveryStatusNotification.Entry],
                path: String, now: Date) async {
        let hostname = environment.config.hostname
        let notice = DeliveryStatusNotification(
            kind: kind, reportingMTA: hostname, queueID: message.id, sender: message.sender, envelopeID: message.dsn.envelopeID,
            arrival: message.createdAt, entries: entries,
            retryUntil: message.createdAt.addingTimeInterval(TimeInterval(environment.delivery.maxAge)))
        let full = message.dsn.ret?.uppercased() == "FULL" && message.size <= Int64(Self.maxReturnedMessage)
        let (headers, whole) = Self.readOriginal(path: path, full: full)
        let bytes = notice.render(originalHeaders: headers, originalMessage: whole, now: now,
                                  messageID: "\(message.id).\(kind.rawValue).\(Int(now.timeIntervalSince1970))@\(hostname)")
        do {
            switch try await environment.directory.resolveRecipient(message.sender) {
            case .local(let account, _):
                let prefix = Array("Return-Path: <>\r\nDelivered-To: \(account.address.given)\r\n".utf8)
                let mail = try await environment.mailStore.mail(for: account)
                _ = try await mail.deliver(.bytes(prefix + bytes), to: "INBOX", flags: [], internalDate: now)
            case .unknownUser, .notHosted:
                _ = try await environment.queue.enqueue(
                    sender: "", recipients: [QueuedRecipient(address: message.sender, notify: "NEVER")], source: .bytes(bytes),
                    accountID: nil, dsn: DSNEnvelope())
            }
            environment.logger.info("delivery notice sent", metadata: ["queue": "\(message.id)", "kind": "\(kind.rawValue)", "recipients": "\(entries.count)"])
        } catch {
            environment.logger.error("delivery notice failed: \(error)", metadata: ["queue": "\(message.id)"])
        }
    }

    /// The header block of the queued message (up to and including the blank line, at most 256 KiB) and,
    /// when `full`, the whole message.
    static func readOriginal(path: String, full: Bool) -> (headers: [UInt8], whole: [UInt8]?) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return ([], nil) }
        defer { try? handle.close() }
        if full, let data = try? handle.readToEnd() {
            let bytes = [UInt8](data)
            return (headerBlock(bytes), bytes)
        }
        let data = (try? handle.read(upToCount: 256 << 10)) ?? Data()
        return (headerBlock([UInt8](data)), nil)
    }

    static func headerBlock(_ bytes: [UInt8]) -> [UInt8] {
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x0A {
                if i + 1 < bytes.count, bytes[i + 1] == 0x0A { return Array(bytes[..<(i + 1)]) }
                if i + 2 < bytes.count, bytes[i + 1] == 0x0D, bytes[i + 2] == 0x0A { return Array(bytes[..<(i + 1)]) }
            }
            i += 1
        }
        return bytes
    }
}

import Foundation
import Logging
import MailStore

/// Hands a received message to its destinations: one copy per local account (with its own
/// Return-Path and Delivered-To), one queue entry for all remote recipients. Returns only when every
/// copy is durable, so the session's 250 can follow.
struct MessageDelivery: Sendable {
    let store: any MailStore

    enum Failure: Error {
        /// Spooling failed or a store rejected the message: answer 451 so the client retries.
        case temporary(String)
    }

    /// - Parameters:
    ///   - received: The `Received:` header for copies without a per-recipient `for` clause.
    ///   - receivedFor: Builds the `Received:` header naming one recipient.
    func deliver(envelope: Envelope, spool: MessageSpool, accountID: String?,
                 received: [UInt8], receivedFor: (String) -> [UInt8]) async throws -> (local: Int, queued: String?) {
        // One copy per account, even if the account was named twice (directly and through an alias).
        var locals: [(Account, String)] = []
        var seenAccounts = Set<String>()
        var remote: [QueuedRecipient] = []
        for recipient in envelope.recipients {
            switch recipient.destination {
            case .local(let account):
                if seenAccounts.insert(account.id).inserted { locals.append((account, recipient.address)) }
            case .remote:
                remote.append(QueuedRecipient(address: recipient.address, notify: recipient.notify,
                                              originalRecipient: recipient.originalRecipient))
            }
        }
        var jobs: [(String, MessageSource, Account?)] = []
        for (account, address) in locals {
            let prefix = TraceHeaders.returnPath(envelope.sender) + TraceHeaders.deliveredTo(account.address.given)
                + receivedFor(address)
            guard let source = spool.source(prefix: prefix) else { throw Failure.temporary("spool write failed") }
            jobs.append(("local", source, account))
        }
        if !remote.isEmpty {
            guard let source = spool.source(prefix: received) else { throw Failure.temporary("spool write failed") }
            jobs.append(("queue", source, nil))
        }
        let store = self.store
        let queueRecipients = remote
        let dsn = envelope.dsn
        let sender = envelope.sender
        // Concurrent, so that the fsyncs of several copies overlap (and batch in the store).
        return try await withThrowingTaskGroup(of: String?.self) { group in
            for (_, source, account) in jobs {
                group.addTask {
                    if let account {
                        let mail = try await store.mail(for: account)
                        _ = try await mail.deliver(source, to: "INBOX", flags: [], internalDate: Date())
                        return nil
                    }
                    let queued = try await store.queue.enqueue(sender: sender, recipients: queueRecipients, source: source,
                                                               accountID: accountID, dsn: dsn)
                    return queued.id
                }
            }
            var queueID: String?
            for try await id in group { if let id { queueID = id } }
            return (locals.count, queueID)
        }
    }
}

import Foundation
import IMAPProtocol
import Logging
import MIME
import MailStore
import Synchronization

/// Answers from the full-text index for the TEXT/BODY keys of one SEARCH: the UIDs of the messages whose
/// text contains each needle. Keys it has no answer for (needles too short for the index) are evaluated by reading the
/// message, as before.
struct TextSearchAnswers {
    private var answers: [Key: Set<UID>] = [:]

    struct Key: Hashable {
        var needle: String
        var scope: TextSearchScope
    }

    func uids(_ needle: String, _ scope: TextSearchScope) -> Set<UID>? {
        answers[Key(needle: needle, scope: scope)]
    }

    mutating func set(_ needle: String, _ scope: TextSearchScope, _ uids: Set<UID>) {
        answers[Key(needle: needle, scope: scope)] = uids
    }

    var isEmpty: Bool { answers.isEmpty }
}

extension IMAPSession {
    /// Messages indexed per write transaction while catching a mailbox up: large enough to amortize the
    /// commit, small enough that deliveries do not wait long for the store's writer.
    static let indexBatch = 100

    /// The TEXT/BODY needles of a search key, with their scope.
    static func textNeedles(_ key: SearchKey, into out: inout [TextSearchAnswers.Key]) {
        switch key {
        case .body(let s): out.append(.init(needle: s, scope: .body))
        case .text(let s): out.append(.init(needle: s, scope: .text))
        case .not(let k): textNeedles(k, into: &out)
        case .or(let a, let b):
            textNeedles(a, into: &out)
            textNeedles(b, into: &out)
        case .and(let keys): for k in keys { textNeedles(k, into: &out) }
        default: break
        }
    }

    /// Looks up the key's TEXT/BODY needles in the index, after indexing what the mailbox added since it
    /// was last caught up (usually nothing: ``BackgroundIndexer`` follows deliveries). Entries of removed
    /// messages leave the index with their blob (a store trigger), so nothing needs pruning here.
    func textSearchAnswers(for key: SearchKey, mailboxID: Int64, in mail: any IMAPAccountStore) async throws -> TextSearchAnswers {
        var needles: [TextSearchAnswers.Key] = []
        Self.textNeedles(key, into: &needles)
        needles = needles.filter { $0.needle.count >= mail.minimumIndexedNeedle }
        var answers = TextSearchAnswers()
        guard !needles.isEmpty else { return answers }
        try await Self.catchUpIndex(mailboxID: mailboxID, in: mail)
        for needle in needles where answers.uids(needle.needle, needle.scope) == nil {
            answers.set(needle.needle, needle.scope,
                        try await mail.indexedUIDs(mailboxID: mailboxID, containing: needle.needle, scope: needle.scope))
        }
        return answers
    }

    /// Indexes the mailbox's messages that are not in the index yet, and caches the MIME parse of those
    /// that have none (FETCH ENVELOPE/BODYSTRUCTURE then reads it instead of the message), one batch per
    /// transaction.
    static func catchUpIndex(mailboxID: Int64, in mail: any IMAPAccountStore) async throws {
        while true {
            let batch = try await mail.unindexedMessages(mailboxID: mailboxID, limit: indexBatch)
            guard let through = batch.throughUID else { return }
            let cached = try await mail.cachedParses(blobIDs: batch.blobIDs)
            var documents: [SearchTextDocument] = []
            documents.reserveCapacity(batch.blobIDs.count)
            var parses: [String: [UInt8]] = [:]
            for (n, blob) in batch.blobIDs.enumerated() {
                // Parsing is CPU work on the shared executor: let sessions' commands in between.
                if n % 16 == 15 { await Task.yield() }
                // A message whose file cannot be read is left out of the index (it would fail FETCH too).
                guard let message = try? MappedMessage(path: mail.blobFilePath(blob)) else { continue }
                documents.append(searchDocument(blobID: blob, message))
                if cached[blob] == nil { parses[blob] = IMAPMessageCache(parsing: message.buffer).compactEncoded() }
            }
            try await mail.storeCachedParses(parses)
            try await mail.addToIndex(documents, mailboxID: mailboxID, throughUID: through)
            try Task.checkCancellation()
        }
    }

    /// The header values (decoded, unfolded: what TEXT compares against) and body text of a message.
    static func searchDocument(blobID: String, _ message: MappedMessage) -> SearchTextDocument {
        let buffer = message.buffer
        let header = HeaderBlock.parse(buffer, in: 0..<message.count)
        let headerText = header.fields.map { EncodedWord.decode($0.unfoldedValue(in: buffer)) }.joined(separator: "\n")
        let body = MessageParser.parse(buffer).searchableText(in: buffer).map(\.text).joined(separator: "\n")
        return SearchTextDocument(blobID: blobID, header: headerText, body: body)
    }
}

/// Keeps each account's text index and parse cache caught up with its new mail in the background, so a
/// SEARCH BODY or the first FETCH ENVELOPE after a delivery finds them ready instead of building them while
/// the user waits. One worker per account store, while the account has IMAP sessions: it follows the
/// change feed (every delivery, by SMTP or APPEND, is posted there after its commit), lets a burst settle,
/// and indexes what arrived. Nothing depends on it for correctness: a search catches up first anyway.
final class BackgroundIndexer: Sendable {
    static let shared = BackgroundIndexer()

    /// Keys of the running workers (account, feed, store).
    private let workers = Mutex<Set<String>>([])

    /// Wait after a change before indexing, so a burst of deliveries is indexed in few transactions.
    static let settle: Duration = .seconds(1)
    /// How often a worker with nothing to do checks whether its account still has sessions.
    static let recheck: Duration = .seconds(5)

    /// Starts the account's worker unless one runs. Call after the session subscribed to `feed`: the worker
    /// stops once its own subscription is the account's last one.
    func watch(_ mail: any IMAPAccountStore, accountID: String, feed: MailboxChangeFeed, logger: Logger) {
        let key = Self.key(mail, accountID: accountID, feed: feed)
        guard workers.withLock({ $0.insert(key).inserted }) else { return }
        Task.detached(priority: .background) { [self] in
            await run(mail, accountID: accountID, feed: feed, key: key, logger: logger)
        }
    }

    /// Whether a worker runs for the account (for tests).
    func isWatching(_ mail: any IMAPAccountStore, accountID: String, feed: MailboxChangeFeed) -> Bool {
        let key = Self.key(mail, accountID: accountID, feed: feed)
        return workers.withLock { $0.contains(key) }
    }

    private static func key(_ mail: any IMAPAccountStore, accountID: String, feed: MailboxChangeFeed) -> String {
        // A store reopened (say, moved by an admin command) gets its own worker; the old one fails and stops.
        let store = type(of: mail) is AnyClass ? "\(ObjectIdentifier(mail as AnyObject).hashValue)" : ""
        return "\(accountID)|\(ObjectIdentifier(feed).hashValue)|\(store)"
    }

    private func run(_ mail: any IMAPAccountStore, accountID: String, feed: MailboxChangeFeed, key: String,
                     logger: Logger) async {
        let subscription = feed.subscribe(accountID: accountID)
        defer { subscription.cancel() }
        // First pass: every mailbox (mail may have arrived while nobody was logged in).
        var all = true
        while !Task.isCancelled {
            let changed = subscription.takeChanges()
            do {
                let ids = all ? try await mail.mailboxes().map(\.id) : changed.sorted()
                all = false
                for id in ids { try await IMAPSession.catchUpIndex(mailboxID: id, in: mail) }
            } catch {
                // The store is closed or failing: stop; the next login starts a new worker.
                logger.debug("IMAP background indexing stopped: \(error)")
                workers.withLock { _ = $0.remove(key) }
                return
            }
            let stop = workers.withLock { running -> Bool in
                // Under the lock, so a session that subscribes now either is counted here or finds no worker.
                guard feed.subscriberCount(accountID: accountID) <= 1 else { return false }
                running.remove(key)
                return true
            }
            if stop { return }
            if await Self.waitForChange(subscription, atMost: Self.recheck) {
                try? await Task.sleep(for: Self.settle)
            }
        }
        workers.withLock { _ = $0.remove(key) }
    }

    /// True when a change arrived, false when `limit` passed first.
    private static func waitForChange(_ subscription: MailboxChangeSubscription, atMost limit: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await subscription.waitForChange()
                return true
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}

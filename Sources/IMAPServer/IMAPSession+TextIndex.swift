import Foundation
import IMAPProtocol
import MIME
import MailStore

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
    /// Messages indexed per write transaction while catching a mailbox up.
    static let indexBatch = 500

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

    /// Looks up the key's TEXT/BODY needles in the index, after indexing what the mailbox added since the
    /// last search and pruning entries of messages removed by other paths.
    func textSearchAnswers(for key: SearchKey, mailboxID: Int64, in mail: any IMAPAccountStore) async throws -> TextSearchAnswers {
        var needles: [TextSearchAnswers.Key] = []
        Self.textNeedles(key, into: &needles)
        needles = needles.filter { $0.needle.count >= mail.minimumIndexedNeedle }
        var answers = TextSearchAnswers()
        guard !needles.isEmpty else { return answers }
        try await catchUpIndex(mailboxID: mailboxID, in: mail)
        let now = ContinuousClock.now
        if lastIndexPrune.map({ now - $0 > .seconds(60) }) ?? true {
            try await mail.pruneIndex()
            lastIndexPrune = now
        }
        for needle in needles where answers.uids(needle.needle, needle.scope) == nil {
            answers.set(needle.needle, needle.scope,
                        try await mail.indexedUIDs(mailboxID: mailboxID, containing: needle.needle, scope: needle.scope))
        }
        return answers
    }

    /// Indexes the mailbox's messages that are not in the index yet.
    func catchUpIndex(mailboxID: Int64, in mail: any IMAPAccountStore) async throws {
        while true {
            let batch = try await mail.unindexedMessages(mailboxID: mailboxID, limit: Self.indexBatch)
            guard let through = batch.throughUID else { return }
            var documents: [SearchTextDocument] = []
            documents.reserveCapacity(batch.blobIDs.count)
            for blob in batch.blobIDs {
                // A message whose file cannot be read is left out of the index (it would fail FETCH too).
                guard let message = try? MappedMessage(path: mail.blobFilePath(blob)) else { continue }
                documents.append(Self.searchDocument(blobID: blob, message))
            }
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

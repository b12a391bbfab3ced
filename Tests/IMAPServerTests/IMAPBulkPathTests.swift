import Foundation
@testable import IMAPServer
import Logging
import MIME
import MailStore
import MailTesting
import Testing

/// The paths large mailboxes take: FETCH in chunks with the rendered head of the parse cache, the
/// background indexer that fills the text index and the parse cache after deliveries, STORE on every
/// message, and expunges by other paths found without counting the mailbox.
@Suite struct IMAPBulkPathTests {
    static let messages = [
        "From: Bob <bob@example.org>\r\nTo: alice@example.test\r\nSubject: plain\r\n\r\nHello\r\n",
        // 8-bit header text: the UTF8=ACCEPT renderings differ from the ASCII ones.
        "From: J\u{F6}rg <j@example.org>\r\nSubject: Gr\u{FC}\u{DF}e\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nbody\r\n--x--\r\n",
        "Subject: no body",
    ]

    @Test func renderedHeadOfTheCacheMatchesTheFullDecode() throws {
        for text in Self.messages {
            let cache = IMAPMessageCache(parsing: Array(text.utf8))
            let encoded = cache.compactEncoded()
            let head = try #require(RenderedParse(encoded))
            for utf8 in [false, true] {
                #expect(head.envelope(utf8: utf8) == cache.envelope(utf8: utf8))
                #expect(head.bodyStructure(utf8: utf8) == cache.bodyStructure(utf8: utf8))
                #expect(head.body(utf8: utf8) == cache.body(utf8: utf8))
            }
            // Cut anywhere: nil, or the same rendering (the tree after the head is not read); never a trap.
            for cut in 0..<encoded.count {
                if let partial = RenderedParse(Array(encoded.prefix(cut))) {
                    #expect(partial.envelope(utf8: true) == cache.envelope(utf8: true))
                }
            }
            #expect(RenderedParse([2] + encoded.dropFirst()) == nil, "another layout version is not guessed at")
        }
        #expect(RenderedParse([]) == nil)
        #expect(RenderedParse([1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) == nil)
        #expect(RenderedParse([1, 0x7F]) == nil)
    }

    @Test func backgroundIndexerFollowsDeliveriesWhileTheAccountHasSessions() async throws {
        let server = try await IMAPTestServer()
        defer { Task { await server.stop() } }
        let mail = try #require(try await server.mail() as? any IMAPAccountStore)
        try await mail.prepareForIMAP()
        let account = try #require(try await server.store.directory.account("alice@example.test"))
        let feed = MailboxChangeFeed()
        // Stands in for a logged-in session.
        let session = feed.subscribe(accountID: account.id)
        let indexer = BackgroundIndexer()
        indexer.watch(mail, accountID: account.id, feed: feed, logger: Logger(label: "test"))
        indexer.watch(mail, accountID: account.id, feed: feed, logger: Logger(label: "test"))
        for _ in 0..<100 where feed.subscriberCount(accountID: account.id) < 2 {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(feed.subscriberCount(accountID: account.id) == 2, "one worker per account")

        try await server.deliverMany(450) { "Subject: m\($0)\r\n\r\nbackground zebra\($0)\r\n" }
        // deliverMany posts on the shared feed; here deliveries reach this feed like a process's own would.
        let inbox = try #require(try await mail.mailbox(named: "INBOX"))
        feed.post(accountID: account.id, mailboxIDs: [inbox.id])
        let blobs = try await mail.messages(in: "INBOX").map(\.blobID)
        var caughtUp = false
        for _ in 0..<300 where !caughtUp {
            try await Task.sleep(for: .milliseconds(100))
            let left = try await mail.unindexedMessages(mailboxID: inbox.id, limit: 1)
            let parsed = try await mail.cachedParses(blobIDs: blobs)
            caughtUp = left.throughUID == nil && parsed.count == blobs.count
        }
        #expect(caughtUp, "text index and parse cache filled without a search or a FETCH")
        #expect(try await mail.indexedUIDs(mailboxID: inbox.id, containing: "zebra449", scope: .body).count == 1)

        // The last session leaves: the worker stops within its recheck period.
        session.cancel()
        var stopped = false
        for _ in 0..<100 where !stopped {
            try await Task.sleep(for: .milliseconds(100))
            stopped = !indexer.isWatching(mail, accountID: account.id, feed: feed)
        }
        #expect(stopped)
        #expect(feed.subscriberCount(accountID: account.id) == 0)
    }

    @Test(.enabled(if: pythonAvailable(), "python3 not installed"))
    func fetchAcrossChunksStoreOnAllAndExpungesByOtherPaths() async throws {
        let server = try await IMAPTestServer()
        defer { Task { await server.stop() } }
        let count = IMAPSession.fetchChunk + 150
        try await server.deliverMany(count) { i in
            i % 2 == 0 ? "From: n\(i)@example.org\r\nSubject: s\(i)\r\n\r\nbody \(i)\r\n"
                : "From: n\(i)@example.org\r\nSubject: s\(i)\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain \(i)\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>\(i)</p>\r\n--b--\r\n"
        }
        let marker = server.directory + "/expunge-"
        // The script waits for the marker files around the expunge this test makes through the store, the
        // way POP3 would.
        async let output = server.pythonOutput(#"""
import os
marker = sys.argv[4]
m = tls(); ok(m.select('INBOX'))
# Every message, across FETCH chunks: ENVELOPE and BODYSTRUCTURE from the rendered cache (or parsed now),
# and the same with a body section in the same command (the full tree).
subjects, shapes = {}, {}
for item in ok(m.fetch('1:*', '(UID FLAGS ENVELOPE BODYSTRUCTURE)')):
    line = item if isinstance(item, bytes) else item[0]
    seq = int(line.split()[0])
    subjects[seq] = re.search(rb'ENVELOPE \((?:NIL|"[^"]*") "(s\d+)"', line).group(1)
    shapes[seq] = b'"ALTERNATIVE"' in line.upper()
assert len(subjects) == COUNT, len(subjects)
assert sum(shapes.values()) == COUNT // 2, sum(shapes.values())
again = ok(m.fetch('1:*', '(ENVELOPE BODY.PEEK[1])'))
assert len([x for x in again if isinstance(x, tuple)]) == COUNT
for item in again:
    if isinstance(item, tuple):
        seq = int(item[0].split()[0]); i = int(subjects[seq][1:])
        assert item[1].strip() in (b'body %d' % i, b'plain %d' % i), (seq, item)
# STORE on every message: no echo of the session's own change, later changes by others still arrive.
lines, t = raw(m, b'UID STORE 1:* +FLAGS.SILENT (\\Flagged)')
assert lines == [] and b'OK' in t, (lines[:3], t)
lines, t = raw(m, b'NOOP')
assert lines == [], lines[:3]
other = tls(); ok(other.select('INBOX')); ok(other.store('7', '+FLAGS', '(\\Seen)')); other.logout()
lines, t = raw(m, b'NOOP')
assert lines == [b'* 7 FETCH (UID 7 FLAGS (\\Flagged \\Seen))'] or lines == [b'* 7 FETCH (FLAGS (\\Flagged \\Seen) UID 7)'], lines
assert len(ok(m.search(None, 'FLAGGED')).pop().split()) == COUNT
# An expunge through the store (as POP3 does) is announced at the next command.
open(marker + 'ready', 'w').close()
for _ in range(300):
    if os.path.exists(marker + 'done'): break
    time.sleep(0.05)
lines, t = raw(m, b'NOOP')
assert lines == [b'* 3 EXPUNGE'], lines
assert ok(m.fetch('3', '(UID)'))[0].startswith(b'3 (UID 4)')
m.logout()
print('ok')
"""#.replacingOccurrences(of: "COUNT", with: String(count)), [marker])
        for _ in 0..<600 where !FileManager.default.fileExists(atPath: marker + "ready") {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await server.mail().expunge(in: "INBOX", uids: [3])
        #expect(FileManager.default.createFile(atPath: marker + "done", contents: nil))
        _ = try await output
    }
}

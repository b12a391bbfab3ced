import Foundation
import MailStore
import MailTesting
import Testing

/// SEARCH TEXT/BODY through the per-account FTS5 index: filled lazily, kept in step with expunges, fast.
@Suite struct IMAPSearchIndexTests {
    /// Message `i`: a common word in every body, a rare one in every 500th, a word only in the subject of
    /// every 7th, and a quoted-printable line in every 3rd.
    static func message(_ i: Int) -> String {
        let rare = i % 500 == 0 ? " zanzibar" : ""
        let subject = i % 7 == 0 ? "Quarterly figures \(i)" : "note \(i)"
        if i % 3 == 0 {
            return "From: sender\(i % 13)@example.org\r\nTo: alice@example.test\r\nSubject: \(subject)\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nK=C3=A4se and common words\(rare) number\(i)\r\n"
        }
        return "From: sender\(i % 13)@example.org\r\nTo: alice@example.test\r\nSubject: \(subject)\r\n\r\nHello common words\(rare) number\(i)\r\n"
    }

    @Test(.enabled(if: pythonAvailable(), "python3 not installed"))
    func bodyAndTextSearchComeFromTheIndexAndFollowExpunges() async throws {
        let count = 2_000
        let server = try await IMAPTestServer()
        defer { Task { await server.stop() } }
        try await server.deliverMany(count, Self.message)
        // Concurrent deliveries take UIDs in any order: the script maps sequence numbers to `i` by subject.
        let output = try await server.pythonOutput(#"""
m = tls(); ok(m.select('INBOX'))
index = {}
for item in ok(m.fetch('1:*', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')):
    if isinstance(item, tuple):
        seq = int(item[0].split()[0]); index[int(re.search(rb'(\d+)\s*$', item[1]).group(1))] = seq
def want(pred):
    return ' '.join(str(n) for n in sorted(index[i] for i in index if pred(i)))
exp = {'rare': want(lambda i: i % 500 == 0), 'all': want(lambda i: True), 'qp': want(lambda i: i % 3 == 0),
       'subject': want(lambda i: i % 7 == 0), 'both': want(lambda i: i % 7 == 0 and i % 500 == 0),
       'either': want(lambda i: i % 7 == 0 or i % 500 == 0)}
def s(*crit):
    return ok(m.search(None, *crit))[0].decode()
t0 = time.monotonic(); r = s('BODY', 'zanzibar'); first = time.monotonic() - t0
assert r == exp['rare'], r
t0 = time.monotonic(); r = s('BODY', 'ZANZIBAR'); second = time.monotonic() - t0
assert r == exp['rare'], r
assert s('BODY', '"common words"') == exp['all']
assert s('BODY', 'number1999') == str(index[1999])
assert s('BODY', 'quarterly') == '', 'BODY does not look at the header'
assert s('TEXT', 'quarterly') == exp['subject']
assert s('TEXT', 'quarterly', 'BODY', 'zanzibar') == exp['both']
assert s('OR', 'BODY', 'zanzibar', 'TEXT', 'quarterly') == exp['either']
assert s('NOT', 'BODY', 'common') == ''
assert s('BODY', 'r1') != '', 'short needles are answered by reading the messages'
lines, t = raw(m, b'SEARCH CHARSET UTF-8 BODY {5+}\r\nK\xc3\xa4SE')
assert lines == [b'* SEARCH ' + exp['qp'].encode()], 'decoded, case-folded body'
# Flags with text come from the session's view; header keys with text read the messages.
ok(m.store(str(index[1000]), '+FLAGS', '(\\Seen)'))
assert s('SEEN', 'BODY', 'zanzibar') == str(index[1000])
assert s('UNSEEN', 'BODY', 'zanzibar') == want(lambda i: i % 500 == 0 and i != 1000)
assert s('FROM', 'sender0@', 'BODY', 'zanzibar') == str(index[0])
other = tls(); ok(other.select('INBOX')); ok(other.store(str(index[1500]), '+FLAGS', '(\\Seen)')); other.logout()
assert s('SEEN', 'BODY', 'zanzibar') == want(lambda i: i in (1000, 1500)), 'a flag change by another session counts'
# A new message is indexed by the next search; an expunged one leaves the index.
ok(m.append('INBOX', None, None, b'From: x@example.org\r\nSubject: late\r\n\r\nzanzibar arrives late\r\n'))
r = s('BODY', 'zanzibar').split()
assert r[-1] == '2001' and len(r) == len(exp['rare'].split()) + 1, r
first_rare = exp['rare'].split()[0]
ok(m.store(first_rare, '+FLAGS', '(\\Deleted)')); ok(m.expunge())
r = s('BODY', 'zanzibar').split()
assert len(r) == len(exp['rare'].split()) and r[-1] == '2000', r
print('timing first=%.3f second=%.3f' % (first, second))
print('ok')
"""#)
        print("IMAP FTS on \(count) messages:", output.split(separator: "\n").first { $0.hasPrefix("timing") } ?? "")
        // The expunged message's text left the index with its blob.
        let mail = try #require(try await server.mail() as? any IMAPAccountStore)
        let inbox = try #require(try await mail.mailbox(named: "INBOX"))
        let rare = try await mail.indexedUIDs(mailboxID: inbox.id, containing: "zanzibar", scope: .body)
        #expect(rare.count == count / 500 + 1 - 1)
        #expect(try await mail.pruneIndex() == 0)
    }

    /// The figure the issue asks for: set SKJOLD_IMAP_FTS_BENCH=100000 to run it on that many messages.
    @Test(.enabled(if: pythonAvailable() && ProcessInfo.processInfo.environment["SKJOLD_IMAP_FTS_BENCH"] != nil,
                   "set SKJOLD_IMAP_FTS_BENCH=N to measure SEARCH BODY on N messages"))
    func bodySearchBenchmark() async throws {
        let count = Int(ProcessInfo.processInfo.environment["SKJOLD_IMAP_FTS_BENCH"] ?? "") ?? 100_000
        let server = try await IMAPTestServer()
        defer { Task { await server.stop() } }
        let start = ContinuousClock.now
        try await server.deliverMany(count, Self.message)
        print("delivered \(count) in \(ContinuousClock.now - start)")
        let output = try await server.pythonOutput(#"""
m = imaplib.IMAP4_SSL('127.0.0.1', TLSPORT, ssl_context=CTX, timeout=1800); m.login(USER, PW); ok(m.select('INBOX'))
def timed(*crit):
    t0 = time.monotonic(); r = ok(m.search(None, *crit))[0]; return time.monotonic() - t0, len(r.split())
print('index build + rare: %.3f s (%d hits)' % timed('BODY', 'zanzibar'))
print('rare: %.3f s (%d hits)' % timed('BODY', 'zanzibar'))
print('common: %.3f s (%d hits)' % timed('BODY', 'common'))
print('text subject: %.3f s (%d hits)' % timed('TEXT', 'quarterly'))
print('ok')
"""#)
        print("IMAP FTS benchmark on \(count) messages:\n\(output)")
    }
}

import Foundation
import MailStore
import MailTesting
import Testing

/// QUOTA (RFC 9208) over the account's plan, OVERQUOTA on APPEND/COPY, and the weekly transfer allowance
/// (issue 7) on FETCH.
@Suite struct IMAPQuotaTests {
    static let small = "From: bob@example.org\r\nTo: alice@example.test\r\nSubject: small\r\n\r\n" + String(repeating: "s", count: 200) + "\r\n"

    @Test(.enabled(if: pythonAvailable(), "python3 not installed"))
    func quotaReportsUsageAndRefusesAppendAndCopyOverIt() async throws {
        let server = try await IMAPTestServer(storage: 3_000)
        defer { Task { await server.stop() } }
        try await server.deliver(Self.small)
        let used = try await server.mail().storageUsed()
        try await server.python(#"""
used = int(sys.argv[4])
def kib(n): return (n + 1023) // 1024
m = tls()
caps = ok(m.capability())[0].decode().split()
assert 'QUOTA' in caps and 'QUOTA=RES-STORAGE' in caps, caps
lines, t = raw(m, b'GETQUOTAROOT INBOX')
assert lines == [b'* QUOTAROOT "INBOX" ""', b'* QUOTA "" (STORAGE %d 3)' % kib(used)], lines
lines, t = raw(m, b'GETQUOTA ""')
assert lines == [b'* QUOTA "" (STORAGE %d 3)' % kib(used)], lines
lines, t = raw(m, b'GETQUOTA "elsewhere"')
assert b'NO [NONEXISTENT]' in t, t
lines, t = raw(m, b'GETQUOTAROOT Nowhere')
assert b'NO [NONEXISTENT]' in t, t
lines, t = raw(m, b'SETQUOTA "" (STORAGE 99999)')
assert b'NO [NOPERM]' in t, t
# Too big for what is left: refused before the data is sent (synchronising literal), nothing stored.
big = b'From: x@example.org\r\nSubject: big\r\n\r\n' + b'b' * 3000 + b'\r\n'
typ, data = m.append('INBOX', None, None, big)
assert typ == 'NO' and b'[OVERQUOTA]' in data[0], (typ, data)
# The same with LITERAL+ (the data comes anyway and is skipped).
lines, t = raw(m, b'APPEND INBOX {%d+}\r\n' % len(big) + big)
assert b'NO [OVERQUOTA]' in t, t
assert ok(m.status('INBOX', '(MESSAGES)'))[0].endswith(b'(MESSAGES 1)')
ok(m.append('INBOX', None, None, b'From: x@example.org\r\nSubject: fits\r\n\r\n' + b'f' * 300 + b'\r\n'))
# COPY until the quota is reached: the refused copy stores nothing; MOVE still works (no growth).
ok(m.select('INBOX'))
copies = 0
while True:
    typ, data = m.copy('1:2', 'Archive')
    if typ != 'OK': break
    copies += 1
    assert copies < 20
assert b'[OVERQUOTA]' in data[0], data
archived = ok(m.status('Archive', '(MESSAGES)'))[0]
assert archived.endswith(b'(MESSAGES %d)' % (2 * copies)), (archived, copies)
lines, t = raw(m, b'MOVE 1 Trash')
assert b'OK' in t, t
lines, t = raw(m, b'GETQUOTAROOT Archive')
usage = int(re.search(rb'STORAGE (\d+) 3', lines[1]).group(1))
assert usage <= 3, lines
print('ok')
"""#, [String(used)])
    }

    @Test(.enabled(if: pythonAvailable(), "python3 not installed"))
    func planMessageSizeLowersAppendLimit() async throws {
        let server = try await IMAPTestServer(maximumMessageSize: 1 << 20, messageSizePerPlan: ["standard": 500])
        defer { Task { await server.stop() } }
        try await server.python(#"""
m = tls()
caps = ok(m.capability())[0].decode().split()
assert 'APPENDLIMIT=500' in caps, caps
typ, data = m.append('INBOX', None, None, b'Subject: big\r\n\r\n' + b'x' * 600 + b'\r\n')
assert typ == 'NO' and b'[TOOBIG]' in data[0], (typ, data)
ok(m.append('INBOX', None, None, b'Subject: small\r\n\r\nfits\r\n'))
lines, t = raw(m, b'STATUS INBOX (MESSAGES APPENDLIMIT)')
assert lines == [b'* STATUS "INBOX" (MESSAGES 1 APPENDLIMIT 500)'], lines
print('ok')
"""#)
    }

    @Test(.enabled(if: pythonAvailable(), "python3 not installed"))
    func racingAppendsCannotBothTakeTheLastBytes() async throws {
        let server = try await IMAPTestServer(storage: 1_000)
        defer { Task { await server.stop() } }
        try await server.python(#"""
import threading
msg = b'From: x@example.org\r\nSubject: race\r\n\r\n' + b'r' * 560 + b'\r\n'
results = []
def one():
    c = tls()
    results.append(c.append('INBOX', None, None, msg)[0])
    c.logout()
for round in range(3):
    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads: t.start()
    for t in threads: t.join()
m = tls()
stored = int(re.search(rb'MESSAGES (\d+)', ok(m.status('INBOX', '(MESSAGES)'))[0]).group(1))
assert results.count('OK') == 1 and stored == 1, (results, stored)
print('ok')
"""#)
    }

    @Test(.enabled(if: pythonAvailable(), "python3 not installed"))
    func bandwidthExhaustionBlocksBodiesButNotFlagsExpungeOrLogout() async throws {
        let server = try await IMAPTestServer(bandwidth: 1_000)
        defer { Task { await server.stop() } }
        for _ in 0..<3 { try await server.deliver(Self.small) }
        let account = try #require(try await server.store.directory.account("alice@example.test"))
        try await server.python(#"""
m = tls(); ok(m.select('INBOX'))
fetched = 0
while True:
    typ, data = m.fetch('1', '(BODY.PEEK[])')
    if typ != 'OK': break
    fetched += 1
    assert fetched < 10
assert fetched == 4, fetched
assert b'[LIMIT]' in data[0] and b'Weekly transfer allowance' in data[0], data
for items in ['(BINARY.PEEK[1])', '(RFC822)', '(BODY.PEEK[TEXT])', 'BODY[]']:
    typ, data = m.fetch('2', items)
    assert typ == 'NO' and b'[LIMIT]' in data[0], (items, typ, data)
# Listing, headers, flags, deleting and leaving still work.
data = ok(m.fetch('1:3', '(UID FLAGS RFC822.SIZE ENVELOPE BODY.PEEK[HEADER.FIELDS (SUBJECT)])'))
assert len([d for d in data if isinstance(d, tuple)]) == 3, data
assert b'\\Seen' not in data[0][0], 'the refused BODY[] did not set \\Seen'
ok(m.store('1', '+FLAGS', '(\\Deleted)'))
assert ok(m.expunge()) == [b'1']
ok(m.append('INBOX', None, None, b'From: x@example.org\r\nSubject: up\r\n\r\nupload\r\n'))
assert m.logout()[0] == 'BYE'
print('ok')
"""#)
        let usage = try await server.store.quotas.trafficUsage(accountID: account.id, now: Date())
        // Four whole messages fetched, the header fields, and the appended message.
        #expect(usage.used >= 4 * Int64(Self.small.utf8.count) + 40, "\(usage.used)")
    }
}

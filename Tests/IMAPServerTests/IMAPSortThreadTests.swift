import Foundation
import MailStore
import MailTesting
import Testing

/// SORT and THREAD (RFC 5256) over a small conversation with replies, forwards, a missing parent, list
/// tags and a message without Date or Message-ID.
@Suite struct IMAPSortThreadTests {
    static let messages = [
        "From: zed@example.org\r\nSubject: Re: hello\r\nDate: Wed, 3 Jan 2024 10:00:00 +0000\r\nMessage-ID: <b@x>\r\nIn-Reply-To: <a@x>\r\n\r\nb\r\n",
        "From: amy@example.org\r\nSubject: hello\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <a@x>\r\n\r\na\r\n",
        "From: bob@example.org\r\nCc: x@example.org\r\nSubject: [list] other topic\r\nDate: Tue, 2 Jan 2024 10:00:00 +0000\r\nMessage-ID: <c@x>\r\n\r\nc\r\n",
        "From: carl@example.org\r\nSubject: Fwd: hello (fwd)\r\nDate: Fri, 5 Jan 2024 10:00:00 +0000\r\nMessage-ID: <d@x>\r\nReferences: <a@x> <b@x>\r\n\r\nd\r\n",
        "From: dan@example.org\r\nSubject: Re: other   topic\r\nDate: Thu, 4 Jan 2024 10:00:00 +0000\r\nMessage-ID: <e@x>\r\nReferences: <missing@x>\r\n\r\ne\r\n",
        "From: Amy@example.org\r\nSubject: unrelated\r\n\r\nno date, no id\r\n",
        "From: eve@example.org\r\nSubject: Re: [fwd: RE: hello]\r\nDate: Sat, 6 Jan 2024 11:00:00 +0100\r\nMessage-ID: <f@x>\r\nIn-Reply-To: <a@x>\r\n\r\nf\r\n",
    ]

    @Test(.enabled(if: pythonAvailable(), "python3 not installed"))
    func sortAndThreadFollowRFC5256() async throws {
        let server = try await IMAPTestServer()
        defer { Task { await server.stop() } }
        let mail = try await server.mail()
        // Arrival order is the reverse of the sequence: message i arrived i hours before 10 Jan 2024.
        let base = Date(timeIntervalSince1970: 1_704_844_800)
        for (i, text) in Self.messages.enumerated() {
            _ = try await mail.deliver(.bytes(Array(text.utf8)), to: "INBOX", flags: [],
                                       internalDate: base.addingTimeInterval(-3600 * Double(i + 1)))
        }
        try await server.python(#"""
m = tls(); ok(m.select('INBOX'))
caps = ok(m.capability())[0].decode().split()
assert 'SORT' in caps and 'THREAD=REFERENCES' in caps and 'THREAD=ORDEREDSUBJECT' in caps, caps
def sort(crit, *search):
    return ok(m.sort(crit, 'UTF-8', *(search or ('ALL',))))[0].decode()
assert sort('(SUBJECT)') == '1 2 4 7 3 5 6', sort('(SUBJECT)')
assert sort('(DATE)') == '2 3 1 5 4 7 6', sort('(DATE)')
assert sort('(REVERSE DATE)') == '6 7 4 5 1 3 2', sort('(REVERSE DATE)')
assert sort('(ARRIVAL)') == '7 6 5 4 3 2 1', sort('(ARRIVAL)')
assert sort('(FROM)') == '2 6 3 4 5 7 1', sort('(FROM)')
assert sort('(CC DATE)') == '2 1 5 4 7 6 3', sort('(CC DATE)')
assert sort('(TO REVERSE ARRIVAL)') == '1 2 3 4 5 6 7', sort('(TO REVERSE ARRIVAL)')
assert sort('(SUBJECT REVERSE DATE)') == '7 4 1 2 5 3 6', sort('(SUBJECT REVERSE DATE)')
assert sort('(DATE)', 'FROM', 'amy') == '2 6', sort('(DATE)', 'FROM', 'amy')
sizes = {}
for item in ok(m.fetch('1:*', '(RFC822.SIZE)')):
    mm = re.match(rb'(\d+) \(RFC822.SIZE (\d+)\)', item); sizes[int(mm.group(1))] = int(mm.group(2))
assert sort('(SIZE)') == ' '.join(str(n) for n in sorted(sizes, key=lambda n: (sizes[n], n)))
assert ok(m.uid('SORT', '(DATE)', 'UTF-8', 'SUBJECT', 'hello'))[0] == b'2 1 4 7'
def thread(alg, *search):
    return ok(m.thread(alg, 'UTF-8', *(search or ('ALL',))))[0].decode()
assert thread('ORDEREDSUBJECT') == '(2 (1)(4)(7))(3 5)(6)', thread('ORDEREDSUBJECT')
assert thread('REFERENCES') == '(2 (1 4)(7))(3 5)(6)', thread('REFERENCES')
assert thread('REFERENCES', 'NOT', 'FROM', 'zed') == '(2 (4)(7))(3 5)(6)', thread('REFERENCES', 'NOT', 'FROM', 'zed')
assert thread('REFERENCES', 'FROM', 'nobody') == ''
lines, t = raw(m, b'THREAD FOO UTF-8 ALL')
assert b' BAD ' in t or b' NO ' in t, t
lines, t = raw(m, b'SORT RETURN (COUNT) (DATE) UTF-8 ALL')
assert b' BAD ' in t, t
print('ok')
"""#)
    }
}

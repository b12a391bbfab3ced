import Foundation
import MailStore
import MailTesting
import Testing

/// COMPRESS=DEFLATE (RFC 4978) driven by a Python client that deflates and inflates the stream itself.
@Suite struct IMAPCompressTests {
    @Test(.enabled(if: pythonAvailable(), "python3 not installed"))
    func compressedSessionFetchesAppendsIdlesAndLogsOut() async throws {
        let server = try await IMAPTestServer()
        defer { Task { await server.stop() } }
        let body = (0..<400).map { "line \($0) of a compressible message body" }.joined(separator: "\r\n")
        try await server.deliver("From: bob@example.org\r\nSubject: big\r\n\r\n" + body + "\r\n")
        try await server.python(#"""
import zlib
m = tls()
assert 'COMPRESS=DEFLATE' in ok(m.capability())[0].decode().split()
lines, t = raw(m, b'COMPRESS FOO')
assert b' BAD ' in t, t
lines, t = raw(m, b'COMPRESS DEFLATE')
assert t.endswith(b'OK DEFLATE active'), t
sock = m.sock
comp = zlib.compressobj(6, zlib.DEFLATED, -15); decomp = zlib.decompressobj(-15)
pending = b''
received = 0
def send(data):
    sock.sendall(comp.compress(data) + comp.flush(zlib.Z_SYNC_FLUSH))
def line():
    global pending, received
    while b'\r\n' not in pending:
        chunk = sock.recv(65536)
        if not chunk: raise SystemExit('closed; got %r' % pending)
        received += len(chunk)
        pending += decomp.decompress(chunk)
    l, pending = pending.split(b'\r\n', 1)
    return l
def take(n):
    global pending, received
    while len(pending) < n:
        chunk = sock.recv(65536); received += len(chunk)
        pending += decomp.decompress(chunk)
    data, pending = pending[:n], pending[n:]
    return data
def cmd(tag, text):
    send(tag + b' ' + text + b'\r\n')
    out = []
    while True:
        l = line()
        mm = re.search(rb'\{(\d+)\}$', l)
        if mm: l = l + b'\r\n' + take(int(mm.group(1))) + line()
        if l.startswith(tag + b' '): return out, l
        out.append(l)
out, t = cmd(b'c1', b'COMPRESS DEFLATE')
assert b'NO [COMPRESSIONACTIVE]' in t, t
caps = cmd(b'c2', b'CAPABILITY')[0][0]
assert b'COMPRESS=DEFLATE' not in caps, caps
out, t = cmd(b'c3', b'SELECT INBOX')
assert b'* 1 EXISTS' in out and b'OK [READ-WRITE]' in t, (out, t)
before = received
out, t = cmd(b'c4', b'FETCH 1 (BODY.PEEK[TEXT])')
text = out[0].split(b'\r\n', 1)[1]
expected = '\r\n'.join('line %d of a compressible message body' % i for i in range(400)).encode() + b'\r\n'
assert text.startswith(expected), text[:200]
assert received - before < len(expected) / 4, ('not compressed', received - before, len(expected))
msg = b'From: x@example.org\r\nSubject: up\r\n\r\nsent compressed\r\n'
out, t = cmd(b'c5', b'APPEND INBOX {%d+}\r\n' % len(msg) + msg)
assert b'OK [APPENDUID' in t, t
send(b'c6 IDLE\r\n')
assert line().startswith(b'+ '), 'idle continuation'
send(b'DONE\r\n')
while True:
    l = line()
    if l.startswith(b'c6 '): break
assert l == b'c6 OK IDLE terminated', l
out, t = cmd(b'c7', b'SEARCH BODY compressed')
assert out == [b'* SEARCH 2'], out
out, t = cmd(b'c8', b'LOGOUT')
assert out[0].startswith(b'* BYE') and b'OK' in t, (out, t)
print('ok')
"""#)
    }
}

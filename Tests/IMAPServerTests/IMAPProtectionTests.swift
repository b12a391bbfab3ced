import Foundation
import MailStore
import MailTesting
import Testing

/// Issue 7 over IMAP: app passwords, and brute force that slows down and is refused for the attacking
/// address while the owner still logs in from another one.
@Suite struct IMAPProtectionTests {
    @Test(.enabled(if: pythonAvailable(), "python3 not installed"))
    func appPasswordWorksForIMAPUntilRevoked() async throws {
        let server = try await IMAPTestServer()
        defer { Task { await server.stop() } }
        let app = try await server.store.protection.addAppPassword("alice@example.test", name: "laptop")
        let script = #"""
APP, EXPECT = sys.argv[4], sys.argv[5]
m = imaplib.IMAP4_SSL('127.0.0.1', TLSPORT, ssl_context=CTX, timeout=20)
try:
    m.login(USER, APP); result = 'accepted'; m.logout()
except imaplib.IMAP4.error:
    result = 'refused'
assert result == EXPECT, result
print('ok')
"""#
        try await server.python(script, [app, "accepted"])
        try await server.store.protection.revokeAppPassword("alice@example.test", name: "laptop")
        try await server.python(script, [app, "refused"])
    }

    @Test(.enabled(if: pythonAvailable(), "python3 not installed"))
    func bruteForceIsRefusedButTheOwnerElsewhereGetsIn() async throws {
        let server = try await IMAPTestServer()
        defer { Task { await server.stop() } }
        let script = #"""
class FromAddress(imaplib.IMAP4_SSL):
    """An IMAPS client whose connections come from another loopback address."""
    def __init__(self, source, *a, **k):
        self.source = source
        super().__init__(*a, **k)
    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout, source_address=(self.source, 0))
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)
def attempt(source, password):
    m = FromAddress(source, '127.0.0.1', TLSPORT, ssl_context=CTX, timeout=30)
    try:
        m.login(USER, password); m.logout(); return 'OK'
    except imaplib.IMAP4.error as e:
        return str(e)
    finally:
        try: m.shutdown()
        except Exception: pass
start = time.time()
answers = [attempt('127.0.0.1', 'wrong-%d' % i) for i in range(30)]
elapsed = time.time() - start
assert all(a != 'OK' for a in answers)
assert any('UNAVAILABLE' in a or 'later' in a.lower() for a in answers[-5:]), answers[-5:]
assert elapsed > 1.0, elapsed                     # the failures were slowed down
assert attempt('127.0.0.1', PW) != 'OK'           # the attacking address stays refused, even with the password
assert attempt('127.0.0.2', PW) == 'OK'           # the owner elsewhere is not locked out
print('ok', round(elapsed, 2))
"""#
        try await server.python(script)
    }
}

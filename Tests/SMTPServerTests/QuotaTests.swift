import Foundation
import MailStore
import MailTesting
import SMTPServer
import SkjoldConfig
import Testing

/// Plan limits enforced by the SMTP server: daily outgoing recipients, storage, message size.
@Suite struct QuotaTests {
    static func plans(outgoing: Int = 500, storage: Int64 = 10_000_000_000, maxSize: Int = 140 << 20) -> [String: Plan] {
        ["standard": Plan(name: "standard", storage: storage, bandwidthPerWeek: 10_000_000_000, outgoingPerDay: outgoing,
                          aliases: 100, maxMessageSize: maxSize)]
    }

    static let submitScript = #"""
import smtplib, ssl, sys
port, pw, start, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP('127.0.0.1', port, timeout=30)
s.starttls(context=ctx); s.login('alice@example.test', pw)
s.mail('alice@example.test')
accepted, refused = 0, []
for i in range(start, start + count):
    code, text = s.rcpt(f'friend{i}@elsewhere.example')
    if code == 250: accepted += 1
    else: refused.append((code, text.decode()))
if accepted:
    code, _ = s.data(b'Subject: q\r\n\r\nx\r\n'); assert code == 250, code
else:
    s.rset()
s.quit()
print(accepted)
for code, text in refused[:1]: print(code, text)
"""#

    func submit(_ server: TestServer, start: Int, count: Int) async throws -> (Int, String) {
        let port = server.submissionPort
        let (status, output) = try await blocking {
            try runPython(Self.submitScript, [String(port), TestServer.password, String(start), String(count)])
        }
        #expect(status == 0, "\(output)")
        let lines = output.split(separator: "\n").map(String.init)
        return (Int(lines.first ?? "") ?? -1, lines.dropFirst().first ?? "")
    }

    @Test(.enabled(if: pythonAvailable(), "python3 not installed"))
    func dailyRecipientAllowance() async throws {
        let server = try await TestServer(plans: Self.plans(outgoing: 10))
        defer { Task { await server.stop() } }
        let (first, _) = try await submit(server, start: 0, count: 7)
        #expect(first == 7)
        let (second, refusal) = try await submit(server, start: 7, count: 5)
        #expect(second == 3, "the allowance is 10: 7 + 3")
        #expect(refusal.hasPrefix("450 4.7.0 Daily sending quota of 10 recipients reached. It frees up from "), "\(refusal)")
    }

    @Test(.enabled(if: pythonAvailable(), "python3 not installed"))
    func standardPlanRefusesThe501stRecipientOfTheDay() async throws {
        let server = try await TestServer()  // built-in plans: standard = 500 recipients a day
        defer { Task { await server.stop() } }
        let (first, _) = try await submit(server, start: 0, count: 300)
        let (second, refusal) = try await submit(server, start: 300, count: 201)
        #expect(first == 300)
        #expect(second == 200, "recipients 301...500 accepted, the 501st refused")
        #expect(refusal.hasPrefix("450 4.7.0 Daily sending quota of 500 recipients reached."), "\(refusal)")
    }

    @Test(.enabled(if: pythonAvailable(), "python3 not installed"))
    func concurrentSubmissionsCannotOvershoot() async throws {
        let server = try await TestServer(plans: Self.plans(outgoing: 30))
        defer { Task { await server.stop() } }
        async let a = submit(server, start: 0, count: 20)
        async let b = submit(server, start: 100, count: 20)
        let total = try await a.0 + b.0
        #expect(total == 30)
        let used = try await server.store.quotas.outgoingUsage(
            accountID: try #require(try await server.store.directory.account("alice@example.test")).id, now: Date())
        #expect(used.used == 30)
    }

    @Test func fullMailboxIsATemporaryRefusal() async throws {
        let server = try await TestServer(plans: Self.plans(storage: 2000))
        defer { Task { await server.stop() } }
        let port = server.mxPort
        let big = String(repeating: "z", count: 2500)
        try await blocking {
            let client = try RawClient(port: port)
            try client.expect("220")
            try client.command("EHLO q.example.org", "250")
            try client.command("MAIL FROM:<q@example.org> SIZE=3000", "250")
            try client.command("RCPT TO:<alice@example.test>", "452 4.2.2")  // would not fit
            try client.command("RSET", "250")
            try client.command("MAIL FROM:<q@example.org>", "250")
            try client.command("RCPT TO:<alice@example.test>", "250")
            try client.command("DATA", "354")
            try client.command("Subject: fill\r\n\r\n\(big)\r\n.", "250")
            try client.command("MAIL FROM:<q@example.org>", "250")
            try client.command("RCPT TO:<alice@example.test>", "452 4.2.2")  // now full
            try client.command("RCPT TO:<bob@example.test>", "250")  // others unaffected
        }
        #expect(try await server.inbox("alice@example.test").count == 1)
    }

    @Test func planMessageSizeLimit() async throws {
        let server = try await TestServer(plans: Self.plans(maxSize: 1000))
        defer { Task { await server.stop() } }
        let port = server.mxPort
        let body = String(repeating: "y", count: 1500)
        try await blocking {
            let client = try RawClient(port: port)
            try client.expect("220")
            try client.command("EHLO s.example.org", "250")
            try client.command("MAIL FROM:<s@example.org> SIZE=1500", "250")
            try client.command("RCPT TO:<alice@example.test>", "552 5.3.4")
            try client.command("RSET", "250")
            try client.command("MAIL FROM:<s@example.org>", "250")
            try client.command("RCPT TO:<alice@example.test>", "250")
            try client.command("DATA", "354")
            try client.command("Subject: big\r\n\r\n\(body)\r\n.", "552 5.3.4")
        }
        #expect(try await server.inbox("alice@example.test").isEmpty)
    }
}

/// Account protection on submission: app passwords and the burst pause.
@Suite struct ProtectionTests {
    static let script = #"""
import smtplib, ssl, sys
port, password, expect = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP_SSL('127.0.0.1', port, context=ctx, timeout=20)
try:
    s.login('alice@example.test', password)
    print('login ok')
except smtplib.SMTPAuthenticationError as e:
    print('login refused', e.smtp_code)
"""#

    func login(_ server: TestServer, _ password: String) async throws -> String {
        let port = server.submissionsPort
        let (_, output) = try await blocking { try runPython(Self.script, [String(port), password, ""]) }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(.enabled(if: pythonAvailable(), "python3 not installed"))
    func appPasswordWorksUntilRevoked() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let app = try await server.store.protection.addAppPassword("alice@example.test", name: "phone")
        #expect(try await server.store.protection.appPasswords("alice@example.test").map(\.name) == ["phone"])
        #expect(try await login(server, app) == "login ok")
        #expect(try await login(server, TestServer.password) == "login ok", "the main password still works")
        try await server.store.protection.revokeAppPassword("alice@example.test", name: "phone")
        #expect(try await login(server, app) == "login refused 535")
        await #expect(throws: DirectoryError.self) {
            try await server.store.protection.revokeAppPassword("alice@example.test", name: "phone")
        }
    }

    @Test(.enabled(if: pythonAvailable(), "python3 not installed"))
    func mainPasswordRestrictedToTheWeb() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let app = try await server.store.protection.addAppPassword("alice@example.test", name: "mail")
        try await server.store.protection.setMainPasswordWebOnly("alice@example.test", true)
        #expect(try await login(server, TestServer.password) == "login refused 535")
        #expect(try await login(server, app) == "login ok")
        try await server.store.protection.setMainPasswordWebOnly("alice@example.test", false)
        #expect(try await login(server, TestServer.password) == "login ok")
    }

    @Test func burstPausesSubmissionUntilUnlocked() async throws {
        let server = try await TestServer(burstRecipients: 5)
        defer { Task { await server.stop() } }
        let port = server.submissionPort
        // Plain-socket submission needs TLS; use the store's session through smtplib instead.
        let script = #"""
import smtplib, ssl, sys
port, pw = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP('127.0.0.1', port, timeout=20); s.starttls(context=ctx); s.login('alice@example.test', pw)
s.mail('alice@example.test')
codes = [s.rcpt(f'r{i}@elsewhere.example')[0] for i in range(7)]
s.rset()
code, text = s.mail('alice@example.test')
print(' '.join(map(str, codes)), code, text.decode())
"""#
        let (status, output) = try await blocking { try runPython(script, [String(port), TestServer.password]) }
        #expect(status == 0, "\(output)")
        #expect(output.hasPrefix("250 250 250 250 250 450 450 450 4.7.1 Sending is paused"), "\(output)")
        let alice = try #require(try await server.store.directory.account("alice@example.test"))
        #expect(try await server.store.protection.submissionPause(accountID: alice.id) != nil)
        try await server.store.protection.unlock("alice@example.test")
        #expect(try await server.store.protection.submissionPause(accountID: alice.id) == nil)
    }
}

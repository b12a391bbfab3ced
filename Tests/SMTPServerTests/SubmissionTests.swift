import Foundation
import MailStore
import MailTesting
import SMTPServer
import Testing

/// Submission (587 STARTTLS, 465 implicit TLS) the way mail clients use it.
@Suite struct SubmissionTests {
    @Test func plaintextSubmissionOffersOnlySTARTTLS() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let port = server.submissionPort
        try await blocking {
            let client = try RawClient(port: port)
            try client.expect("220")
            try client.send("EHLO client.example.org\r\n")
            let ehlo = try client.reply()
            #expect(ehlo.contains("250-STARTTLS") || ehlo.last == "250 STARTTLS")
            #expect(!ehlo.contains { $0.contains("AUTH") }, "no AUTH before TLS: \(ehlo)")
            try client.command("AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdAB4", "538 5.7.11")
            try client.command("MAIL FROM:<alice@example.test>", "530 5.7.0")
            try client.command("STARTTLS", "220 2.0.0")
        }
    }

    /// Python's smtplib: STARTTLS + AUTH PLAIN and LOGIN, implicit TLS, sender ownership, remote recipients queued.
    @Test(.enabled(if: pythonAvailable(), "python3 not installed"))
    func smtplibClient() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let script = #"""
import smtplib, ssl, sys, time
sub, subs, pw = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
ctx.minimum_version = ssl.TLSVersion.TLSv1_2
s = smtplib.SMTP('127.0.0.1', sub, timeout=20)
s.starttls(context=ctx)
s.ehlo()
assert 'PLAIN' in s.esmtp_features.get('auth', ''), s.esmtp_features
assert 'starttls' not in s.esmtp_features
try:
    s.login('alice@example.test', 'wrong password')
    raise SystemExit('wrong password accepted')
except smtplib.SMTPAuthenticationError as e:
    assert e.smtp_code == 535, e
s.login('alice@example.test', pw)
refused = s.sendmail('al@example.test', ['bob@example.test', 'friend@elsewhere.example'], b'Subject: one\r\n\r\nhi\r\n',
                     rcpt_options=['NOTIFY=SUCCESS,FAILURE'])
assert refused == {}, refused
try:
    s.sendmail('bob@example.test', ['alice@example.test'], b'Subject: spoof\r\n\r\nx\r\n')
    raise SystemExit('foreign sender accepted')
except smtplib.SMTPSenderRefused as e:
    assert e.smtp_code == 553 and b'5.7.1' in e.smtp_error, e
s.quit()
s = smtplib.SMTP_SSL('127.0.0.1', subs, context=ctx, timeout=20)
s.ehlo()
s.user, s.password = 'bob@example.test', pw
code, _ = s.auth('LOGIN', s.auth_login, initial_response_ok=False)
assert code == 235, code
assert s.sendmail('bob@example.test', ['alice@example.test'], 'Subject: two\r\n\r\nvia 465 \u00e9\r\n'.encode()) == {}
s.quit()
print('ok')
"""#
        let arguments = [String(server.submissionPort), String(server.submissionsPort), TestServer.password]
        let (status, output) = try await blocking { try runPython(script, arguments) }
        #expect(status == 0, "\(output)")
        #expect(output.contains("ok"))

        let bob = try await server.inbox("bob@example.test")
        let alice = try await server.inbox("alice@example.test")
        #expect(bob.count == 1)
        #expect(alice.count == 1)
        let head = String(decoding: (alice.first ?? []).prefix(400), as: UTF8.self)
        #expect(head.contains("with ESMTPSA id"))
        #expect(head.contains("(version=TLSv1."))
        let queued = try await server.store.queue.list()
        #expect(queued.count == 1)
        let entry = try #require(queued.first)
        #expect(entry.sender == "al@example.test")
        #expect(entry.recipients.map(\.address) == ["friend@elsewhere.example"])
        #expect(entry.recipients.first?.notify == "SUCCESS,FAILURE")
        let queuedBytes = try Data(contentsOf: URL(fileURLWithPath: server.store.queue.messagePath(id: entry.id)))
        #expect(String(decoding: queuedBytes, as: UTF8.self).hasPrefix("Received: from "))
    }

    /// Repeated wrong passwords are answered 535 after a growing delay (the test throttle caps it at 0.6 s).
    @Test(.enabled(if: pythonAvailable(), "python3 not installed"))
    func repeatedWrongPasswordsAreSlowedDown() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let script = #"""
import smtplib, ssl, sys, time, base64
port = int(sys.argv[1])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP_SSL('127.0.0.1', port, context=ctx, timeout=20)
s.ehlo()
times = []
for i in range(4):
    start = time.time()
    code, _ = s.docmd('AUTH', 'PLAIN ' + base64.b64encode(b'\0bob@example.test\0wrong-%d' % i).decode())
    times.append(time.time() - start)
    assert code == 535, code
assert times[-1] >= 0.4 and times[-1] > times[0] + 0.3, times
print('ok', [round(t, 2) for t in times])
"""#
        let port = server.submissionsPort
        let (status, output) = try await blocking { try runPython(script, [String(port)]) }
        #expect(status == 0, "\(output)")
        #expect(output.contains("ok"))
    }

    /// swaks, the admin's SMTP test tool, over STARTTLS and implicit TLS.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/swaks"), "swaks not installed"))
    func swaksClient() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        for (port, tlsFlag) in [(server.submissionPort, "--tls"), (server.submissionsPort, "--tlsc")] {
            let arguments = ["--server", "127.0.0.1:\(port)", tlsFlag, "--auth", "PLAIN", "--auth-user", "alice@example.test",
                             "--auth-password", TestServer.password, "--from", "alice@example.test", "--to", "al@example.test",
                             "--timeout", "20", "--header", "Subject: swaks"]
            let (status, output) = try await blocking { () -> (Int32, String) in
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/swaks")
                process.arguments = arguments
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = pipe
                try process.run()
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                return (process.terminationStatus, String(decoding: data, as: UTF8.self))
            }
            #expect(status == 0, "swaks \(arguments.joined(separator: " ")): \(output)")
        }
        #expect(try await server.inbox("alice@example.test").count == 2)
    }
}

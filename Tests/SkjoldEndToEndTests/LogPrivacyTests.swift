import Foundation
import Testing

extension EndToEnd {
    /// No traffic logs: a run that receives, submits and downloads mail leaves nothing in the server's
    /// log (stdout and stderr, at debug level) that says who connected from where or who mailed whom.
    @Suite("log privacy") struct LogPrivacyTests {
        static let script = #"""
import poplib, smtplib, ssl, sys
smtp, submission, pop3s, pw = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
msg = b"From: sender.unique@example.org\r\nTo: demo@skjold.test\r\nSubject: Confidential-subject-4711\r\n\r\nbody-marker-4711\r\n"
with smtplib.SMTP("127.0.0.1", smtp, timeout=20) as s:
    s.sendmail("sender.unique@example.org", ["demo@skjold.test"], msg)
    try:
        s.sendmail("sender.unique@example.org", ["nobody.unique@skjold.test"], msg)
    except smtplib.SMTPRecipientsRefused:
        pass
with smtplib.SMTP("127.0.0.1", submission, timeout=20) as s:
    s.starttls(context=ctx)
    try:
        s.login("demo@skjold.test", "wrong-password-4711")
    except smtplib.SMTPAuthenticationError:
        pass
    s.login("demo@skjold.test", pw)
    s.sendmail("demo@skjold.test", ["friend.unique@example.net", "demo@skjold.test"],
               b"Subject: Confidential-subject-4711\r\n\r\nbody-marker-4711\r\n")
p = poplib.POP3_SSL("127.0.0.1", pop3s, context=ctx, timeout=20)
p.user("demo@skjold.test"); p.pass_(pw)
count, _ = p.stat()
assert count == 2, count
p.retr(1); p.dele(1); p.quit()
print("ok")
"""#

        @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "python3 not installed"))
        func logsHoldNoAddressesEnvelopesOrContent() async throws {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let directory = scratch.url
            let data = scratch.data
            let server = try DevServer(data: data, in: directory, extraArguments: ["--log-level", "debug"])
            let report: StartupReport
            do { report = try await server.waitUntilReady() } catch { await server.stop(); throw error }
            let banner = report.lines.count
            func port(_ name: String) -> Int { report.listeners.first { $0.name == name }?.port ?? 0 }
            let password = try #require(report.demoPassword)
            let result = try await Child.run(URL(fileURLWithPath: "/usr/bin/python3"),
                                             ["-c", Self.script, String(port("smtp")), String(port("submission")),
                                              String(port("pop3s")), password], in: directory)
            let status = await server.stop()
            #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
            #expect(status == 0)
            // Everything the server wrote after its start-up banner (which names the listeners' own
            // bind addresses), plus all of standard error.
            let stdoutAfterBanner = server.stdout.text.split(separator: "\n", omittingEmptySubsequences: false)
                .dropFirst(banner).joined(separator: "\n")
            let log = stdoutAfterBanner + "\n" + server.stderr.text
            for secret in ["127.0.0.1", "sender.unique", "nobody.unique", "friend.unique", "demo@skjold.test",
                           "Confidential-subject-4711", "body-marker-4711", "wrong-password-4711", password] {
                #expect(!log.contains(secret), "log contains \(secret):\n\(log)")
            }
            #expect(!server.stderr.text.isEmpty, "the debug log did say something")
        }
    }
}

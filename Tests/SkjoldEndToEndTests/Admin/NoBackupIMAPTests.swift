import Foundation
import Testing

extension AdminSuite {
    /// Issue 8 acceptance: a No Backup account's message expunged over IMAP (after being read, flagged and
    /// found by a body search, so caches and the search index held it) leaves no trace in nobackup_dir.
    @Suite("No Backup over IMAP")
    struct NoBackupIMAPTests {
        static let script = #"""
import imaplib, smtplib, ssl, sys
smtp, imaps, address, pw, marker = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
msg = f"From: x@example.org\r\nTo: {address}\r\nSubject: {marker} subject\r\n\r\nbody {marker} body\r\n".encode()
with smtplib.SMTP("127.0.0.1", smtp, timeout=20) as s:
    s.sendmail("x@example.org", [address], msg)
    s.sendmail("x@example.org", [address], b"Subject: keep\r\n\r\nother mail\r\n")
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL("127.0.0.1", imaps, ssl_context=ctx)
m.login(address, pw)
m.select("INBOX")
typ, data = m.uid("SEARCH", None, "BODY", marker)
uids = data[0].split()
assert len(uids) == 1, data
m.uid("FETCH", uids[0], "(ENVELOPE BODYSTRUCTURE BODY[])")
m.uid("STORE", uids[0], "+FLAGS", "(\\Deleted)")
m.expunge()
typ, data = m.uid("SEARCH", None, "BODY", marker)
assert data[0].split() == [], data
m.logout()
print("ok")
"""#

        @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "python3 not installed"))
        func imapExpungeLeavesNothingInNobackupDir() async throws {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let data = scratch.data.path
            let nobackup = scratch.url.appendingPathComponent("nobackup").path
            let server = try DevServer(data: scratch.data, in: scratch.url, extraArguments: ["--set", "storage.nobackup_dir=\(nobackup)"])
            let report: StartupReport
            do { report = try await server.waitUntilReady() } catch { await server.stop(); throw error }
            do {
                let address = uniqueToken("nbimap") + "@skjold.test"
                let marker = uniqueToken("IMAPEXPUNGEMARKER")
                let add = try await Child.skjold(["account", "add", address, "--password-stdin", "--no-backup", "--data", data,
                                                  "--set", "storage.nobackup_dir=\(nobackup)"], in: scratch.url, stdin: "nb-imap-password-1\n")
                try #require(add.status == 0, "\(add)")
                let run = try await python(Self.script, [String(try report.port("smtp")), String(try report.port("imaps")), address,
                                                         "nb-imap-password-1", marker], in: scratch.url)
                #expect(run.status == 0, "\(run)")
                #expect(filesContaining([marker], under: nobackup) == [], "the expunged message left traces in nobackup_dir")
                #expect(filesContaining([marker], under: data) == [])
            } catch {
                await server.stop()
                throw error
            }
            #expect(await server.stop() == 0)
        }
    }
}

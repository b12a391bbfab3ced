import Foundation
import Testing

extension AdminSuite {
    /// `account set --no-backup` / `--backup` while the server runs: the mail moves between data_dir and
    /// nobackup_dir, stays readable, and backups follow the flag.
    @Suite("switching No Backup")
    struct SwitchNoBackupTests {
        static let script = #"""
import poplib, smtplib, ssl, sys
mode, smtp, pop3s, address, pw, marker = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
if mode == "deliver":
    with smtplib.SMTP("127.0.0.1", smtp, timeout=20) as s:
        s.sendmail("x@example.org", [address], f"Subject: {marker}\r\n\r\n{marker}\r\n".encode())
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
p = poplib.POP3_SSL("127.0.0.1", pop3s, context=ctx, timeout=20)
p.user(address); p.pass_(pw)
count = p.stat()[0]
lines = p.retr(count)[1]
assert marker.encode() in b"\n".join(lines), lines
p.quit()
print(count)
"""#

        @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "python3 not installed"))
        func switchWhileServing() async throws {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let data = scratch.data.path
            let nobackup = scratch.url.appendingPathComponent("nobackup").path
            let set = ["--data", data, "--set", "storage.nobackup_dir=\(nobackup)"]
            let server = try DevServer(data: scratch.data, in: scratch.url, extraArguments: ["--set", "storage.nobackup_dir=\(nobackup)"])
            let report: StartupReport
            do { report = try await server.waitUntilReady() } catch { await server.stop(); throw error }
            do {
                let address = uniqueToken("switch") + "@skjold.test"
                let marker = uniqueToken("SWITCHMARKER")
                let ports = [String(try report.port("smtp")), String(try report.port("pop3s"))]
                let add = try await Child.skjold(["account", "add", address, "--password-stdin"] + set, in: scratch.url,
                                                 stdin: "switch-password-1\n")
                try #require(add.status == 0, "\(add)")
                let first = try await python(Self.script, ["deliver"] + ports + [address, "switch-password-1", marker], in: scratch.url)
                #expect(first.status == 0, "\(first)")
                #expect(!filesContaining([marker], under: data).isEmpty)

                let toNoBackup = try await Child.skjold(["account", "set", address, "--no-backup"] + set, in: scratch.url)
                #expect(toNoBackup.status == 0, "\(toNoBackup)")
                #expect(filesContaining([marker], under: data) == [], "moved out of data_dir")
                #expect(!filesContaining([marker], under: nobackup).isEmpty)
                let read = try await python(Self.script, ["deliver"] + ports + [address, "switch-password-1", marker], in: scratch.url)
                #expect(read.status == 0 && read.stdout.hasPrefix("2"), "the running server serves it at its new place: \(read)")
                let show = try await Child.skjold(["account", "show", address] + set, in: scratch.url)
                #expect(show.stdoutLines.contains("no backup: yes"), "\(show)")
                let backupDir = scratch.url.appendingPathComponent("backup").path
                let backup = try await Child.skjold(["backup", "--to", backupDir] + set, in: scratch.url)
                #expect(backup.status == 0, "\(backup)")
                #expect(filesContaining([marker], under: backupDir) == [], "a No Backup account is never in a backup")

                let back = try await Child.skjold(["account", "set", address, "--backup"] + set, in: scratch.url)
                #expect(back.status == 0, "\(back)")
                #expect(filesContaining([marker], under: nobackup) == [])
                let again = try await python(Self.script, ["read"] + ports + [address, "switch-password-1", marker], in: scratch.url)
                #expect(again.status == 0, "\(again)")
            } catch {
                await server.stop()
                throw error
            }
            #expect(await server.stop() == 0)
        }
    }
}

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension EndToEnd {
    /// Least privilege: started as root, `serve` binds, hands its data to `user` and becomes that user;
    /// root without `user` is refused. These tests need root (CI runs as root) and skip otherwise.
    @Suite("robustness: least privilege")
    struct PrivilegeTests {
        static let isRoot = geteuid() == 0
        static let hasNobody = getpwnam("nobody") != nil

        static let script = #"""
import poplib, smtplib, ssl, sys
smtp, pop3s, pw, marker = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
msg = ("From: a@example.org\r\nTo: demo@skjold.test\r\nSubject: %s\r\n\r\nbody %s\r\n" % (marker, marker)).encode()
with smtplib.SMTP("127.0.0.1", smtp, timeout=20) as s:
    s.sendmail("a@example.org", ["demo@skjold.test"], msg)
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
p = poplib.POP3_SSL("127.0.0.1", pop3s, context=ctx, timeout=20)
p.user("demo@skjold.test"); p.pass_(pw)
count, _ = p.stat()
assert count == 1, count
lines = b"\r\n".join(p.retr(1)[1])
assert lines.endswith(msg.rstrip(b"\r\n")), lines
p.quit()
print("ok")
"""#

        /// Real and effective ids from a /proc/PID/status line such as `Uid:\t65534\t65534\t65534\t65534`.
        static func ids(_ field: String, in status: String) -> [UInt32] {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }) else { return [] }
            return line.dropFirst(field.count + 1).split(whereSeparator: { $0 == "\t" || $0 == " " }).compactMap { UInt32($0) }
        }

        @Test("as root with user = \"nobody\": every thread runs as nobody, data_dir belongs to nobody, and it still serves",
              .enabled(if: isRoot, "needs root: the server can only switch user when started as root"),
              .enabled(if: hasNobody, "no user \"nobody\" on this system"),
              .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "python3 not installed"))
        func dropsToUser() async throws {
            let scratch = try Scratch()
            defer { scratch.remove() }
            // The scratch folder is world-traversable (0755 under /tmp); nobody needs no more than that.
            chmod(scratch.url.path, 0o755)
            let nobody = try #require(getpwnam("nobody")).pointee
            let server = try DevServer(data: scratch.data, in: scratch.url, extraArguments: ["--set", "user=nobody"])
            let report: StartupReport
            do { report = try await server.waitUntilReady() } catch { await server.stop(); throw error }
            do {
                #expect(report.lines.contains("running as user nobody (uid \(nobody.pw_uid), gid \(nobody.pw_gid))"), "\(report.lines)")
                let pid = server.process.processIdentifier
                // Every thread (event loops, the cooperative pool, the main thread) switched, not just one.
                let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
                #expect(!tasks.isEmpty)
                for task in tasks {
                    let status = try String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8)
                    let uids = Self.ids("Uid", in: status)
                    let gids = Self.ids("Gid", in: status)
                    #expect(uids.count == 4 && uids.allSatisfy { $0 == nobody.pw_uid }, "thread \(task): Uid \(uids)")
                    #expect(gids.count == 4 && gids.allSatisfy { $0 == nobody.pw_gid }, "thread \(task): Gid \(gids)")
                    #expect(Self.ids("Groups", in: status).allSatisfy { $0 == nobody.pw_gid }, "thread \(task) kept supplementary groups")
                }
                // The data (databases, certificate, spool) belongs to nobody and is private.
                var info = stat()
                for path in ["", "/skjold.sqlite", "/tls/key.pem", "/spool"] {
                    let full = scratch.data.path + path
                    try #require(lstat(full, &info) == 0, "\(full) missing")
                    #expect(info.st_uid == nobody.pw_uid, "\(full) owned by uid \(info.st_uid)")
                    #expect(info.st_mode & 0o077 == 0, "\(full) readable by others: mode \(String(info.st_mode & 0o777, radix: 8))")
                }
                // And it still works: SMTP delivery, then POP3 over TLS reads it back.
                let password = try #require(report.demoPassword)
                let run = try await python(Self.script, [String(try report.port("smtp")), String(try report.port("pop3s")), password,
                                                         uniqueToken("privdrop")], in: scratch.url)
                #expect(run.status == 0, "\(run)")
                #expect(run.stdout.contains("ok"), "\(run)")
            } catch {
                await server.stop()
                throw error
            }
            #expect(await server.stop() == 0, "no clean exit on SIGTERM: \(server.stderr.text)")
        }

        @Test("as root without user and without --allow-root: exit 78 with one line, nothing written",
              .enabled(if: isRoot, "needs root: the refusal is about running as root"))
        func refusesRootWithoutUser() async throws {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let file = try scratch.file("skjold.toml", contents: """
                data_dir = "\(scratch.data.path)"
                [listen]
                smtp = "127.0.0.1:0"
                """)
            let result = try await Child.skjold(["serve", "--config", file.path], in: scratch.url)
            #expect(result.status == 78, "\(result)")
            #expect(result.stdout.isEmpty, "\(result)")
            #expect(result.stderrLines == ["skjold: refusing to run as root: set user = \"NAME\" in the configuration (an unprivileged "
                                           + "account that will own data_dir), or pass --allow-root"], "\(result)")
            #expect(!FileManager.default.fileExists(atPath: scratch.data.path), "data written despite the refusal")

            // A user that does not exist is a configuration error too.
            let missing = try await Child.skjold(["serve", "--config", file.path, "--set", "user=skjold-no-such-user"], in: scratch.url)
            #expect(missing.status == 78, "\(missing)")
            #expect(missing.stderrLines.count == 1 && missing.stderr.contains("no such user"), "\(missing)")
        }
    }
}

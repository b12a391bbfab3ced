import Foundation
import Testing

extension EndToEnd {
    /// `skjold queue list|show|remove` over the outbound queue of a data directory.
    @Suite("queue commands")
    struct QueueCommandTests {
        /// Seeds one queue entry the way the submission server records it (schema `queue-v1` of
        /// SQLiteOutboundQueue): a row per message and recipient in the directory database, the bytes
        /// in `<data>/queue/<id>`. The test target links only the executable, so Python's sqlite3
        /// stands in for the store here.
        static let seedScript = """
            import sqlite3, sys, os
            data, qid = sys.argv[1], sys.argv[2]
            body = b"From: alice@skjold.test\\r\\nSubject: hi\\r\\n\\r\\nhello\\r\\n"
            with open(os.path.join(data, "queue", qid), "wb") as f:
                f.write(body)
            db = sqlite3.connect(os.path.join(data, "skjold.sqlite"), timeout=10)
            db.execute("INSERT INTO queue_messages(id, sender, account_id, size, dsn_ret, dsn_envid, created_at, next_attempt, attempts)"
                       " VALUES (?, 'alice@skjold.test', NULL, ?, 'HDRS', 'env-1', 1700000000, 1700000600, 2)", (qid, len(body)))
            columns = "(message_id, position, address, notify, orcpt, state, last_reply)"
            db.execute("INSERT INTO queue_recipients " + columns + " VALUES (?, 0, 'kim@example.net', 'FAILURE', NULL, 'pending', ?)",
                       (qid, "451 4.7.1 try again\\nlater"))
            db.execute("INSERT INTO queue_recipients " + columns + " VALUES (?, 1, 'lee@example.org', NULL, 'rfc822;lee@example.org', 'delivered',"
                       " '250 2.0.0 ok')", (qid,))
            db.commit()
            print(len(body))
            """

        @Test("queue list/show/remove while the server runs: empty queue, unknown IDs, a seeded entry, a submitted message")
        func queueCommands() async throws {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let data = scratch.data.path
            let id = "00112233445566778899aabbccddeeff"
            try await withDevServer(data: scratch.data, in: scratch.url) { _, report in
                let empty = try await Child.skjold(["queue", "list", "--data", data], in: scratch.url)
                #expect(empty.status == 0, "\(empty)")
                #expect(empty.stdoutLines == ["queue is empty"])
                for verb in ["show", "remove"] {
                    let result = try await Child.skjold(["queue", verb, id, "--data", data], in: scratch.url)
                    #expect(result.status == 1, "\(result)")
                    #expect(result.stderrLines == ["skjold: no queued message \"\(id)\""], "\(result)")
                    #expect(result.stdout.isEmpty)
                }

                let seed = try await Child.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", Self.seedScript, data, id],
                                               in: scratch.url)
                try #require(seed.status == 0, "seeding failed: \(seed)")
                let size = seed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

                let list = try await Child.skjold(["queue", "list", "--data", data], in: scratch.url)
                #expect(list.status == 0, "\(list)")
                #expect(list.stdoutLines == [
                    "\(id)  2023-11-14T22:13:20Z  \(size) bytes  from alice@skjold.test  2 recipients (1 pending)  next 2023-11-14T22:23:20Z",
                ])

                let show = try await Child.skjold(["queue", "show", id, "--data", data], in: scratch.url)
                #expect(show.status == 0, "\(show)")
                #expect(show.stdoutLines == [
                    "id: \(id)",
                    "created: 2023-11-14T22:13:20Z",
                    "size: \(size) bytes",
                    "sender: alice@skjold.test",
                    "account: none",
                    "attempts: 2",
                    "next attempt: 2023-11-14T22:23:20Z",
                    "delay notice sent: no",
                    "dkim: not yet signed",
                    "dsn ret: HDRS",
                    "dsn envelope id: env-1",
                    "file: \(data)/queue/\(id)",
                    "recipients:",
                    "  kim@example.net  pending  notify=FAILURE  last reply: 451 4.7.1 try again later",
                    "  lee@example.org  delivered  orcpt=rfc822;lee@example.org  last reply: 250 2.0.0 ok",
                ])

                let remove = try await Child.skjold(["queue", "remove", id, "--data", data], in: scratch.url)
                #expect(remove.status == 0, "\(remove)")
                #expect(remove.stdoutLines == ["removed queued message \(id)"])
                #expect(!FileManager.default.fileExists(atPath: "\(data)/queue/\(id)"))

                let after = try await Child.skjold(["queue", "list", "--data", data], in: scratch.url)
                #expect(after.stdoutLines == ["queue is empty"])
                let again = try await Child.skjold(["queue", "remove", id, "--data", data], in: scratch.url)
                #expect(again.status != 0)
                #expect(again.stderrLines == ["skjold: no queued message \"\(id)\""])

                try await Self.submittedMessageIsQueued(report: report, scratch: scratch)
            }
        }

        /// Submits one message as demo@skjold.test over STARTTLS + AUTH with Python's smtplib.
        static let submitScript = """
            import smtplib, ssl, sys
            port, password, recipient = int(sys.argv[1]), sys.argv[2], sys.argv[3]
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE  # the dev certificate is self-signed
            with smtplib.SMTP("127.0.0.1", port, timeout=20) as smtp:
                smtp.starttls(context=context)
                smtp.login("demo@skjold.test", password)
                message = b"From: demo@skjold.test\\r\\nTo: " + recipient.encode() + b"\\r\\nSubject: queued\\r\\n\\r\\nhello\\r\\n"
                refused = smtp.sendmail("demo@skjold.test", [recipient], message)
                assert not refused, refused
            """

        /// Mail submitted for a remote recipient over the real submission listener shows up in
        /// `queue list` and `queue show`, and `queue remove` drops it.
        static func submittedMessageIsQueued(report: StartupReport, scratch: Scratch) async throws {
            let data = scratch.data.path
            let submission = try #require(report.listeners.first { $0.name == "submission" }, "no submission listener: \(report.lines)")
            let password = try #require(report.demoPassword)
            let submit = try await Child.run(URL(fileURLWithPath: "/usr/bin/env"),
                                             ["python3", "-c", Self.submitScript, String(submission.port), password, "kim@example.net"],
                                             in: scratch.url)
            try #require(submit.status == 0, "submission failed: \(submit)")

            let list = try await Child.skjold(["queue", "list", "--data", data], in: scratch.url)
            #expect(list.status == 0, "\(list)")
            try #require(list.stdoutLines.count == 1, "\(list)")
            let fields = list.stdoutLines[0].components(separatedBy: "  ")
            try #require(fields.count == 6, "\(list)")
            let id = fields[0]
            #expect(id.count == 32 && id.allSatisfy(\.isHexDigit))
            #expect(fields[1].hasSuffix("Z") && fields[5].hasPrefix("next "))
            #expect(fields[3] == "from demo@skjold.test")
            #expect(fields[4] == "1 recipient (1 pending)")

            let show = try await Child.skjold(["queue", "show", id, "--data", data], in: scratch.url)
            #expect(show.status == 0, "\(show)")
            #expect(show.stdoutLines.contains("sender: demo@skjold.test"))
            #expect(show.stdoutLines.last == "  kim@example.net  pending  last reply: none", "\(show)")
            let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(data)/queue/\(id)"))
            #expect(show.stdoutLines.contains("size: \(bytes.count) bytes"))
            #expect(String(decoding: bytes, as: UTF8.self).hasSuffix("Subject: queued\r\n\r\nhello\r\n"))

            let remove = try await Child.skjold(["queue", "remove", id, "--data", data], in: scratch.url)
            #expect(remove.status == 0, "\(remove)")
            let after = try await Child.skjold(["queue", "list", "--data", data], in: scratch.url)
            #expect(after.stdoutLines == ["queue is empty"])
        }
    }
}

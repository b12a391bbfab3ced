import Foundation
import Testing

extension EndToEnd {
    /// Issue 2 acceptance: the admin CLI works on the data of a running server, and every error is one
    /// `skjold: ` line on stderr with a non-zero exit and nothing half-written.
    @Suite("admin CLI against a running server")
    struct AdminCLITests {
        @Test("account add / account show / alias add / alias list round-trip while the server runs")
        func roundTrip() async throws {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let data = scratch.data.path
            func skjold(_ arguments: String..., stdin: String? = nil) async throws -> CommandResult {
                try await Child.skjold(arguments + ["--data", data], in: scratch.url, stdin: stdin)
            }

            try await withDevServer(data: scratch.data, in: scratch.url) { server, _ in
                // Generated password: printed once, on its own line.
                let alice = try await skjold("account", "add", "Alice@Skjold.test")
                #expect(alice.status == 0, "\(alice)")
                #expect(alice.stdoutLines.first == "added account Alice@Skjold.test (plan standard)")
                let generated = try #require(alice.stdoutLines.first { $0.hasPrefix("password: ") }, "\(alice)")
                #expect(generated.dropFirst("password: ".count).count >= 16)
                #expect(alice.stderr.isEmpty)

                // Password from stdin: never echoed; plan and No Backup recorded.
                let secret = "correct horse battery staple"
                let bob = try await skjold("account", "add", "bob@skjold.test", "--password-stdin", "--plan", "max", "--no-backup",
                                           stdin: secret + "\n")
                #expect(bob.status == 0, "\(bob)")
                #expect(bob.stdoutLines == ["added account bob@skjold.test (plan max, no backup)"])
                #expect(!bob.stdout.contains(secret) && !bob.stderr.contains(secret))

                let alias = try await skjold("alias", "add", "info@skjold.test", "alice@skjold.test")
                #expect(alias.status == 0, "\(alias)")
                #expect(alias.stdoutLines == ["added alias info@skjold.test -> Alice@Skjold.test"])

                let all = try await skjold("alias", "list")
                #expect(all.status == 0, "\(all)")
                #expect(all.stdoutLines == ["info@skjold.test -> Alice@Skjold.test"])
                let ofAlice = try await skjold("alias", "list", "ALICE@skjold.test")
                #expect(ofAlice.stdoutLines == ["info@skjold.test -> Alice@Skjold.test"])
                let ofBob = try await skjold("alias", "list", "bob@skjold.test")
                #expect(ofBob.status == 0, "\(ofBob)")
                #expect(ofBob.stdoutLines.isEmpty)

                // Looked up case-insensitively, shown as given.
                let show = try await skjold("account", "show", "alice@SKJOLD.TEST")
                #expect(show.status == 0, "\(show)")
                let lines = show.stdoutLines
                #expect(lines.contains("address: Alice@Skjold.test"))
                #expect(lines.contains("plan: standard"))
                #expect(lines.contains("no backup: no"))
                #expect(lines.contains("aliases: info@skjold.test"))
                #expect(lines.contains { $0.hasPrefix("storage: 0 B used of ") }, "\(lines)")
                let mailboxes = lines.drop { $0 != "mailboxes:" }.dropFirst()
                    .map { $0.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) ?? "" }
                for name in ["INBOX", "Drafts", "Sent", "Junk", "Trash", "Archive"] {
                    #expect(mailboxes.contains { $0 == name || $0 == name + ":" }, "no \(name) in \(lines)")
                }

                let showBob = try await skjold("account", "show", "bob@skjold.test")
                #expect(showBob.stdoutLines.contains("plan: max"))
                #expect(showBob.stdoutLines.contains("no backup: yes"))

                let list = try await skjold("account", "list")
                #expect(list.stdoutLines.sorted() == [
                    "Alice@Skjold.test\tplan=standard", "bob@skjold.test\tplan=max\tno-backup", "demo@skjold.test\tplan=standard",
                ])

                // The server was never disturbed.
                #expect(server.process.isRunning)
            }
        }

        /// One admin mistake, the start of its message, and what it must leave unchanged.
        struct Mistake: Sendable, CustomTestStringConvertible {
            var label: String
            var arguments: [String]
            var stdin: String?
            var messagePrefix: String
            var testDescription: String { label }
        }

        static let mistakes: [Mistake] = [
            Mistake(label: "unknown domain", arguments: ["account", "add", "eve@nowhere.test", "--password-stdin"],
                    stdin: "long enough password\n", messagePrefix: "skjold: unknown domain \"nowhere.test\""),
            Mistake(label: "duplicate address (other case)", arguments: ["account", "add", "DEMO@skjold.TEST", "--password-stdin"],
                    stdin: "long enough password\n", messagePrefix: "skjold: address \"DEMO@skjold.TEST\" already exists"),
            Mistake(label: "malformed address", arguments: ["account", "add", "not-an-address", "--password-stdin"],
                    stdin: "long enough password\n", messagePrefix: "skjold: malformed address \"not-an-address\""),
            Mistake(label: "weak password", arguments: ["account", "add", "eve@skjold.test", "--password-stdin"],
                    stdin: "short\n", messagePrefix: "skjold: password refused"),
            Mistake(label: "alias pointing nowhere", arguments: ["alias", "add", "sales@skjold.test", "nobody@skjold.test"],
                    stdin: nil, messagePrefix: "skjold: alias \"sales@skjold.test\" points nowhere"),
            Mistake(label: "alias shadowing an account", arguments: ["alias", "add", "Demo@skjold.test", "demo@skjold.test"],
                    stdin: nil, messagePrefix: "skjold: alias \"Demo@skjold.test\" would shadow the existing account"),
            Mistake(label: "account remove without --erase", arguments: ["account", "remove", "demo@skjold.test"],
                    stdin: nil, messagePrefix: "skjold: refusing to remove demo@skjold.test without --erase"),
            Mistake(label: "account show of an unknown account", arguments: ["account", "show", "nobody@skjold.test"],
                    stdin: nil, messagePrefix: "skjold: no account \"nobody@skjold.test\""),
            Mistake(label: "domain add of an existing domain", arguments: ["domain", "add", "SKJOLD.test"],
                    stdin: nil, messagePrefix: "skjold: domain \"skjold.test\" already exists"),
        ]

        @Test("each CLI error is one line on stderr, a non-zero exit, and nothing half-written")
        func errorPaths() async throws {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let data = scratch.data.path
            try await withDevServer(data: scratch.data, in: scratch.url) { server, _ in
                func state() async throws -> [String] {
                    var lines: [String] = []
                    for command in [["domain", "list"], ["account", "list"], ["alias", "list"]] {
                        let result = try await Child.skjold(command + ["--data", data], in: scratch.url)
                        #expect(result.status == 0, "\(result)")
                        lines += result.stdoutLines
                    }
                    return lines
                }
                let before = try await state()
                #expect(before == ["skjold.test", "demo@skjold.test\tplan=standard"])

                for mistake in Self.mistakes {
                    let result = try await Child.skjold(mistake.arguments + ["--data", data], in: scratch.url, stdin: mistake.stdin)
                    #expect(result.status != 0, "\(mistake.label): \(result)")
                    #expect(result.stderrLines.count == 1, "\(mistake.label): \(result)")
                    #expect(result.stderr.hasPrefix(mistake.messagePrefix), "\(mistake.label): \(result)")
                    #expect(result.stdout.isEmpty, "\(mistake.label): \(result)")
                }

                #expect(try await state() == before)
                // The account that `remove` refused to erase still has its mail store.
                let show = try await Child.skjold(["account", "show", "demo@skjold.test", "--data", data], in: scratch.url)
                #expect(show.status == 0, "\(show)")
                #expect(show.stdoutLines.contains("mailboxes:"))
                #expect(server.process.isRunning)
            }
        }
    }
}

import Foundation
import Testing

extension EndToEnd {
    /// Issue 2: a bad configuration file stops start-up with one line naming the file, the key and
    /// what is wrong (exit 78, EX_CONFIG), before anything is written.
    @Suite("configuration errors")
    struct ConfigFileTests {
        struct BadFile: Sendable, CustomTestStringConvertible {
            var label: String
            var toml: String
            /// What follows "skjold: <file>:" on the one stderr line.
            var expected: String
            var testDescription: String { label }
        }

        static let badFiles: [BadFile] = [
            BadFile(label: "syntax error", toml: """
                hostname = "mail.example.test"
                [listen]
                smtp = "127.0.0.1:2525
                """, expected: "3: listen.smtp: syntax error: "),
            BadFile(label: "unknown key", toml: """
                hostname = "mail.example.test"
                [listen]
                smtpp = "127.0.0.1:2525"
                """, expected: "3: listen.smtpp: unknown key (did you mean listen.smtp?)"),
            BadFile(label: "unknown section", toml: """
                [storrage]
                backend = "sqlite"
                """, expected: "1: storrage: unknown section (did you mean storage?)"),
            BadFile(label: "wrong type", toml: """
                [limits]
                max_message_size = true
                """, expected: "2: limits.max_message_size: expected a size such as"),
            BadFile(label: "wrong type for a switch", toml: """
                [privacy]
                log_ip_addresses = "yes"
                """, expected: "2: privacy.log_ip_addresses: expected true or false"),
            BadFile(label: "bad listen address", toml: """
                [listen]
                submission = "127.0.0.1"
                """, expected: "2: listen.submission: invalid address \"127.0.0.1\""),
            BadFile(label: "certificate without key", toml: """
                [tls]
                cert = "/etc/skjold/fullchain.pem"
                """, expected: "1: tls.key: missing"),
        ]

        @Test("a bad file stops start-up with one line naming file and key", arguments: badFiles)
        func badFile(_ bad: BadFile) async throws {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let data = scratch.data.path
            let file = try scratch.file("skjold.toml", contents: "data_dir = \"\(data)\"\n" + bad.toml + "\n")
            // The data_dir line is line 1, so the case's own lines are numbered from 2.
            let expected = Self.shiftLine(bad.expected, by: 1)
            for command in [["serve"], ["account", "list"]] {
                let result = try await Child.skjold(command + ["--config", file.path], in: scratch.url)
                #expect(result.status == 78, "\(result)")
                #expect(result.stdout.isEmpty, "\(result)")
                #expect(result.stderrLines.count == 1, "\(result)")
                #expect(result.stderr.hasPrefix("skjold: \(file.path):\(expected)"), "\(result)")
            }
            #expect(!FileManager.default.fileExists(atPath: data), "data written despite a bad configuration")
        }

        static func shiftLine(_ expected: String, by offset: Int) -> String {
            guard let colon = expected.firstIndex(of: ":"), let line = Int(expected[..<colon]) else { return expected }
            return "\(line + offset)" + expected[colon...]
        }

        @Test("a missing file is named in one line")
        func missingFile() async throws {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let path = scratch.url.appendingPathComponent("absent.toml").path
            let result = try await Child.skjold(["serve", "--config", path], in: scratch.url)
            #expect(result.status == 78, "\(result)")
            #expect(result.stderrLines == ["skjold: \(path): cannot read file: No such file or directory"])
        }

        @Test("a good file is used: its data_dir and plans reach the CLI")
        func goodFile() async throws {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let data = scratch.data.path
            let file = try scratch.file("skjold.toml", contents: """
                hostname = "mail.example.test"
                data_dir = "\(data)"
                [listen]
                smtp = "127.0.0.1:0"
                [privacy]
                log_ip_addresses = false
                log_envelopes = false
                [plans.family]
                storage = "50GB"
                aliases = 5
                """)
            let domain = try await Child.skjold(["domain", "add", "example.test", "--config", file.path], in: scratch.url)
            #expect(domain.status == 0, "\(domain)")
            let add = try await Child.skjold(["account", "add", "kim@example.test", "--plan", "family", "--password-stdin",
                                              "--config", file.path], in: scratch.url, stdin: "a long family password")
            #expect(add.status == 0, "\(add)")
            let show = try await Child.skjold(["account", "show", "kim@example.test", "--config", file.path], in: scratch.url)
            #expect(show.stdoutLines.contains("plan: family"), "\(show)")
            #expect(show.stdoutLines.contains("storage: 0 B used of 50 GB"), "\(show)")
            #expect(FileManager.default.fileExists(atPath: scratch.data.appendingPathComponent("skjold.sqlite").path))
            // An unknown plan is refused with the configured ones listed.
            let unknown = try await Child.skjold(["account", "add", "lee@example.test", "--plan", "gold", "--password-stdin",
                                                  "--config", file.path], in: scratch.url, stdin: "a long family password")
            #expect(unknown.status != 0)
            #expect(unknown.stderrLines == ["skjold: unknown plan \"gold\" (known: family, max, standard)"])
        }
    }
}

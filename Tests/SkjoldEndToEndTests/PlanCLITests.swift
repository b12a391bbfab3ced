import Foundation
import Testing

extension EndToEnd {
    /// Issue 7's admin commands through the binary: plan list, account set, app passwords, unlock.
    @Suite("plans and account protection CLI")
    struct PlanCLITests {
        @Test func plansExtrasAppPasswordsAndUnlock() async throws {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let data = scratch.data.path
            func skjold(_ arguments: String..., stdin: String? = nil) async throws -> CommandResult {
                try await Child.skjold(arguments + ["--data", data], in: scratch.url, stdin: stdin)
            }
            #expect(try await skjold("domain", "add", "plan.test").status == 0)
            #expect(try await skjold("account", "add", "kim@plan.test", "--password-stdin", stdin: "Kim-Password-2026\n").status == 0)

            let plans = try await skjold("plan", "list")
            #expect(plans.stdoutLines.contains { $0.hasPrefix("standard\tstorage=10 GB\tbandwidth_per_week=10 GB\toutgoing_per_day=500\taliases=100") },
                    "\(plans)")
            #expect(plans.stdoutLines.contains { $0.hasPrefix("max\t") })

            let set = try await skjold("account", "set", "kim@plan.test", "--plan", "max", "--extra-storage", "5GB",
                                       "--extra-outgoing", "100", "--extra-bandwidth", "1GB")
            #expect(set.status == 0, "\(set)")
            let show = try await skjold("account", "show", "kim@plan.test")
            #expect(show.stdoutLines.contains("plan: max"), "\(show)")
            #expect(show.stdoutLines.contains("storage: 0 B used of 105 GB (plan + 5 GB extra)"), "\(show)")
            #expect(show.stdoutLines.contains("outgoing today: 0 of 2100 recipients in the last 24 h (plan + 100 extra)"), "\(show)")

            let bad = try await skjold("account", "set", "kim@plan.test", "--plan", "gold")
            #expect(bad.status != 0 && bad.stderrLines.count == 1 && bad.stderr.hasPrefix("skjold: unknown plan \"gold\""), "\(bad)")

            let app = try await skjold("account", "app-password", "add", "kim@plan.test", "phone")
            #expect(app.status == 0, "\(app)")
            let password = try #require(app.stdoutLines.first?.split(separator: " ").last.map(String.init))
            #expect(password.split(separator: "-").count == 4)
            #expect(try await skjold("account", "app-password", "list", "kim@plan.test").stdout.hasPrefix("phone\tcreated "))
            let duplicate = try await skjold("account", "app-password", "add", "kim@plan.test", "phone")
            #expect(duplicate.status != 0 && duplicate.stderr.hasPrefix("skjold: "), "\(duplicate)")
            #expect(try await skjold("account", "app-password", "revoke", "kim@plan.test", "phone").status == 0)
            let again = try await skjold("account", "app-password", "revoke", "kim@plan.test", "phone")
            #expect(again.status != 0 && again.stderrLines.count == 1, "\(again)")

            #expect(try await skjold("account", "unlock", "kim@plan.test").status == 0)
            #expect(!(try await skjold("account", "list").stdout.contains("PAUSED")))
        }
    }
}

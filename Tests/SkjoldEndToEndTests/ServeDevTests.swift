import Foundation
import Testing

extension EndToEnd {
    /// Issue 2 acceptance: `skjold serve --dev` is listening within 5 s, makes the demo account once,
    /// keeps its certificate, and drains to exit code 0 on SIGTERM.
    @Suite("serve --dev")
    struct ServeDevTests {
        @Test("start: banner, demo password, listeners within 5 s, TCP accepted, SIGTERM exits 0; restart keeps demo and certificate")
        func startAndRestart() async throws {
            let scratch = try Scratch()
            defer { scratch.remove() }
            var fingerprint: String?
            var listenerNames: [String] = []
            let status = try await withDevServer(data: scratch.data, in: scratch.url) { server, report in
                #expect(report.readyAfter < .seconds(5), "ready after \(report.readyAfter)")
                #expect(report.lines.first == "Skjold mail server (dev): hostname localhost, data in \(scratch.data.path)")
                #expect(report.lines.contains("created domain skjold.test and account demo@skjold.test"))
                let password = try #require(report.demoPassword, "no password line in \(report.lines)")
                #expect(password.count >= 16)

                let printed = try #require(report.certificateFingerprint, "no certificate line in \(report.lines)")
                #expect(printed.replacingOccurrences(of: ":", with: "").count == 64)
                #expect(printed.allSatisfy { $0.isHexDigit || $0 == ":" })
                fingerprint = printed
                listenerNames = report.listeners.map(\.name)

                // The --set listen.NAME=127.0.0.1:0 overrides: each listener that exists binds an ephemeral port.
                #expect(!report.listeners.isEmpty, "no listeners printed: \(report.lines)")
                #expect(Set(report.listeners.map(\.port)).count == report.listeners.count)
                for listener in report.listeners {
                    #expect(DevServer.listenerNames.contains(listener.name))
                    #expect(listener.host == "127.0.0.1")
                    // Plain-text SMTP speaks first (RFC 5321 §4.3.1; STARTTLS comes later); TLS ports wait for the client.
                    let speaksFirst = listener.name == "smtp" || listener.name == "submission"
                    let greeting = try connectTCP(host: listener.host, port: listener.port,
                                                  readTimeout: speaksFirst ? .seconds(5) : nil)
                    if speaksFirst {
                        #expect(String(decoding: greeting, as: UTF8.self).hasPrefix("220 "), "\(listener.name) greeting: \(greeting)")
                    }
                }
                #expect(server.process.isRunning)
                #expect(FileManager.default.fileExists(atPath: scratch.data.appendingPathComponent("skjold.sqlite").path))
            }
            #expect(status == 0)

            // Restart on the same data: no second demo account, the same certificate.
            var second: StartupReport?
            let secondStatus = try await withDevServer(data: scratch.data, in: scratch.url) { _, report in second = report }
            #expect(secondStatus == 0)
            let after = try #require(second)
            #expect(after.demoPassword == nil, "password printed again: \(after.lines)")
            #expect(!after.lines.contains { $0.hasPrefix("created domain") })
            #expect(after.certificateFingerprint == fingerprint)
            #expect(after.listeners.map(\.name) == listenerNames)

            let accounts = try await Child.skjold(["account", "list", "--data", scratch.data.path], in: scratch.url)
            #expect(accounts.status == 0, "\(accounts)")
            #expect(accounts.stdoutLines == ["demo@skjold.test\tplan=standard"])
        }

        @Test("a bad --set override stops start-up with one line naming the key")
        func badOverride() async throws {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let result = try await Child.skjold(["serve", "--dev", "--data", scratch.data.path, "--set", "listen.smtp=localhost"],
                                                in: scratch.url)
            #expect(result.status != 0)
            #expect(result.stdout.isEmpty, "\(result)")
            #expect(result.stderrLines.count == 1, "\(result)")
            #expect(result.stderr.hasPrefix("skjold: command line: listen.smtp: "), "\(result)")
            #expect(!FileManager.default.fileExists(atPath: scratch.data.path), "data written despite a bad configuration")
        }
    }
}

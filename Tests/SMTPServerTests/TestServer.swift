import Foundation
import Logging
import MailServerCore
import MailStore
import MailStoreSQLite
import SMTPServer
import SkjoldConfig
import MailTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// An in-process Skjold SMTP setup on loopback: a fresh store with domain `example.test`, accounts
/// alice and bob (password "correct horse battery staple 1"), alias `al@example.test` -> alice, and the
/// three listeners on free ports.
final class TestServer: @unchecked Sendable {
    static let password = "correct horse battery staple 1"
    let directory: String
    let store: SQLiteMailStore
    let mx: MailListener
    let submission: MailListener
    let submissions: MailListener
    let spool: String
    private var task: Task<Void, Never>?
    var mxPort: Int { mx.boundPort ?? 0 }
    var submissionPort: Int { submission.boundPort ?? 0 }
    var submissionsPort: Int { submissions.boundPort ?? 0 }

    static let sharedTLS: Result<ServerTLS, any Error> = Result {
        try ServerTLS.selfSigned(hostname: "localhost", directory: NSTemporaryDirectory() + "skjold-smtp-tls-" + UUID().uuidString)
    }

    init(maximumMessageSize: Int = 1 << 20, inMemoryLimit: Int = 64 * 1024, logIPAddresses: Bool = false,
         plans: [String: Plan] = Plan.builtIn, burstRecipients: Int = 1000) async throws {
        directory = NSTemporaryDirectory() + "skjold-smtp-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try SQLiteMailStore(layout: StorageLayout(dataDir: directory + "/data", nobackupDir: directory + "/nobackup"),
                                    plans: PlanCatalog(names: ["standard"], aliasLimits: ["standard": 100]), passwordCost: 10)
        _ = try await store.directory.addDomain("example.test")
        _ = try await store.directory.addAccount("alice@example.test", password: Self.password, plan: "standard", noBackup: false)
        _ = try await store.directory.addAccount("Bob@Example.test", password: Self.password, plan: "standard", noBackup: false)
        _ = try await store.directory.addAlias("al@example.test", target: "alice@example.test")
        let tls = try Self.sharedTLS.get()
        spool = directory + "/spool"
        try SMTPListeners.prepareSpool(spool)
        var logger = Logger(label: "test.smtp")
        logger.logLevel = .critical
        let spoolDirectory = spool
        let settings = { (role: SMTPRole) in
            SMTPServerSettings(role: role, hostname: "mx.example.test", maximumMessageSize: maximumMessageSize,
                               spoolDirectory: spoolDirectory, inMemoryMessageLimit: inMemoryLimit, maximumErrors: 15,
                               idleTimeout: .seconds(20), logIPAddresses: logIPAddresses, plans: plans,
                               burstRecipients: burstRecipients)
        }
        let throttle = LoginThrottle(maximumDelay: .milliseconds(600))
        mx = SMTPListeners.listener(name: "smtp", host: "127.0.0.1", port: 0, implicitTLS: false, tls: tls,
                                    settings: settings(.mx), store: store, logger: logger, throttle: throttle, quotas: store.quotas,
                                    protection: store.protection)
        submission = SMTPListeners.listener(name: "submission", host: "127.0.0.1", port: 0, implicitTLS: false, tls: tls,
                                            settings: settings(.submission), store: store, logger: logger, throttle: throttle, quotas: store.quotas,
                                    protection: store.protection)
        submissions = SMTPListeners.listener(name: "submissions", host: "127.0.0.1", port: 0, implicitTLS: true, tls: tls,
                                             settings: settings(.submission), store: store, logger: logger, throttle: throttle, quotas: store.quotas,
                                    protection: store.protection)
        for listener in [mx, submission, submissions] { try await listener.bind() }
        let listeners = [mx, submission, submissions]
        task = Task {
            await withTaskGroup(of: Void.self) { group in
                for listener in listeners { group.addTask { try? await listener.run() } }
            }
        }
    }

    /// Stops the listeners (graceful) and removes the data.
    func stop() async {
        for listener in [mx, submission, submissions] { listener.triggerGracefulShutdown() }
        await task?.value
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Messages in an account's Inbox, as stored bytes.
    func inbox(_ address: String) async throws -> [[UInt8]] {
        guard let account = try await store.directory.account(address) else { return [] }
        let mail = try await store.mail(for: account)
        var result: [[UInt8]] = []
        for record in try await mail.messages(in: "INBOX") {
            result.append(try await mail.messageBytes(in: "INBOX", uid: record.uid))
        }
        return result
    }
}

/// The part of a stored message after the trace headers this server adds at delivery.
func bodyAfterTrace(_ stored: [UInt8]) -> [UInt8] {
    var index = 0
    while index < stored.count {
        let lineEnd = stored[index...].firstIndex(of: 10) ?? stored.count
        let line = String(decoding: stored[index..<lineEnd], as: UTF8.self)
        let isTrace = line.hasPrefix("Return-Path:") || line.hasPrefix("Delivered-To:") || line.hasPrefix("Received:")
            || line.hasPrefix("\t")
        if !isTrace { return Array(stored[index...]) }
        index = lineEnd + 1
    }
    return []
}


extension RawClient {
    /// The code and the text of the last line of the next reply, e.g. "550 5.1.1 No such user here".
    func expect(_ prefix: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let lines = try reply()
        #expect(lines.last?.hasPrefix(prefix) == true, "expected \(prefix), got \(lines)", sourceLocation: sourceLocation)
    }

    /// Sends `command` and checks the reply starts with `prefix`.
    func command(_ command: String, _ prefix: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try send(command + "\r\n")
        try expect(prefix, sourceLocation: sourceLocation)
    }

}

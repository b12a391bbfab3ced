import ArgumentParser
import Foundation
import MailStore
import MailStoreSQLite
import SkjoldConfig

/// `skjold queue`: inspect and prune the outbound queue (messages accepted for delivery elsewhere).
struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "queue", abstract: "Inspect the outbound queue.",
                                                    subcommands: [List.self, Show.self, Retry.self, Remove.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List queued messages, oldest first.")
        @OptionGroup var options: StoreOptions
        func run() async throws {
            let (_, store) = try options.open()
            let messages = try await store.queue.list()
            if messages.isEmpty {
                print("queue is empty")
                return
            }
            for message in messages { print(QueueFormat.summary(message)) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one queued message: envelope, DSN request, each recipient's state.")
        @OptionGroup var options: StoreOptions
        @Argument(help: "Queue ID, as printed by `skjold queue list`.") var id: String
        func run() async throws {
            let (_, store) = try options.open()
            guard let message = try await store.queue.message(id: id) else { throw QueueFormat.unknown(id) }
            for line in QueueFormat.details(message, path: store.queue.messagePath(id: message.id)) { print(line) }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a queued message (or all of them) due now; the running server tries it within a second or two.")
        @OptionGroup var options: StoreOptions
        @Argument(help: "Queue ID, as printed by `skjold queue list`.") var id: String?
        @Flag(help: "Every queued message.") var all = false
        func validate() throws {
            if all == (id != nil) { throw ValidationError("give a queue ID or --all") }
        }
        func run() async throws {
            let (_, store) = try options.open()
            if let id {
                guard try await store.queue.message(id: id) != nil else { throw QueueFormat.unknown(id) }
                _ = try await store.queue.retry(id: id, at: Date())
                print("queued message \(id) is due now")
            } else {
                let count = try await store.queue.list().count
                _ = try await store.queue.retry(id: nil, at: Date())
                print(count == 1 ? "1 queued message is due now" : "\(count) queued messages are due now")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a queued message without delivering it or sending a bounce.")
        @OptionGroup var options: StoreOptions
        @Argument(help: "Queue ID, as printed by `skjold queue list`.") var id: String
        func run() async throws {
            let (_, store) = try options.open()
            // Checked first so an unknown ID gets a clear message rather than the storage layer's.
            guard try await store.queue.message(id: id) != nil else { throw QueueFormat.unknown(id) }
            try await store.queue.remove(id: id)
            print("removed queued message \(id)")
        }
    }
}

/// How queue entries are shown to the admin.
enum QueueFormat {
    /// UTC, second precision: what an admin compares with `date -u`.
    static func time(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    static func sender(_ message: QueuedMessage) -> String {
        message.sender.isEmpty ? "<>" : message.sender
    }

    static func unknown(_ id: String) -> CLIError {
        let shown = id.unicodeScalars.contains { $0.properties.generalCategory == .control } ? id.debugDescription : "\"\(id)\""
        return CLIError(message: "no queued message \(shown)")
    }

    /// One line: id, created, size, sender, recipients (pending), next attempt.
    static func summary(_ message: QueuedMessage) -> String {
        let pending = message.recipients.filter { $0.state == .pending }.count
        let recipients = message.recipients.count == 1 ? "1 recipient" : "\(message.recipients.count) recipients"
        return [
            message.id,
            time(message.createdAt),
            "\(message.size) bytes",
            "from \(sender(message))",
            "\(recipients) (\(pending) pending)",
            "next \(time(message.nextAttempt))",
        ].joined(separator: "  ")
    }

    static func details(_ message: QueuedMessage, path: String) -> [String] {
        var lines = [
            "id: \(message.id)",
            "created: \(time(message.createdAt))",
            "size: \(message.size) bytes",
            "sender: \(sender(message))",
            "account: \(message.accountID ?? "none")",
            "attempts: \(message.attempts)",
            "next attempt: \(time(message.nextAttempt))",
            "delay notice sent: \(message.warned ? "yes" : "no")",
            "dkim: \(message.signature.map { $0.isEmpty ? "not signed (no key for the sender's domain)" : "signed" } ?? "not yet signed")",
            "dsn ret: \(message.dsn.ret ?? "none")",
            "dsn envelope id: \(message.dsn.envelopeID ?? "none")",
            "file: \(path)",
            "recipients:",
        ]
        for r in message.recipients {
            var line = "  \(r.address)  \(r.state.rawValue)"
            if let notify = r.notify { line += "  notify=\(notify)" }
            if let orcpt = r.originalRecipient { line += "  orcpt=\(orcpt)" }
            line += "  last reply: \(r.lastReply.map(oneLine) ?? "none")"
            if let host = r.remoteHost { line += "  from \(oneLine(host))" }
            lines.append(line)
        }
        return lines
    }

    /// Remote replies can be multi-line; keep one recipient per line.
    static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}

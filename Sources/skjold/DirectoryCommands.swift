import Delivery
import ArgumentParser
import Foundation
import MailStore
import MailStoreSQLite
import SkjoldConfig

struct DomainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "domain", abstract: "Manage hosted domains.",
                                                    subcommands: [Add.self, Remove.self, List.self, DNS.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Host a domain.")
        @OptionGroup var options: StoreOptions
        @Argument var name: String
        func run() async throws {
            let (_, store) = try options.open()
            let domain = try await store.directory.addDomain(name)
            print("added domain \(domain.name)")
            let keys = try await DKIMProvisioning.ensureKeys(domain: domain.name, in: store.dkimKeys)
            print("DKIM selectors: \(keys.map(\.selector).joined(separator: ", ")) (publish them: skjold domain dns \(domain.name))")
        }
    }

    struct DNS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dns", abstract: "Print the DNS records to publish for a hosted domain: MX, SPF, DKIM, DMARC.")
        @OptionGroup var options: StoreOptions
        @Argument var name: String
        func run() async throws {
            let (config, store) = try options.open()
            let domain = name.lowercased()
            guard try await store.directory.isHostedDomain(domain) else {
                throw CLIError(message: "\(domain) is not a hosted domain (add it with: skjold domain add \(domain))")
            }
            let keys = try await DKIMProvisioning.ensureKeys(domain: domain, in: store.dkimKeys)
            for line in try DKIMProvisioning.dnsRecords(domain: domain, hostname: config.hostname, keys: keys) { print(line) }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop hosting a domain (it must have no accounts or aliases).")
        @OptionGroup var options: StoreOptions
        @Argument var name: String
        func run() async throws {
            let (_, store) = try options.open()
            try await store.directory.removeDomain(name)
            print("removed domain \(name.lowercased())")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List hosted domains.")
        @OptionGroup var options: StoreOptions
        func run() async throws {
            let (_, store) = try options.open()
            for domain in try await store.directory.domains() { print(domain.name) }
        }
    }
}

struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "account", abstract: "Manage accounts.",
                                                    subcommands: [Add.self, List.self, Show.self, Set.self, Passwd.self, AppPassword.self, Unlock.self,
                                                                  Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an account (prints a generated password unless --password-stdin).")
        @OptionGroup var options: StoreOptions
        @Argument var address: String
        @Flag(name: .customLong("password-stdin"), help: "Read the password from standard input.")
        var passwordStdin = false
        @Option(help: "Plan name (see [plans] in the configuration).")
        var plan: String = "standard"
        @Flag(name: .customLong("no-backup"), help: "No Backup account: kept out of backups, deleted mail is gone at once.")
        var noBackup = false

        func run() async throws {
            let (_, store) = try options.open()
            let password = passwordStdin ? try readPasswordFromStdin() : PasswordGenerator.generate()
            let account = try await store.directory.addAccount(address, password: password, plan: plan, noBackup: noBackup)
            print("added account \(account.address) (plan \(account.plan)\(account.noBackup ? ", no backup" : ""))")
            if !passwordStdin { print("password: \(password)") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts.")
        @OptionGroup var options: StoreOptions
        func run() async throws {
            let (_, store) = try options.open()
            for account in try await store.directory.accounts() {
                let paused = try await store.protection.submissionPause(accountID: account.id) != nil
                print("\(account.address)\tplan=\(account.plan)\(account.noBackup ? "\tno-backup" : "")\(paused ? "\tPAUSED" : "")")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an account: plan, storage used, mailboxes, aliases.")
        @OptionGroup var options: StoreOptions
        @Argument var address: String
        func run() async throws {
            let (config, store) = try options.open()
            guard let account = try await store.directory.account(address) else {
                throw DirectoryError.noSuchAccount((try? EmailAddress(address).given) ?? address)
            }
            let mail = try await store.mail(for: account)
            let used = try await mail.storageUsed()
            let plan = config.plans[account.plan] ?? .standard
            let extras = try await store.quotas.extras(ofAccount: account.id)
            let outgoing = try await store.quotas.outgoingUsage(accountID: account.id, now: Date())
            let aliases = try await store.directory.aliases(of: account.address.given).map(\.address.given)
            func extra(_ text: String) -> String { text.isEmpty ? "" : " (plan + \(text) extra)" }
            print("address: \(account.address)")
            print("plan: \(account.plan)")
            print("no backup: \(account.noBackup ? "yes" : "no")")
            print("storage: \(ByteSize.format(used)) used of \(ByteSize.format(plan.storage + extras.storage))"
                  + extra(extras.storage > 0 ? ByteSize.format(extras.storage) : ""))
            let frees = outgoing.freesAt.map { "; frees up from \(AccountCommand.timestamp($0))" } ?? ""
            print("outgoing today: \(outgoing.used) of \(plan.outgoingPerDay + extras.outgoingPerDay) recipients in the last 24 h"
                  + extra(extras.outgoingPerDay > 0 ? "\(extras.outgoingPerDay)" : "") + frees)
            let traffic = try await store.quotas.trafficUsage(accountID: account.id, now: Date())
            let trafficFrees = traffic.freesAt.map { "; frees up from \(AccountCommand.timestamp($0))" } ?? ""
            print("bandwidth this week: \(ByteSize.format(traffic.used)) of \(ByteSize.format(plan.bandwidthPerWeek + extras.bandwidthPerWeek))"
                  + extra(extras.bandwidthPerWeek > 0 ? ByteSize.format(extras.bandwidthPerWeek) : "") + trafficFrees)
            print("message size: up to \(ByteSize.format(Int64(plan.maxMessageSize)))")
            print("aliases: \(aliases.joined(separator: ", "))")
            if let pause = try await store.protection.submissionPause(accountID: account.id) {
                print("submission: PAUSED since \(AccountCommand.timestamp(pause.since)) (\(pause.reason)); clear with `skjold account unlock`")
            }
            let appPasswords = try await store.protection.appPasswords(account.address.given)
            print("app passwords: \(appPasswords.map(\.name).joined(separator: ", "))")
            let webOnly = try await store.protection.isMainPasswordWebOnly(accountID: account.id)
            print("main password: \(webOnly ? "web only (mail clients need an app password)" : "web and mail clients")")
            print("alias allowance: \(aliases.count) of \(plan.aliases) used")
            print("mailboxes:")
            for box in try await mail.mailboxes() {
                let use = box.specialUse.map { " \($0.rawValue)" } ?? ""
                print("  \(box.name)\(use): \(box.messageCount) messages, \(box.unseenCount) unseen, \(ByteSize.format(box.totalSize))")
            }
        }
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change an account's plan and purchased extras on top of it.",
            discussion: "Extras replace the previous extras; --extra-storage 0 removes one.")
        @OptionGroup var options: StoreOptions
        @Argument var address: String
        @Option(help: "Plan name (see `skjold plan list`).") var plan: String?
        @Option(name: .customLong("extra-storage"), help: "Storage on top of the plan, e.g. 5GB.") var extraStorage: String?
        @Option(name: .customLong("extra-outgoing"), help: "Recipients per day on top of the plan.") var extraOutgoing: Int?
        @Option(name: .customLong("extra-bandwidth"), help: "Bandwidth per week on top of the plan, e.g. 10GB.") var extraBandwidth: String?
        @Flag(name: .customLong("no-backup"), help: "Move the account under storage.nobackup_dir: never in a backup.") var noBackup = false
        @Flag(name: .customLong("backup"), help: "Move a No Backup account back into data_dir.") var backup = false
        @Option(name: .customLong("main-password"),
                help: "web-only: IMAP/POP3/SMTP accept app passwords only; everywhere: the main password works for mail too.")
        var mainPassword: String?

        func run() async throws {
            if let mainPassword, !["web-only", "everywhere"].contains(mainPassword) {
                throw CLIError(message: "--main-password: \"\(mainPassword)\" is neither web-only nor everywhere", code: 64)
            }
            guard plan != nil || extraStorage != nil || extraOutgoing != nil || extraBandwidth != nil || noBackup || backup
                    || mainPassword != nil else {
                throw CLIError(message: "nothing to change: give --plan, --extra-storage, --extra-outgoing, --extra-bandwidth, --no-backup or --backup",
                               code: 64)
            }
            if noBackup && backup { throw CLIError(message: "--no-backup and --backup contradict each other", code: 64) }
            func size(_ text: String?, _ flag: String) throws -> Int64? {
                guard let text else { return nil }
                guard let value = ByteSize.parse(text) else { throw CLIError(message: "--\(flag): \"\(text)\" is not a size like 5GB or 500MiB", code: 64) }
                return Int64(value)
            }
            let storage = try size(extraStorage, "extra-storage")
            let bandwidth = try size(extraBandwidth, "extra-bandwidth")
            if let extraOutgoing, extraOutgoing < 0 { throw CLIError(message: "--extra-outgoing cannot be negative", code: 64) }
            let (_, store) = try options.open()
            guard let account = try await store.directory.account(address) else {
                throw DirectoryError.noSuchAccount((try? EmailAddress(address).given) ?? address)
            }
            if let plan { try await store.directory.setPlan(account.address.given, plan: plan) }
            if noBackup || backup { try await store.setNoBackup(account.address.given, noBackup) }
            if let mainPassword { try await store.protection.setMainPasswordWebOnly(account.address.given, mainPassword == "web-only") }
            if storage != nil || bandwidth != nil || extraOutgoing != nil {
                var extras = try await store.quotas.extras(ofAccount: account.id)
                if let storage { extras.storage = storage }
                if let bandwidth { extras.bandwidthPerWeek = bandwidth }
                if let extraOutgoing { extras.outgoingPerDay = extraOutgoing }
                try await store.quotas.setExtras(account.address.given, extras)
            }
            print("updated \(account.address.given)")
        }
    }

    struct Unlock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume an account's submission after a burst pause.")
        @OptionGroup var options: StoreOptions
        @Argument var address: String
        func run() async throws {
            let (_, store) = try options.open()
            try await store.protection.unlock(address)
            print("unlocked \(address)")
        }
    }

    struct AppPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "app-password", abstract: "Passwords for single mail clients (IMAP, POP3, SMTP), revocable one by one.",
            subcommands: [Add.self, List.self, Revoke.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create an app password; it is printed once.")
            @OptionGroup var options: StoreOptions
            @Argument var address: String
            @Argument(help: "A name to recognise it by, e.g. \"phone\".") var name: String
            func run() async throws {
                let (_, store) = try options.open()
                let password = try await store.protection.addAppPassword(address, name: name)
                print("app password \"\(name)\" for \(address): \(password)")
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List an account's app passwords (names and dates only).")
            @OptionGroup var options: StoreOptions
            @Argument var address: String
            func run() async throws {
                let (_, store) = try options.open()
                for info in try await store.protection.appPasswords(address) {
                    print("\(info.name)\tcreated \(AccountCommand.timestamp(info.createdAt))")
                }
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke an app password: it stops working at once.")
            @OptionGroup var options: StoreOptions
            @Argument var address: String
            @Argument var name: String
            func run() async throws {
                let (_, store) = try options.open()
                try await store.protection.revokeAppPassword(address, name: name)
                print("revoked app password \"\(name)\" of \(address)")
            }
        }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set an account's password (read from standard input).")
        @OptionGroup var options: StoreOptions
        @Argument var address: String
        @Flag(name: .customLong("password-stdin"), help: "Read the password from standard input.")
        var passwordStdin = false
        func run() async throws {
            let (_, store) = try options.open()
            let password = passwordStdin ? try readPasswordFromStdin() : PasswordGenerator.generate()
            try await store.directory.setPassword(address, password: password)
            print("password changed for \(address)")
            if !passwordStdin { print("password: \(password)") }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an account and erase all its data (requires --erase).")
        @OptionGroup var options: StoreOptions
        @Argument var address: String
        @Flag(help: "Confirm: delete the account, its aliases, its credentials and every byte of its mail.")
        var erase = false
        func run() async throws {
            guard erase else {
                throw CLIError(message: "refusing to remove \(address) without --erase: --erase deletes the account, its aliases, its credentials and every byte of its mail and search index, irreversibly", code: 2)
            }
            let (_, store) = try options.open()
            try await store.directory.eraseAccount(address)
            print("erased account \(address)")
        }
    }
}

struct AliasCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "alias", abstract: "Manage aliases.",
                                                    subcommands: [Add.self, List.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add ALIAS delivering to the account TARGET.")
        @OptionGroup var options: StoreOptions
        @Argument var alias: String
        @Argument var target: String
        func run() async throws {
            let (_, store) = try options.open()
            let alias = try await store.directory.addAlias(alias, target: target)
            print("added alias \(alias.address) -> \(alias.target)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List aliases (of one account, if given).")
        @OptionGroup var options: StoreOptions
        @Argument var account: String?
        func run() async throws {
            let (_, store) = try options.open()
            for alias in try await store.directory.aliases(of: account) { print("\(alias.address) -> \(alias.target)") }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an alias.")
        @OptionGroup var options: StoreOptions
        @Argument var alias: String
        func run() async throws {
            let (_, store) = try options.open()
            try await store.directory.removeAlias(alias)
            print("removed alias \(alias)")
        }
    }
}

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plan", abstract: "Subscription plans from the configuration.",
                                                    subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List plans and their limits.")
        @OptionGroup var options: StoreOptions
        func run() async throws {
            let config = try options.resolveConfig()
            for (name, plan) in config.plans.sorted(by: { $0.key < $1.key }) {
                print("\(name)\tstorage=\(ByteSize.format(plan.storage))\tbandwidth_per_week=\(ByteSize.format(plan.bandwidthPerWeek))"
                      + "\toutgoing_per_day=\(plan.outgoingPerDay)\taliases=\(plan.aliases)"
                      + "\tmax_message_size=\(ByteSize.format(Int64(plan.maxMessageSize)))")
            }
        }
    }
}

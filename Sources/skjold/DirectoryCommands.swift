import ArgumentParser
import Foundation
import MailStore
import MailStoreSQLite
import SkjoldConfig

struct DomainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "domain", abstract: "Manage hosted domains.",
                                                    subcommands: [Add.self, Remove.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Host a domain.")
        @OptionGroup var options: StoreOptions
        @Argument var name: String
        func run() async throws {
            let (_, store) = try options.open()
            let domain = try await store.directory.addDomain(name)
            print("added domain \(domain.name)")
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
                                                    subcommands: [Add.self, List.self, Show.self, Passwd.self, Remove.self])

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
                print("\(account.address)\tplan=\(account.plan)\(account.noBackup ? "\tno-backup" : "")")
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
            let plan = config.plans[account.plan]
            print("address: \(account.address)")
            print("plan: \(account.plan)")
            print("no backup: \(account.noBackup ? "yes" : "no")")
            print("storage: \(ByteSize.format(used)) used of \(plan.map { ByteSize.format($0.storage) } ?? "unknown")")
            print("aliases: \(try await store.directory.aliases(of: account.address.given).map(\.address.given).joined(separator: ", "))")
            print("mailboxes:")
            for box in try await mail.mailboxes() {
                let use = box.specialUse.map { " \($0.rawValue)" } ?? ""
                print("  \(box.name)\(use): \(box.messageCount) messages, \(box.unseenCount) unseen, \(ByteSize.format(box.totalSize))")
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

import ArgumentParser
import Foundation
import MailStore
import MailStoreSQLite
import SkjoldConfig
import SkjoldServer
#if canImport(Glibc)
import Glibc
#endif

/// `skjold`: the server and its admin commands in one binary.
@main
struct Skjold: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skjold",
        abstract: "Skjold: a privacy-first, all-in-one mail server.",
        subcommands: [Serve.self, DomainCommand.self, AccountCommand.self, AliasCommand.self, PlanCommand.self, QueueCommand.self,
                      BackupCommand.self, RestoreCommand.self, ExportCommand.self])

    static func main() async {
        // Everything Skjold creates (databases, mail, keys) is private to its user: 0600 files, 0700 folders.
        umask(0o077)
        do {
            var command = try parseAsRoot()
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch let error as CLIError {
            FileHandle.standardError.write(Data("skjold: \(error.message)\n".utf8))
            terminate(error.code)
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("skjold: \(error.description)\n".utf8))
            terminate(78)  // EX_CONFIG
        } catch let error as DirectoryError {
            FileHandle.standardError.write(Data("skjold: \(error.description)\n".utf8))
            terminate(1)
        } catch let error as MailStoreError {
            FileHandle.standardError.write(Data("skjold: \(error.description)\n".utf8))
            terminate(1)
        } catch {
            exit(withError: error)
        }
    }
}

/// Ends the process with `code` (the global `exit`, which `ParsableCommand.exit(withError:)` shadows here).
func terminate(_ code: Int32) -> Never {
    Foundation.exit(code)
}

/// A one-line failure for the admin, with its exit code.
struct CLIError: Error {
    var message: String
    var code: Int32 = 1
}

/// Options every command takes to find its configuration and data.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (TOML).")
    var config: String?

    @Option(name: .customLong("data"), help: "Data directory (overrides data_dir; without --config: the dev layout).")
    var dataDir: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one setting, e.g. --set listen.smtp=127.0.0.1:2525.", valueName: "KEY=VALUE"))
    var overrides: [String] = []

    /// Where the settings come from: --config, else --data (dev layout), else $SKJOLD_CONFIG,
    /// /etc/skjold/skjold.toml, ./skjold-data (what `serve --dev` made), else the built-in default.
    func resolveConfig(dev: Bool = false) throws -> SkjoldConfig {
        var config: SkjoldConfig
        if let file = configFile(dev: dev) {
            config = try SkjoldConfig.load(file: file)
            if let dataDir { config.dataDir = dataDir }
        } else if dev || dataDir != nil {
            config = SkjoldConfig.dev(dataDir: dataDir ?? "skjold-data")
        } else if FileManager.default.fileExists(atPath: "skjold-data/skjold.sqlite") {
            config = SkjoldConfig.dev(dataDir: "skjold-data")
        } else {
            config = SkjoldConfig.builtInDefault
        }
        try config.apply(overrides: overrides)
        config.dataDir = Self.absolute(config.dataDir)
        if let nb = config.storage.nobackupDir { config.storage.nobackupDir = Self.absolute(nb) }
        return config
    }

    private func configFile(dev: Bool) -> String? {
        if let config { return config }
        // --dev means the dev layout: never a system configuration picked up by accident.
        if dev { return nil }
        if let env = ProcessInfo.processInfo.environment["SKJOLD_CONFIG"], !env.isEmpty { return env }
        if dataDir == nil, FileManager.default.fileExists(atPath: "/etc/skjold/skjold.toml") { return "/etc/skjold/skjold.toml" }
        return nil
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    func openStore(_ config: SkjoldConfig) throws -> SQLiteMailStore {
        guard config.storage.backend == .sqlite else {
            throw CLIError(message: "storage.backend = \"\(config.storage.backend.rawValue)\" is not available in this build; use \"sqlite\"", code: 78)
        }
        return try SQLiteMailStore(layout: StorageLayout(dataDir: config.dataDir, nobackupDir: config.nobackupDir),
                                   plans: PlanCatalog(config))
    }

    /// The configuration and the store, for admin commands. Run as root with `user` set, the command first
    /// becomes that user (as `serve` does after binding), so every file it creates belongs to the server's
    /// account rather than to root (which the running server could not open). `asServiceUser: false` keeps
    /// root, for commands that only read the store and write elsewhere (export).
    func open(asServiceUser: Bool = true) throws -> (SkjoldConfig, SQLiteMailStore) {
        let config = try resolveConfig()
        if asServiceUser, geteuid() == 0, config.user != nil {
            do {
                let plan = try Privileges.plan(user: config.user, allowRoot: true)
                _ = try Privileges.apply(plan, ownedPaths: [config.dataDir, config.nobackupDir])
            } catch {
                throw CLIError(message: error.description, code: error.exitCode)
            }
        }
        return (config, try openStore(config))
    }
}

extension PlanCatalog {
    init(_ config: SkjoldConfig) {
        self.init(names: Set(config.plans.keys), aliasLimits: config.plans.mapValues(\.aliases))
    }
}

/// Reads a password from standard input: the first line, without its line ending.
func readPasswordFromStdin() throws -> String {
    let data = FileHandle.standardInput.readDataToEndOfFile()
    guard var text = String(data: data, encoding: .utf8) else { throw CLIError(message: "password on stdin is not UTF-8") }
    if let newline = text.firstIndex(where: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) { text = String(text[..<newline]) }
    guard !text.isEmpty else { throw CLIError(message: "no password on stdin") }
    return text
}

import ArgumentParser
import Foundation
import Logging
import MailStore
import MailStoreSQLite
import SkjoldConfig
import SkjoldServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the mail server.",
        discussion: "With --dev: data in ./skjold-data (or --data DIR), listeners on 127.0.0.1, a demo account on first start.")

    @OptionGroup var options: StoreOptions

    @Flag(help: "Development defaults: 127.0.0.1 listeners on high ports, ./skjold-data, demo@skjold.test.")
    var dev = false

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    // --dev implies it: a development server on 127.0.0.1 keeps running as whoever started it (also root,
    // as on a fresh CI machine), and its ./skjold-data stays theirs.
    @Flag(name: .customLong("allow-root"), help: "Keep running as root when started as root without `user` (not recommended; --dev implies it).")
    var allowRoot = false

    func run() async throws {
        let config = try options.resolveConfig(dev: dev && options.config == nil)
        guard let level = Logger.Level(rawValue: logLevel) else { throw CLIError(message: "unknown log level \"\(logLevel)\"", code: 64) }
        // Before anything is written: root without `user` stops here.
        let privileges: Privileges.Plan
        do throws(Privileges.Failure) {
            privileges = try Privileges.plan(user: config.user, allowRoot: allowRoot || dev)
        } catch {
            throw CLIError(message: error.message, code: error.exitCode)
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "skjold")
        if let warning = privileges.warning { logger.warning("\(warning)") }
        let store = try options.openStore(config)
        let out: @Sendable (String) -> Void = { line in
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
        out("Skjold mail server\(dev ? " (dev)" : ""): hostname \(config.hostname), data in \(config.dataDir)")
        if dev, let password = try await DevBootstrap.ensureDemoAccount(store) {
            out("created domain \(DevBootstrap.domain) and account \(DevBootstrap.account)")
            out("  password: \(password)   (shown once; change it with `skjold account passwd \(DevBootstrap.account) --password-stdin`)")
        }
        do {
            try await ServerRuntime(config: config, store: store, logger: logger, privileges: privileges).run(printer: out)
        } catch let error as Privileges.Failure {
            throw CLIError(message: error.message, code: error.exitCode)
        }
    }
}

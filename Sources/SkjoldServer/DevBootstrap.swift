import Foundation
import MailStore
import MailStoreSQLite

/// `serve --dev` first start: a domain and an account to try the server with.
public enum DevBootstrap {
    public static let domain = "skjold.test"
    public static let account = "demo@skjold.test"

    /// Creates the demo domain and account if the directory is empty; returns the generated password (shown once).
    public static func ensureDemoAccount(_ store: SQLiteMailStore) async throws -> String? {
        let directory = store.directory
        let domains = try await directory.domains()
        let accounts = try await directory.accounts()
        if !domains.isEmpty || !accounts.isEmpty { return nil }
        _ = try await directory.addDomain(domain)
        let password = PasswordGenerator.generate()
        _ = try await directory.addAccount(account, password: password, plan: "standard", noBackup: false)
        return password
    }
}

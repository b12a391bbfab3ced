import Foundation
import IMAPServer
import Logging
import MailServerCore
import MailStore
import MailStoreSQLite
import POP3Server
import SMTPServer
import SkjoldConfig

/// Which listeners exist in this build and what each one serves. Each protocol issue adds its own here.
struct ProtocolEndpoints {
    let config: SkjoldConfig
    let store: SQLiteMailStore
    let tls: ServerTLS
    let logger: Logger

    var spoolDirectory: String { config.dataDir + "/spool" }

    /// `[limits]`: slow-client deadlines for every listener.
    var deadlines: ClientDeadlines {
        ClientDeadlines(handshakeTimeout: .seconds(config.limits.tlsHandshakeTimeoutSeconds),
                        commandTimeout: .seconds(config.limits.commandTimeoutSeconds),
                        minimumDataRate: config.limits.minDataRate)
    }

    /// The listeners to start, with a one-line description for the start-up banner.
    func listeners() throws -> [(MailListener, String)] {
        var result: [(MailListener, String)] = []
        let smtpLogger = Logger(label: "skjold.smtp")
        func settings(_ role: SMTPRole) -> SMTPServerSettings {
            SMTPServerSettings(role: role, hostname: config.hostname, maximumMessageSize: config.limits.maxMessageSize,
                               spoolDirectory: spoolDirectory, logIPAddresses: config.privacy.logIPAddresses,
                               logEnvelopes: config.privacy.logEnvelopes, plans: config.plans,
                               burstRecipients: config.limits.burstRecipients,
                               burstWindow: .seconds(config.limits.burstMinutes * 60))
        }
        let smtpPorts: [(String, ListenAddress?, SMTPRole, Bool, String)] = [
            ("smtp", config.listen.smtp, .mx, false, "SMTP (MX) for hosted domains, STARTTLS offered"),
            ("submission", config.listen.submission, .submission, false, "submission, STARTTLS then AUTH PLAIN/LOGIN"),
            ("submissions", config.listen.submissions, .submission, true, "submission over implicit TLS, AUTH PLAIN/LOGIN"),
        ]
        // SMTP data and IMAP APPENDs share the spool: a crash's leftovers go whichever of them is on.
        if smtpPorts.contains(where: { $0.1 != nil }) || config.listen.imap != nil || config.listen.imaps != nil {
            try SMTPListeners.prepareSpool(spoolDirectory)
        }
        for (name, address, role, implicitTLS, description) in smtpPorts {
            guard let address else { continue }
            let listener = SMTPListeners.listener(name: name, host: address.host, port: address.port, implicitTLS: implicitTLS,
                                                  tls: tls, settings: settings(role), store: store, logger: smtpLogger,
                                                  quotas: store.quotas, protection: store.protection,
                                                  maxConnections: config.limits.maxConnections,
                                                  maxConnectionsPerAddress: config.limits.maxConnectionsPerAddress, deadlines: deadlines)
            result.append((listener, description))
        }
        let defaultPlan = config.plans["standard"] ?? .standard
        let imapSettings = IMAPServerSettings(hostname: config.hostname, maximumMessageSize: config.limits.maxMessageSize,
                                              temporaryDirectory: spoolDirectory, logIPAddresses: config.privacy.logIPAddresses,
                                              storagePerPlan: config.plans.mapValues(\.storage), defaultStorage: defaultPlan.storage,
                                              bandwidthPerWeek: config.plans.mapValues(\.bandwidthPerWeek),
                                              defaultBandwidth: defaultPlan.bandwidthPerWeek,
                                              messageSizePerPlan: config.plans.mapValues(\.maxMessageSize))
        let imapLogger = Logger(label: "skjold.imap")
        let imapPorts: [(String, ListenAddress?, Bool, String)] = [
            ("imap", config.listen.imap, false, "IMAP, STARTTLS then LOGIN or AUTHENTICATE PLAIN"),
            ("imaps", config.listen.imaps, true, "IMAP over implicit TLS"),
        ]
        for (name, address, implicitTLS, description) in imapPorts {
            guard let address else { continue }
            let listener = IMAPListeners.listener(name: name, host: address.host, port: address.port, implicitTLS: implicitTLS,
                                                  tls: tls, settings: imapSettings, store: store, logger: imapLogger,
                                                  quotas: store.quotas, maxConnections: config.limits.maxIMAPConnections,
                                                  maxConnectionsPerAddress: config.limits.maxIMAPConnectionsPerAddress,
                                                  deadlines: deadlines)
            result.append((listener, description))
        }
        let pop3Settings = POP3ServerSettings(hostname: config.hostname, logIPAddresses: config.privacy.logIPAddresses,
                                              bandwidthPerWeek: config.plans.mapValues(\.bandwidthPerWeek),
                                              defaultBandwidth: (config.plans["standard"] ?? .standard).bandwidthPerWeek)
        let pop3Logger = Logger(label: "skjold.pop3")
        let pop3Ports: [(String, ListenAddress?, Bool, String)] = [
            ("pop3", config.listen.pop3, false, "POP3, STLS then USER/PASS or AUTH PLAIN"),
            ("pop3s", config.listen.pop3s, true, "POP3 over implicit TLS"),
        ]
        for (name, address, implicitTLS, description) in pop3Ports {
            guard let address else { continue }
            let listener = POP3Listeners.listener(name: name, host: address.host, port: address.port, implicitTLS: implicitTLS,
                                                  tls: tls, settings: pop3Settings, store: store, logger: pop3Logger,
                                                  quotas: store.quotas, maxConnections: config.limits.maxConnections,
                                                  maxConnectionsPerAddress: config.limits.maxConnectionsPerAddress,
                                                  deadlines: deadlines)
            result.append((listener, description))
        }
        return result
    }

    /// How to point a mail client at this server, given the listeners that are on.
    func clientHint(ports: [String: Int]) -> String? {
        var lines: [String] = []
        if let port = ports["submissions"] ?? ports["submission"] {
            let security = ports["submissions"] != nil ? "SSL/TLS" : "STARTTLS"
            lines.append("mail client: outgoing server \(config.hostname) port \(port), \(security), normal password, user name = full address")
        }
        if let port = ports["imaps"] ?? ports["imap"] {
            let security = ports["imaps"] != nil ? "SSL/TLS" : "STARTTLS"
            lines.append("mail client: incoming IMAP server \(config.hostname) port \(port), \(security), normal password, user name = full address")
        }
        if let port = ports["pop3s"] ?? ports["pop3"] {
            let security = ports["pop3s"] != nil ? "SSL/TLS" : "STARTTLS"
            lines.append("mail client: incoming POP3 server \(config.hostname) port \(port), \(security), normal password")
        }
        if let port = ports["smtp"] {
            lines.append("test delivery: swaks --server 127.0.0.1:\(port) --to ADDRESS  (MX accepts hosted domains only)")
        }
        if lines.isEmpty { return nil }
        lines.append("the certificate is self-signed unless [tls] cert/key are set: accept its fingerprint below in your client")
        return lines.joined(separator: "\n")
    }
}

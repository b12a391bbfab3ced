import Foundation
import Logging
import MailServerCore
import MailStore
import SMTPProtocol

/// Builds the listeners of the SMTP front doors.
public enum SMTPListeners {
    /// Clears messages left in the spool folder by a crash (they were never acknowledged) and creates it.
    public static func prepareSpool(_ directory: String) throws {
        let manager = FileManager.default
        if let leftovers = try? manager.contentsOfDirectory(atPath: directory) {
            // Also the temporary files of older versions' FileManager.createFile (".dat.nosync…").
            for name in leftovers where name.hasSuffix(".eml") || name.hasPrefix(".dat.nosync") {
                unlink(directory + "/" + name)
            }
        }
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                    attributes: [.posixPermissions: 0o700])
    }

    /// One listener.
    /// - Parameters:
    ///   - implicitTLS: Port 465 style (RFC 8314); otherwise STARTTLS is offered with `tls`.
    public static func listener(name: String, host: String, port: Int, implicitTLS: Bool, tls: ServerTLS,
                                settings: SMTPServerSettings, store: any MailStore, logger: Logger,
                                throttle: LoginThrottle = .shared, quotas: (any QuotaLedger)? = nil,
                                protection: (any AccountProtection)? = nil,
                                maxConnections: Int = 1000, maxConnectionsPerAddress: Int = 50,
                                deadlines: ClientDeadlines = ClientDeadlines()) -> MailListener {
        MailListener(
            name: name, host: host, port: port,
            implicitTLS: implicitTLS ? tls : nil,
            startTLS: implicitTLS ? nil : tls,
            maxConnections: maxConnections,
            maxConnectionsPerAddress: maxConnectionsPerAddress,
            idleTimeout: settings.idleTimeout,
            handshakeTimeout: deadlines.handshakeTimeout,
            commandTimeout: deadlines.commandTimeout,
            minimumDataRate: deadlines.minimumDataRate,
            logger: logger,
            refusal: { reason in
                switch reason {
                case .tooManyConnections:
                    return SMTPReply(code: 421, enhancedCode: EnhancedStatusCode(4, 7, 0),
                                     text: "\(settings.hostname) Too many connections, try again later").encode()
                case .tooManyFromAddress:
                    return SMTPReply(code: 421, enhancedCode: EnhancedStatusCode(4, 7, 0),
                                     text: "\(settings.hostname) Too many connections from your address, try again later").encode()
                }
            }
        ) { connection in
            await SMTPSession(connection: connection, settings: settings, store: store, throttle: throttle, quotas: quotas, protection: protection,
                        logger: logger).run()
        }
    }
}

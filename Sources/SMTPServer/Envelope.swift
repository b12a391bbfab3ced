import Foundation
import MailStore

/// One accepted recipient of the current transaction.
struct EnvelopeRecipient: Sendable {
    enum Destination: Sendable {
        /// A hosted account (directly or through an alias).
        case local(Account)
        /// Anywhere else: handed to the outbound queue (submission only).
        case remote
    }
    /// The address as given in RCPT TO.
    var address: String
    var destination: Destination
    /// RFC 3461 NOTIFY and ORCPT, kept for the outbound queue's DSNs.
    var notify: String?
    var originalRecipient: String?
}

/// The envelope of the transaction in progress (RFC 5321 §3.3).
struct Envelope: Sendable {
    /// Reverse-path; empty for the null sender `<>`.
    var sender: String
    var smtpUTF8: Bool
    var dsn: DSNEnvelope
    /// SIZE= from MAIL, if the client declared one.
    var declaredSize: Int?
    var recipients: [EnvelopeRecipient] = []
}

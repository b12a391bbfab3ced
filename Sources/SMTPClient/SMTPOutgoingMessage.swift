/// One recipient of an outgoing transaction, with its DSN parameters (RFC 3461 §4.1, §4.2).
public struct SMTPOutgoingRecipient: Sendable, Hashable {
    /// The forward-path without angle brackets.
    public var address: String
    /// NOTIFY value: `"NEVER"` or a comma-separated list of SUCCESS, FAILURE, DELAY.
    public var notify: String?
    /// ORCPT as `"addr-type;address"` (e.g. `"rfc822;user@example.org"`), the address decoded: it is
    /// xtext-encoded on the wire. Without a `;`, `rfc822` is assumed.
    public var originalRecipient: String?

    public init(address: String, notify: String? = nil, originalRecipient: String? = nil) {
        self.address = address
        self.notify = notify
        self.originalRecipient = originalRecipient
    }
}

/// Where the message content comes from.
public enum SMTPMessageBody: Sendable, Hashable {
    case bytes([UInt8])
    /// Streamed from the file in 64 KiB blocks; never loaded whole.
    case file(path: String)
}

/// One message to relay: envelope, content and the extensions it needs.
public struct SMTPOutgoingMessage: Sendable {
    /// The reverse-path without angle brackets; `""` is the null reverse-path `<>` (bounces, RFC 5321 §4.5.5).
    public var sender: String
    public var recipients: [SMTPOutgoingRecipient]
    /// Sent before the body (e.g. a DKIM-Signature or Received field), already CRLF-terminated.
    public var prefix: [UInt8]
    public var body: SMTPMessageBody
    /// Octets of prefix + body, for `SIZE=` (RFC 1870 §3) and the check against the server's limit.
    public var size: Int64
    /// ENVID (RFC 3461 §4.4), sent only when the server offers DSN.
    public var envelopeID: String?
    /// RET: `"FULL"` or `"HDRS"` (RFC 3461 §4.3), sent only when the server offers DSN.
    public var ret: String?
    /// The content has 8-bit octets: `BODY=8BITMIME` when the server offers it (RFC 6152 §2).
    public var eightBit: Bool
    /// The envelope or header needs SMTPUTF8 (RFC 6531 §3.4); the transaction fails permanently with
    /// ``SMTPClientError/smtpUTF8NotSupported`` when the server does not offer it. Also implied by a
    /// non-ASCII address.
    public var smtpUTF8: Bool

    public init(
        sender: String,
        recipients: [SMTPOutgoingRecipient],
        prefix: [UInt8] = [],
        body: SMTPMessageBody,
        size: Int64,
        envelopeID: String? = nil,
        ret: String? = nil,
        eightBit: Bool = false,
        smtpUTF8: Bool = false
    ) {
        self.sender = sender
        self.recipients = recipients
        self.prefix = prefix
        self.body = body
        self.size = size
        self.envelopeID = envelopeID
        self.ret = ret
        self.eightBit = eightBit
        self.smtpUTF8 = smtpUTF8
    }
}

/// The server's answers in one mail transaction.
public struct SMTPTransactionResult: Sendable, Hashable {
    /// The reply to MAIL FROM.
    public var mailFrom: SMTPClientReply
    /// One reply per recipient, in the message's order. When MAIL was refused without pipelining, no RCPT
    /// was sent and each entry repeats the MAIL reply.
    public var recipients: [SMTPClientReply]
    /// The reply to DATA (a refusal) or to the final "." (the outcome for every accepted recipient, RFC 5321
    /// §4.1.1.4); nil when MAIL was refused or no recipient was accepted.
    public var data: SMTPClientReply?

    public init(mailFrom: SMTPClientReply, recipients: [SMTPClientReply], data: SMTPClientReply?) {
        self.mailFrom = mailFrom
        self.recipients = recipients
        self.data = data
    }

    /// Whether the message was accepted for the recipients whose RCPT was accepted.
    public var isDelivered: Bool { data.map { $0.code / 100 == 2 } ?? false }
}

/// The replies the SMTP server sends, in one place so codes and enhanced codes stay consistent.
///
/// Codes follow RFC 5321 §4.2.2/§4.2.3, enhanced codes RFC 3463 and the extension RFCs cited per reply.
/// Texts are short and never contain client bytes unless passed through ``SMTPReply/sanitizedText(_:)``
/// (which the initialiser applies anyway).
extension SMTPReply {
    // MARK: Connection

    /// 220 greeting (RFC 5321 §4.3.1). No enhanced code (RFC 2034 §3). Says "ESMTP" so that old clients
    /// try EHLO, and nothing about the software (privacy).
    public static func greeting(serverName: String) -> SMTPReply {
        SMTPReply(code: 220, enhancedCode: nil, text: "\(serverName) ESMTP")
    }

    /// 250 reply to HELO (RFC 5321 §4.1.1.1). No enhanced code (RFC 2034 §3).
    public static func helo(serverName: String) -> SMTPReply {
        SMTPReply(code: 250, enhancedCode: nil, text: serverName)
    }

    /// 250 multi-line reply to EHLO: the server name, then one extension keyword per line (RFC 5321 §4.1.1.1).
    /// No enhanced code: clients parse these lines as keywords (RFC 2034 §3).
    public static func ehlo(serverName: String, capabilities: EHLOCapabilities) -> SMTPReply {
        SMTPReply(code: 250, enhancedCode: nil, lines: [serverName] + capabilities.keywords)
    }

    /// 221 2.0.0 closing (RFC 5321 §4.1.1.10).
    public static let bye = SMTPReply(code: 221, enhancedCode: EnhancedStatusCode(2, 0, 0), text: "Bye")

    /// 421 4.3.2: the server is shutting down and closes the connection (RFC 5321 §3.8).
    public static let shuttingDown = SMTPReply(code: 421, enhancedCode: EnhancedStatusCode(4, 3, 2), text: "Service shutting down, closing connection")

    /// 421 4.4.2: the client was idle too long (RFC 5321 §4.5.3.2).
    public static let timeout = SMTPReply(code: 421, enhancedCode: EnhancedStatusCode(4, 4, 2), text: "Timeout, closing connection")

    /// 421 4.7.0: too many errors or too many connections; the server closes the connection.
    public static let tooManyErrors = SMTPReply(code: 421, enhancedCode: EnhancedStatusCode(4, 7, 0), text: "Too many errors, closing connection")

    // MARK: Success

    /// 250 2.0.0 OK (NOOP, RSET, generic success).
    public static let ok = SMTPReply(code: 250, enhancedCode: EnhancedStatusCode(2, 0, 0), text: "OK")

    /// 250 2.1.0 sender accepted (RFC 3463 X.1.0 "other address status").
    public static let senderOK = SMTPReply(code: 250, enhancedCode: EnhancedStatusCode(2, 1, 0), text: "Sender OK")

    /// 250 2.1.5 recipient accepted (RFC 3463 X.1.5 "destination address valid").
    public static let recipientOK = SMTPReply(code: 250, enhancedCode: EnhancedStatusCode(2, 1, 5), text: "Recipient OK")

    /// 250 2.0.0 message accepted; `queueID` (server generated) is echoed for the sender's logs.
    public static func messageAccepted(queueID: String? = nil) -> SMTPReply {
        SMTPReply(code: 250, enhancedCode: EnhancedStatusCode(2, 0, 0), text: queueID.map { "OK: queued as \($0)" } ?? "OK: message accepted")
    }

    /// 354 go ahead with the message data (RFC 5321 §4.1.1.4). 3xx replies carry no enhanced code.
    public static let startMailInput = SMTPReply(code: 354, enhancedCode: nil, text: "End data with <CR><LF>.<CR><LF>")

    /// 220 2.0.0 ready to start TLS (RFC 3207 §4).
    public static let readyToStartTLS = SMTPReply(code: 220, enhancedCode: EnhancedStatusCode(2, 0, 0), text: "Ready to start TLS")

    /// 235 2.7.0 authentication succeeded (RFC 4954 §6).
    public static let authenticationSucceeded = SMTPReply(code: 235, enhancedCode: EnhancedStatusCode(2, 7, 0), text: "Authentication successful")

    /// 334 SASL challenge: the text is the base64 of `challenge` (RFC 4954 §4). An empty challenge is "334 ".
    public static func authenticationChallenge(_ challenge: [UInt8]) -> SMTPReply {
        SMTPReply(code: 334, enhancedCode: nil, text: SASLBase64.encode(challenge))
    }

    /// 252 2.1.5: VRFY is not answered (privacy, RFC 5321 §3.5.3), but the server will try delivery.
    public static let cannotVerify = SMTPReply(code: 252, enhancedCode: EnhancedStatusCode(2, 1, 5), text: "Cannot VRFY user, but will accept message and attempt delivery")

    /// 214 2.0.0 help text (RFC 5321 §4.1.1.8). Deliberately terse.
    public static let help = SMTPReply(code: 214, enhancedCode: EnhancedStatusCode(2, 0, 0), text: "See RFC 5321")

    // MARK: Transient failures

    /// 450 4.7.0: temporarily refused by policy (greylisting, rate limit); the client retries later.
    public static let temporarilyRefused = SMTPReply(code: 450, enhancedCode: EnhancedStatusCode(4, 7, 0), text: "Temporarily refused, try again later")

    /// 451 4.3.0: local error in processing (storage failure, internal error).
    public static let localError = SMTPReply(code: 451, enhancedCode: EnhancedStatusCode(4, 3, 0), text: "Local error in processing, try again later")

    /// 452 4.2.2: the recipient's mailbox is over quota (RFC 3463 X.2.2).
    public static let mailboxFull = SMTPReply(code: 452, enhancedCode: EnhancedStatusCode(4, 2, 2), text: "Mailbox full")

    /// 452 4.3.1: the server is short of disk space (RFC 3463 X.3.1).
    public static let insufficientStorage = SMTPReply(code: 452, enhancedCode: EnhancedStatusCode(4, 3, 1), text: "Insufficient system storage")

    /// 452 4.5.3: too many recipients in this transaction; the client sends the rest later
    /// (RFC 5321 §4.5.3.1.10).
    public static let tooManyRecipients = SMTPReply(code: 452, enhancedCode: EnhancedStatusCode(4, 5, 3), text: "Too many recipients")

    /// 454 4.7.0: TLS is not available right now (RFC 3207 §4).
    public static let tlsNotAvailable = SMTPReply(code: 454, enhancedCode: EnhancedStatusCode(4, 7, 0), text: "TLS not available")

    /// 454 4.7.0: temporary authentication failure, e.g. the directory is unreachable (RFC 4954 §6).
    public static let temporaryAuthenticationFailure = SMTPReply(code: 454, enhancedCode: EnhancedStatusCode(4, 7, 0), text: "Temporary authentication failure")

    // MARK: Permanent failures: syntax and sequence

    /// 500 5.5.1: unrecognised command (RFC 5321 §4.2.4).
    public static let commandUnrecognized = SMTPReply(code: 500, enhancedCode: EnhancedStatusCode(5, 5, 1), text: "Command unrecognized")

    /// 500 5.5.2: command line longer than allowed (RFC 5321 §4.5.3.1.4).
    public static let lineTooLong = SMTPReply(code: 500, enhancedCode: EnhancedStatusCode(5, 5, 2), text: "Line too long")

    /// 500 5.5.6: a SASL response line exceeded the limit (RFC 4954 §6).
    public static let authenticationLineTooLong = SMTPReply(code: 500, enhancedCode: EnhancedStatusCode(5, 5, 6), text: "Authentication exchange line is too long")

    /// 501 5.5.4: syntax error in parameters or arguments; `detail` is a fixed server text.
    public static func syntaxError(_ detail: String = "Syntax error in parameters or arguments") -> SMTPReply {
        SMTPReply(code: 501, enhancedCode: EnhancedStatusCode(5, 5, 4), text: detail)
    }

    /// 501 5.1.7: malformed sender address (RFC 3463 X.1.7).
    public static let badSenderAddressSyntax = SMTPReply(code: 501, enhancedCode: EnhancedStatusCode(5, 1, 7), text: "Bad sender address syntax")

    /// 501 5.1.3: malformed recipient address (RFC 3463 X.1.3).
    public static let badRecipientAddressSyntax = SMTPReply(code: 501, enhancedCode: EnhancedStatusCode(5, 1, 3), text: "Bad recipient address syntax")

    /// 501 5.5.2: a SASL response could not be base64-decoded (RFC 4954 §4).
    public static let invalidBase64 = SMTPReply(code: 501, enhancedCode: EnhancedStatusCode(5, 5, 2), text: "Cannot decode base64")

    /// 501 5.0.0: the client cancelled the SASL exchange with "*" (RFC 4954 §4).
    public static let authenticationCancelled = SMTPReply(code: 501, enhancedCode: EnhancedStatusCode(5, 0, 0), text: "Authentication cancelled")

    /// 502 5.5.1: command recognised but not implemented (e.g. EXPN, RFC 5321 §4.2.4).
    public static let notImplemented = SMTPReply(code: 502, enhancedCode: EnhancedStatusCode(5, 5, 1), text: "Command not implemented")

    /// 503 5.5.1: bad sequence of commands (RFC 5321 §4.2.4); `detail` is a fixed server text.
    public static func badSequence(_ detail: String = "Bad sequence of commands") -> SMTPReply {
        SMTPReply(code: 503, enhancedCode: EnhancedStatusCode(5, 5, 1), text: detail)
    }

    /// 504 5.5.4: command parameter not implemented (RFC 5321 §4.2.4).
    public static let parameterNotImplemented = SMTPReply(code: 504, enhancedCode: EnhancedStatusCode(5, 5, 4), text: "Command parameter not implemented")

    /// 504 5.5.4: unsupported SASL mechanism (RFC 4954 §4).
    public static let unsupportedAuthenticationMechanism = SMTPReply(code: 504, enhancedCode: EnhancedStatusCode(5, 5, 4), text: "Unrecognized authentication type")

    /// 555 5.5.4: MAIL/RCPT parameter not recognised (RFC 5321 §4.1.1.11, §4.3.2).
    public static func parameterNotRecognized(_ keyword: String? = nil) -> SMTPReply {
        SMTPReply(code: 555, enhancedCode: EnhancedStatusCode(5, 5, 4),
                  text: keyword.map { "Unsupported parameter \(String($0.prefix(40)))" } ?? "Unsupported parameter")
    }

    // MARK: Permanent failures: policy

    /// 530 5.7.0: STARTTLS must be issued first (RFC 3207 §4).
    public static let mustIssueSTARTTLSFirst = SMTPReply(code: 530, enhancedCode: EnhancedStatusCode(5, 7, 0), text: "Must issue a STARTTLS command first")

    /// 530 5.7.0: authentication required before this command (RFC 4954 §6).
    public static let authenticationRequired = SMTPReply(code: 530, enhancedCode: EnhancedStatusCode(5, 7, 0), text: "Authentication required")

    /// 535 5.7.8: invalid credentials (RFC 4954 §6). Deliberately says nothing about which part was wrong.
    public static let authenticationFailed = SMTPReply(code: 535, enhancedCode: EnhancedStatusCode(5, 7, 8), text: "Authentication credentials invalid")

    /// 538 5.7.11: the mechanism needs an encrypted connection (RFC 4954 §6).
    public static let encryptionRequired = SMTPReply(code: 538, enhancedCode: EnhancedStatusCode(5, 7, 11), text: "Encryption required for requested authentication mechanism")

    /// 550 5.1.1: no such local recipient (RFC 3463 X.1.1).
    public static let noSuchUser = SMTPReply(code: 550, enhancedCode: EnhancedStatusCode(5, 1, 1), text: "No such user here")

    /// 552 5.3.4: message larger than the server accepts (RFC 1870 §6, RFC 3463 X.3.4).
    public static let messageTooBig = SMTPReply(code: 552, enhancedCode: EnhancedStatusCode(5, 3, 4), text: "Message size exceeds fixed maximum message size")

    /// 553 5.7.1: an authenticated user tried to send as an address they do not own.
    public static let senderNotOwned = SMTPReply(code: 553, enhancedCode: EnhancedStatusCode(5, 7, 1), text: "Sender address not owned by authenticated user")

    /// 553 5.6.7: non-ASCII address without the SMTPUTF8 parameter (RFC 6531 §3.5).
    public static let utf8AddressWithoutSMTPUTF8 = SMTPReply(code: 553, enhancedCode: EnhancedStatusCode(5, 6, 7), text: "Non-ASCII address requires SMTPUTF8")

    /// 554 5.7.1: relaying to a non-local domain is not allowed for this client.
    public static let relayDenied = SMTPReply(code: 554, enhancedCode: EnhancedStatusCode(5, 7, 1), text: "Relay access denied")

    /// 554 5.5.1: DATA/BDAT with no accepted recipient (RFC 5321 §3.3).
    public static let noValidRecipients = SMTPReply(code: 554, enhancedCode: EnhancedStatusCode(5, 5, 1), text: "No valid recipients")

    /// 554 5.6.0: message content refused (e.g. a bare LF when the server is configured to reject them).
    public static let messageContentRejected = SMTPReply(code: 554, enhancedCode: EnhancedStatusCode(5, 6, 0), text: "Message content rejected")
}

/// Why a command line was refused by ``SMTPCommandParser``, with the reply the server sends.
///
/// Detail strings are fixed server texts, never client bytes, so they are safe to send and to log.
public enum SMTPSyntaxError: Error, Sendable, Hashable {
    /// The line exceeds ``SMTPCommandParser/maximumLineLength`` (RFC 5321 §4.5.3.1.4). 500 5.5.2.
    case lineTooLong
    /// The line contains a NUL byte, never valid in a command. 500 5.5.2.
    case nulByte
    /// The line is empty or blank. 500 5.5.2.
    case emptyLine
    /// A known command with malformed arguments. 501 5.5.4. `detail` says what was expected.
    case invalidArguments(verb: String, detail: String)
    /// MAIL FROM with an unparsable reverse-path or invalid UTF-8 in it. 501 5.1.7.
    case invalidSenderAddress
    /// RCPT TO with an unparsable forward-path or invalid UTF-8 in it. 501 5.1.3.
    case invalidRecipientAddress
    /// A known MAIL/RCPT parameter with a bad value, a duplicate, or a token that is not an esmtp-param.
    /// 501 5.5.4.
    case invalidParameter(keyword: String, detail: String)
    /// A parameter this server does not implement for this command (RFC 5321 §4.1.1.11). 555 5.5.4.
    case unrecognizedParameter(keyword: String)
    /// AUTH initial response that is not strict base64 (RFC 4954 §4). 501 5.5.2.
    case invalidBase64
    /// BDAT with a missing, non-numeric or overflowing chunk size, or a bad end marker. 501 5.5.4.
    /// The server cannot know how many bytes follow, so it must close the connection
    /// (``requiresConnectionClose``).
    case invalidChunkSize

    /// The reply to send for this error.
    public var reply: SMTPReply {
        switch self {
        case .lineTooLong:
            return .lineTooLong
        case .nulByte:
            return SMTPReply(code: 500, enhancedCode: EnhancedStatusCode(5, 5, 2), text: "NUL byte in command")
        case .emptyLine:
            return SMTPReply(code: 500, enhancedCode: EnhancedStatusCode(5, 5, 2), text: "Empty command")
        case .invalidArguments(_, let detail):
            return .syntaxError(detail)
        case .invalidSenderAddress:
            return .badSenderAddressSyntax
        case .invalidRecipientAddress:
            return .badRecipientAddressSyntax
        case .invalidParameter(let keyword, let detail):
            return .syntaxError("Invalid parameter \(String(keyword.prefix(40))): \(detail)")
        case .unrecognizedParameter(let keyword):
            return .parameterNotRecognized(keyword)
        case .invalidBase64:
            return .invalidBase64
        case .invalidChunkSize:
            return .syntaxError("Syntax: BDAT chunk-size [LAST]")
        }
    }

    /// True when the session cannot continue in sync with the client after this error (BDAT without a
    /// usable size: the chunk bytes that follow would be read as commands). Send ``reply``, then close.
    public var requiresConnectionClose: Bool {
        self == .invalidChunkSize
    }
}

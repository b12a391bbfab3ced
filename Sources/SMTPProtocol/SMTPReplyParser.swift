/// Why a reply line from a peer could not be read (used by the outbound client and test clients).
public enum SMTPReplyParseError: Error, Sendable, Hashable {
    /// Not `3DIGIT [("-" / SP) text]` with a code 200–599.
    case malformedLine
    /// A continuation line with a different code than the first line.
    case inconsistentCode
    /// More lines than ``SMTPReplyParser/maximumLines``.
    case tooManyLines
}

/// Assembles an ``SMTPReply`` from reply lines (RFC 5321 §4.2.1), e.g. as framed by ``LineFramer``.
///
/// ```
/// Reply-line = *( Reply-code "-" [ textstring ] CRLF ) Reply-code [ SP textstring ] CRLF
/// ```
/// An enhanced status code at the start of the text is recognised when its class matches the reply
/// code's first digit (RFC 3463 §2) and removed from each line that carries it. Text is sanitised like any
/// ``SMTPReply``. Bounded: at most ``maximumLines`` lines per reply.
public struct SMTPReplyParser: Sendable {
    public static let maximumLines = 512

    private var code: Int?
    private var lines: [ArraySlice<UInt8>] = []

    public init() {}

    /// Feeds one line (without CRLF). Returns the reply when this was its last line, nil when more lines follow.
    public mutating func parse(line: ArraySlice<UInt8>) -> Result<SMTPReply?, SMTPReplyParseError> {
        guard line.count >= 3, line.prefix(3).allSatisfy(ASCII.isDigit) else { return fail(.malformedLine) }
        let digits = Array(line.prefix(3)).map { Int($0 - 0x30) }
        let lineCode = digits[0] * 100 + digits[1] * 10 + digits[2]
        guard (200...599).contains(lineCode) else { return fail(.malformedLine) }
        var isLast = true
        var text = line.dropFirst(3)
        if let separator = text.first {
            if separator == ASCII.hyphen { isLast = false } else if separator != ASCII.space { return fail(.malformedLine) }
            text = text.dropFirst()
        }
        if let code, code != lineCode { return fail(.inconsistentCode) }
        code = lineCode
        lines.append(text)
        guard lines.count <= SMTPReplyParser.maximumLines else { return fail(.tooManyLines) }
        guard isLast else { return .success(nil) }

        let enhanced = SMTPReplyParser.enhancedCode(in: lines[0], replyCode: lineCode)
        let texts = lines.map { raw -> String in
            var body = raw
            if let enhanced, SMTPReplyParser.enhancedCode(in: raw, replyCode: lineCode) == enhanced {
                body = body.drop(while: { $0 != ASCII.space }).dropFirst()
            }
            return String(decoding: body, as: UTF8.self)
        }
        self = SMTPReplyParser()
        return .success(SMTPReply(code: lineCode, enhancedCode: enhanced, lines: texts))
    }

    private mutating func fail(_ error: SMTPReplyParseError) -> Result<SMTPReply?, SMTPReplyParseError> {
        self = SMTPReplyParser()
        return .failure(error)
    }

    private static func enhancedCode(in text: ArraySlice<UInt8>, replyCode: Int) -> EnhancedStatusCode? {
        let token = text.prefix(while: { $0 != ASCII.space })
        guard let code = EnhancedStatusCode(parsing: token), code.statusClass == replyCode / 100 else { return nil }
        return code
    }
}

/// One SMTP reply: a three-digit code, an optional enhanced status code and one or more text lines
/// (RFC 5321 §4.2).
///
/// Text is sanitised on construction so that no client-supplied byte can break the reply framing: control
/// characters (CR, LF, NUL, ...) are removed, HTAB becomes SP and anything outside printable US-ASCII becomes
/// `?` (RFC 5321 §4.2 `textstring` is HT, SP and printable US-ASCII). Lines are cut so that each encoded
/// line stays within 512 octets including CRLF (RFC 5321 §4.5.3.1.5).
public struct SMTPReply: Sendable, Hashable, CustomStringConvertible {
    /// The reply code, 200–599 (RFC 5321 §4.2.1 `Reply-code = %x32-35 %x30-35 %x30-39`).
    public let code: Int
    /// Enhanced status code (RFC 3463). RFC 2034 §3 puts it on every line of every 2xx/4xx/5xx reply except the
    /// greeting and the replies to HELO/EHLO, so those (and 3xx replies) carry nil.
    public let enhancedCode: EnhancedStatusCode?
    /// Sanitised text lines; never empty (a reply with no text has one empty line).
    public let lines: [String]

    /// RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets including the code and CRLF.
    public static let maximumLineLength = 512

    /// Creates a reply. `code` must be 200–599 (server constants; replies read from a peer go through
    /// ``SMTPReplyParser``, which validates first).
    public init(code: Int, enhancedCode: EnhancedStatusCode?, lines: [String]) {
        precondition((200...599).contains(code), "SMTP reply code out of range: \(code)")
        self.code = code
        self.enhancedCode = enhancedCode
        // Room left for text: code (3) + separator (1) + "x.y.z " + CRLF (2).
        let prefix = 4 + (enhancedCode.map { $0.description.utf8.count + 1 } ?? 0)
        let room = SMTPReply.maximumLineLength - 2 - prefix
        let sanitized = lines.map { line -> String in
            let clean = SMTPReply.sanitizedText(line)
            return clean.utf8.count > room ? String(clean.prefix(room)) : clean
        }
        self.lines = sanitized.isEmpty ? [""] : sanitized
    }

    /// Single-line convenience initialiser.
    public init(code: Int, enhancedCode: EnhancedStatusCode?, text: String) {
        self.init(code: code, enhancedCode: enhancedCode, lines: [text])
    }

    /// Makes arbitrary text (possibly from the client) safe for a reply line or a log line: printable
    /// US-ASCII kept, HTAB turned into SP, other control characters dropped, non-ASCII replaced by `?`.
    public static func sanitizedText(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x20...0x7E: scalars.append(scalar)
            case 0x09: scalars.append(" ")
            case 0x00...0x1F, 0x7F...0x9F: continue
            default: scalars.append("?")
            }
        }
        return String(scalars)
    }

    /// Whether this is a positive completion/intermediate reply (2xx or 3xx).
    public var isPositive: Bool { code < 400 }
    /// 4xx: the client may retry later.
    public var isTransientFailure: Bool { (400...499).contains(code) }
    /// 5xx: the client must not retry as is.
    public var isPermanentFailure: Bool { code >= 500 }

    /// The wire form: `code-[enh ]text CRLF` for every line but the last, `code SP[enh ]text CRLF` for the last
    /// (RFC 5321 §4.2.1), with the enhanced code repeated on every line (RFC 2034 §4).
    public func encode() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(lines.reduce(0) { $0 + $1.utf8.count + 16 })
        let codeBytes = Array(String(code).utf8)
        let enhancedBytes = enhancedCode.map { Array($0.description.utf8) }
        for (index, line) in lines.enumerated() {
            out.append(contentsOf: codeBytes)
            out.append(index == lines.count - 1 ? ASCII.space : ASCII.hyphen)
            if let enhancedBytes {
                out.append(contentsOf: enhancedBytes)
                if !line.isEmpty { out.append(ASCII.space) }
            }
            out.append(contentsOf: line.utf8)
            out.append(ASCII.cr)
            out.append(ASCII.lf)
        }
        return out
    }

    public var description: String {
        String(decoding: encode(), as: UTF8.self)
    }
}

/// Parses one SMTP command line into an ``SMTPCommand`` (RFC 5321 §4.1).
///
/// The line excludes its CRLF (see ``LineFramer``). Verbs, `FROM:`/`TO:`, `<Postmaster>`, parameter
/// keywords and enumerated parameter values are case-insensitive (RFC 5321 §2.4). Deliberate leniencies,
/// each matching what widely deployed servers accept from real clients:
/// - spaces after `FROM:`/`TO:` (`MAIL FROM: <a@b>`), runs of spaces between parameters, trailing whitespace;
/// - "_" in HELO/EHLO names and address literals after HELO.
///
/// Everything else follows the grammar strictly: addresses must be in angle brackets, invalid UTF-8 in an
/// address is a syntax error, NUL is never accepted.
public enum SMTPCommandParser {
    /// Longest accepted line, CRLF excluded: 1000 octets with CRLF. RFC 5321 §4.5.3.1.4 sets 512 and lets
    /// extensions raise it (RFC 1870 +26, RFC 3461 +100 MAIL/+500 RCPT, RFC 4954 +500 MAIL, RFC 6531 +10);
    /// 1000 covers all of them with room to spare.
    public static let maximumLineLength = 998

    /// Parses `line` (without CRLF).
    public static func parse(line: ArraySlice<UInt8>) -> Result<SMTPCommand, SMTPSyntaxError> {
        guard line.count <= maximumLineLength else { return .failure(.lineTooLong) }
        guard !line.contains(ASCII.nul) else { return .failure(.nulByte) }
        let trimmed = ASCII.trimmingWhitespace(line)
        guard !trimmed.isEmpty else { return .failure(.emptyLine) }

        let verbEnd = trimmed.firstIndex(of: ASCII.space) ?? trimmed.endIndex
        let verbBytes = trimmed[trimmed.startIndex..<verbEnd]
        let arguments = ASCII.trimmingWhitespace(trimmed[verbEnd...])
        let verb = String(decoding: verbBytes.prefix(16).map { b -> UInt8 in
            let upper = ASCII.uppercased(b)
            return (upper >= 0x21 && upper <= 0x7E) ? upper : UInt8(ascii: "?")
        }, as: UTF8.self)
        guard verbBytes.count <= 16 else { return .success(.unknown(verb: verb)) }

        switch verb {
        case "HELO", "EHLO":
            guard !arguments.contains(ASCII.space), let domain = MailDomain.parse(arguments, allowUnderscore: true) else {
                return .failure(.invalidArguments(verb: verb, detail: "Syntax: \(verb) domain or address literal"))
            }
            return .success(verb == "HELO" ? .helo(domain) : .ehlo(domain))
        case "MAIL":
            return parseMail(arguments)
        case "RCPT":
            return parseRcpt(arguments)
        case "DATA", "RSET", "QUIT", "STARTTLS":
            guard arguments.isEmpty else {
                return .failure(.invalidArguments(verb: verb, detail: "Syntax: \(verb) takes no arguments"))
            }
            switch verb {
            case "DATA": return .success(.data)
            case "RSET": return .success(.rset)
            case "QUIT": return .success(.quit)
            default: return .success(.startTLS)
            }
        case "NOOP":
            return .success(.noop)
        case "HELP":
            return .success(.help)
        case "VRFY", "EXPN":
            guard !arguments.isEmpty, !arguments.contains(where: { $0 < 0x20 || $0 == 0x7F }),
                  let text = ASCII.decodeUTF8(arguments) else {
                return .failure(.invalidArguments(verb: verb, detail: "Syntax: \(verb) string"))
            }
            return .success(verb == "VRFY" ? .vrfy(text) : .expn(text))
        case "BDAT":
            return parseBDAT(arguments)
        case "AUTH":
            return parseAuth(arguments)
        default:
            return .success(.unknown(verb: verb))
        }
    }

    /// Convenience for whole arrays.
    public static func parse(line: [UInt8]) -> Result<SMTPCommand, SMTPSyntaxError> {
        parse(line: line[...])
    }

    /// `"MAIL FROM:" Reverse-path [SP Mail-parameters]`
    private static func parseMail(_ arguments: ArraySlice<UInt8>) -> Result<SMTPCommand, SMTPSyntaxError> {
        guard ASCII.hasPrefixIgnoringCase(arguments, "FROM:") else {
            return .failure(.invalidArguments(verb: "MAIL", detail: "Syntax: MAIL FROM:<address>"))
        }
        var scanner = ByteScanner(ASCII.trimmingWhitespace(arguments.dropFirst(5)))
        guard let path = PathGrammar.parse(&scanner, allowNull: true, allowPostmaster: false),
              scanner.isAtEnd || scanner.peek() == ASCII.space else {
            return .failure(.invalidSenderAddress)
        }
        guard let parameters = ESMTPParameter.split(scanner.remaining) else {
            return .failure(.invalidArguments(verb: "MAIL", detail: "Malformed MAIL parameters"))
        }
        let reversePath: ReversePath
        switch path {
        case .null: reversePath = .null
        case .mailbox(let mailbox): reversePath = .mailbox(mailbox)
        case .postmaster: return .failure(.invalidSenderAddress)  // not produced with allowPostmaster false
        }
        return MailParameters.parse(parameters).map { .mail(reversePath: reversePath, params: $0) }
    }

    /// `"RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path ) [SP Rcpt-parameters]`
    private static func parseRcpt(_ arguments: ArraySlice<UInt8>) -> Result<SMTPCommand, SMTPSyntaxError> {
        guard ASCII.hasPrefixIgnoringCase(arguments, "TO:") else {
            return .failure(.invalidArguments(verb: "RCPT", detail: "Syntax: RCPT TO:<address>"))
        }
        var scanner = ByteScanner(ASCII.trimmingWhitespace(arguments.dropFirst(3)))
        guard let path = PathGrammar.parse(&scanner, allowNull: false, allowPostmaster: true),
              scanner.isAtEnd || scanner.peek() == ASCII.space else {
            return .failure(.invalidRecipientAddress)
        }
        guard let parameters = ESMTPParameter.split(scanner.remaining) else {
            return .failure(.invalidArguments(verb: "RCPT", detail: "Malformed RCPT parameters"))
        }
        let forwardPath: ForwardPath
        switch path {
        case .postmaster: forwardPath = .postmaster
        case .mailbox(let mailbox): forwardPath = .mailbox(mailbox)
        case .null: return .failure(.invalidRecipientAddress)  // not produced with allowNull false
        }
        return RcptParameters.parse(parameters).map { .rcpt(forwardPath: forwardPath, params: $0) }
    }

    /// `bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ]`, `chunk-size = 1*DIGIT`, `end-marker = "LAST"`
    /// (RFC 3030 §2).
    private static func parseBDAT(_ arguments: ArraySlice<UInt8>) -> Result<SMTPCommand, SMTPSyntaxError> {
        let tokens = arguments.split(separator: ASCII.space)
        guard tokens.count == 1 || tokens.count == 2, let sizeBytes = tokens.first,
              sizeBytes.allSatisfy(ASCII.isDigit) else { return .failure(.invalidChunkSize) }
        var size = 0
        for digit in sizeBytes {
            let (times10, o1) = size.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(digit - 0x30))
            guard !o1, !o2 else { return .failure(.invalidChunkSize) }
            size = sum
        }
        if tokens.count == 2 {
            guard ASCII.equalsIgnoringCase(tokens[1], "LAST") else { return .failure(.invalidChunkSize) }
            return .success(.bdat(size: size, last: true))
        }
        return .success(.bdat(size: size, last: false))
    }

    /// `"AUTH" SP sasl-mech [SP initial-response]`, `sasl-mech = 1*20(UPPER-ALPHA / DIGIT / "-" / "_")`,
    /// `initial-response = base64 / "="` (RFC 4954 §4, RFC 4422 §3.1). Mechanism names are compared
    /// case-insensitively, so lower case is accepted and upper-cased.
    private static func parseAuth(_ arguments: ArraySlice<UInt8>) -> Result<SMTPCommand, SMTPSyntaxError> {
        let tokens = arguments.split(separator: ASCII.space)
        guard tokens.count == 1 || tokens.count == 2, let mechanismBytes = tokens.first,
              (1...20).contains(mechanismBytes.count),
              mechanismBytes.allSatisfy({ ASCII.isAlphaNumeric($0) || $0 == ASCII.hyphen || $0 == ASCII.underscore }) else {
            return .failure(.invalidArguments(verb: "AUTH", detail: "Syntax: AUTH mechanism [initial-response]"))
        }
        let mechanism = String(decoding: mechanismBytes.map(ASCII.uppercased), as: UTF8.self)
        guard tokens.count == 2 else { return .success(.auth(mechanism: mechanism, initialResponse: nil)) }
        let response = tokens[1]
        if response.count == 1, response.first == ASCII.equals {
            return .success(.auth(mechanism: mechanism, initialResponse: []))
        }
        guard let decoded = SASLBase64.decode(response) else { return .failure(.invalidBase64) }
        return .success(.auth(mechanism: mechanism, initialResponse: decoded))
    }
}

/// An SMTP mailbox, `Local-part "@" ( Domain / address-literal )` (RFC 5321 §4.1.2).
///
/// ```
/// Local-part    = Dot-string / Quoted-string
/// Dot-string    = Atom *("."  Atom)
/// Quoted-string = DQUOTE *QcontentSMTP DQUOTE
/// QcontentSMTP  = qtextSMTP / quoted-pairSMTP
/// quoted-pairSMTP = %d92 %d32-126
/// qtextSMTP     = %d32-33 / %d35-91 / %d93-126     ; RFC 6531 §3.3 adds UTF8-non-ascii to atext and qtextSMTP
/// ```
/// `localPart` holds the *unquoted* value: `"john doe"@example.com` has local part `john doe`, and
/// `"a\"b"@x` has `a"b`. ``description`` re-quotes only when needed, so `"john"@x` and `john@x` are the same
/// mailbox (RFC 5321 §4.1.2 says they are equivalent). Comparison is exact (case-sensitive); directory
/// lookups normalise separately.
///
/// Not enforced: the 64-octet local-part limit of RFC 5321 §4.5.3.1.1 — VERP and SRS addresses routinely
/// exceed it, and the command line limit already bounds the size.
public struct Mailbox: Sendable, Hashable, CustomStringConvertible {
    public let localPart: String
    public let domain: MailDomain

    /// Creates a mailbox after checking the local part can be written on the wire (non-empty, no control
    /// characters) and that the domain name is valid.
    public init?(localPart: String, domain: MailDomain) {
        guard !localPart.isEmpty, localPart.utf8.allSatisfy({ ($0 >= 32 && $0 <= 126) || $0 >= 0x80 }) else { return nil }
        if case .name(let name) = domain, MailDomain.parseName(Array(name.utf8)[...], allowUnderscore: false) == nil {
            return nil
        }
        self.localPart = localPart
        self.domain = domain
    }

    init(validatedLocalPart: String, domain: MailDomain) {
        self.localPart = validatedLocalPart
        self.domain = domain
    }

    /// Parses `local@domain` without angle brackets.
    public init?(parsing text: some StringProtocol) {
        var scanner = ByteScanner(Array(text.utf8)[...])
        guard let mailbox = Mailbox.parse(&scanner), scanner.isAtEnd else { return nil }
        self = mailbox
    }

    /// True when the local part or the domain contains non-ASCII: such an address may only be used in a
    /// transaction whose MAIL command carries the SMTPUTF8 parameter (RFC 6531 §3.4); otherwise reply
    /// ``SMTPReply/utf8AddressWithoutSMTPUTF8``.
    public var needsSMTPUTF8: Bool {
        ASCII.containsNonASCII(localPart.utf8) || domain.needsSMTPUTF8
    }

    /// The local part as written on the wire: the Dot-string when possible, otherwise a Quoted-string with
    /// `"` and `\` escaped.
    public var encodedLocalPart: String {
        if Mailbox.isDotString(Array(localPart.utf8)[...]) { return localPart }
        var quoted = "\""
        for scalar in localPart.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { quoted.unicodeScalars.append("\\") }
            quoted.unicodeScalars.append(scalar)
        }
        return quoted + "\""
    }

    /// The wire form, without angle brackets.
    public var description: String { encodedLocalPart + "@" + domain.description }

    static func isDotString(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard !bytes.isEmpty else { return false }
        return bytes.split(separator: ASCII.dot, omittingEmptySubsequences: false).allSatisfy { atom in
            !atom.isEmpty && atom.allSatisfy(ASCII.isAtext)
        }
    }

    /// Parses a Mailbox at the scanner position, stopping at the first byte that cannot continue the domain.
    /// Nil on any grammar violation or invalid UTF-8.
    static func parse(_ scanner: inout ByteScanner) -> Mailbox? {
        var local: [UInt8] = []
        if scanner.consume(ASCII.dquote) {
            while true {
                guard let b = scanner.next() else { return nil }  // unterminated
                if b == ASCII.dquote { break }
                if b == ASCII.backslash {
                    guard let escaped = scanner.next(), escaped >= 32, escaped <= 126 else { return nil }
                    local.append(escaped)
                } else if ASCII.isQtextSMTP(b) {
                    local.append(b)
                } else {
                    return nil
                }
            }
        } else {
            // Dot-string: atoms separated by single dots, no leading/trailing dot.
            while true {
                let atom = scanner.consume(while: ASCII.isAtext)
                guard !atom.isEmpty else { return nil }
                local.append(contentsOf: atom)
                guard scanner.peek() == ASCII.dot else { break }
                scanner.advance()
                local.append(ASCII.dot)
            }
        }
        guard !local.isEmpty, scanner.consume(ASCII.at) else { return nil }
        guard let domain = parseDomain(&scanner, allowUnderscore: false),
              let localPart = ASCII.decodeUTF8(local) else { return nil }
        return Mailbox(validatedLocalPart: localPart, domain: domain)
    }

    /// Parses a Domain or an address-literal at the scanner position.
    static func parseDomain(_ scanner: inout ByteScanner, allowUnderscore: Bool) -> MailDomain? {
        let start = scanner.index
        if scanner.peek() == ASCII.leftBracket {
            scanner.advance()
            _ = scanner.consume(while: { $0 != ASCII.rightBracket && $0 != ASCII.leftBracket && $0 != ASCII.greaterThan })
            guard scanner.consume(ASCII.rightBracket) else { return nil }
        } else {
            _ = scanner.consume(while: { MailDomain.isDomainByte($0, allowUnderscore: allowUnderscore) })
        }
        return MailDomain.parse(scanner.bytes[start..<scanner.index], allowUnderscore: allowUnderscore)
    }
}

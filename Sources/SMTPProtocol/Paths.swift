/// The argument of MAIL FROM (RFC 5321 §4.1.2): `Reverse-path = Path / "<>"`.
///
/// The null path `<>` is used for bounces and other messages that must not themselves be bounced
/// (RFC 5321 §4.5.5).
public enum ReversePath: Sendable, Hashable, CustomStringConvertible {
    /// `<>`
    case null
    case mailbox(Mailbox)

    /// The mailbox, or nil for the null path.
    public var mailbox: Mailbox? {
        if case .mailbox(let mailbox) = self { return mailbox }
        return nil
    }

    /// See ``Mailbox/needsSMTPUTF8``.
    public var needsSMTPUTF8: Bool { mailbox?.needsSMTPUTF8 ?? false }

    /// The wire form, angle brackets included.
    public var description: String {
        switch self {
        case .null: return "<>"
        case .mailbox(let mailbox): return "<\(mailbox)>"
        }
    }
}

/// The argument of RCPT TO (RFC 5321 §4.1.1.3):
/// `( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path )`.
///
/// `<Postmaster@domain>` parses as an ordinary mailbox; only the domain-less form is the special case,
/// which every server must accept for its own postmaster (RFC 5321 §4.5.1).
public enum ForwardPath: Sendable, Hashable, CustomStringConvertible {
    /// `<Postmaster>` without a domain (case-insensitive).
    case postmaster
    case mailbox(Mailbox)

    public var mailbox: Mailbox? {
        if case .mailbox(let mailbox) = self { return mailbox }
        return nil
    }

    /// See ``Mailbox/needsSMTPUTF8``.
    public var needsSMTPUTF8: Bool { mailbox?.needsSMTPUTF8 ?? false }

    public var description: String {
        switch self {
        case .postmaster: return "<Postmaster>"
        case .mailbox(let mailbox): return "<\(mailbox)>"
        }
    }
}

/// Path parsing shared by MAIL and RCPT.
enum PathGrammar {
    enum Parsed {
        case null
        case postmaster
        case mailbox(Mailbox)
    }

    /// ```
    /// Path   = "<" [ A-d-l ":" ] Mailbox ">"
    /// A-d-l  = At-domain *( "," At-domain )   ; source route: parsed and ignored (RFC 5321 §4.1.2, Appendix C)
    /// At-domain = "@" Domain
    /// ```
    static func parse(_ scanner: inout ByteScanner, allowNull: Bool, allowPostmaster: Bool) -> Parsed? {
        guard scanner.consume(ASCII.lessThan) else { return nil }
        if allowNull, scanner.consume(ASCII.greaterThan) { return .null }
        if scanner.peek() == ASCII.at {
            repeat {
                guard scanner.consume(ASCII.at), parseDomainName(&scanner) else { return nil }
            } while scanner.consume(ASCII.comma)
            guard scanner.consume(ASCII.colon) else { return nil }
        } else if allowPostmaster, ASCII.hasPrefixIgnoringCase(scanner.remaining, "POSTMASTER>") {
            scanner.advance(by: 11)
            return .postmaster
        }
        guard let mailbox = Mailbox.parse(&scanner), scanner.consume(ASCII.greaterThan) else { return nil }
        return .mailbox(mailbox)
    }

    /// A source-route domain; RFC 5321 allows only Domain here, not address literals.
    private static func parseDomainName(_ scanner: inout ByteScanner) -> Bool {
        let name = scanner.consume(while: { MailDomain.isDomainByte($0, allowUnderscore: false) })
        return MailDomain.parseName(name, allowUnderscore: false) != nil
    }
}

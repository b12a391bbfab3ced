/// The part after "@" in a mailbox, or the argument of HELO/EHLO: a domain name or an address literal
/// (RFC 5321 §4.1.2, §4.1.3).
///
/// ```
/// Domain     = sub-domain *("." sub-domain)
/// sub-domain = Let-dig [Ldh-str]              ; RFC 6531 §3.3: sub-domain =/ U-label
/// Let-dig    = ALPHA / DIGIT
/// Ldh-str    = *( ALPHA / DIGIT / "-" ) Let-dig
/// ```
/// Names are kept as given (case preserved, no trailing dot allowed). U-labels are accepted as any valid
/// UTF-8 in place of letters; full IDNA2008 validation is left to whoever resolves the name.
public enum MailDomain: Sendable, Hashable, CustomStringConvertible {
    case name(String)
    case addressLiteral(AddressLiteral)

    /// RFC 5321 §4.5.3.1.2: at most 255 octets.
    public static let maximumLength = 255
    /// RFC 1035 §2.3.4: at most 63 octets per label (applied to ASCII labels; a U-label's A-label form is checked by DNS).
    public static let maximumLabelLength = 63

    /// Parses a domain name or a bracketed address literal.
    public init?(parsing text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard let domain = MailDomain.parse(bytes[...], allowUnderscore: false) else { return nil }
        self = domain
    }

    /// The wire form.
    public var description: String {
        switch self {
        case .name(let name): return name
        case .addressLiteral(let literal): return literal.description
        }
    }

    /// True when the name contains non-ASCII (U-label), which needs SMTPUTF8 (RFC 6531 §3.2).
    public var needsSMTPUTF8: Bool {
        switch self {
        case .name(let name): return ASCII.containsNonASCII(name.utf8)
        case .addressLiteral: return false
        }
    }

    /// Parses exactly `bytes` as Domain or address-literal.
    /// `allowUnderscore`: HELO/EHLO arguments only — Windows host names often contain "_" and refusing them
    /// would only lose legitimate mail; addresses keep the strict grammar.
    static func parse(_ bytes: ArraySlice<UInt8>, allowUnderscore: Bool) -> MailDomain? {
        if bytes.first == ASCII.leftBracket {
            guard bytes.count >= 3, bytes.last == ASCII.rightBracket,
                  let literal = AddressLiteral.parse(bytes.dropFirst().dropLast()) else { return nil }
            return .addressLiteral(literal)
        }
        return parseName(bytes, allowUnderscore: allowUnderscore).map { .name($0) }
    }

    static func isDomainByte(_ b: UInt8, allowUnderscore: Bool) -> Bool {
        ASCII.isAlphaNumeric(b) || b == ASCII.hyphen || b == ASCII.dot || b >= 0x80 || (allowUnderscore && b == ASCII.underscore)
    }

    static func parseName(_ bytes: ArraySlice<UInt8>, allowUnderscore: Bool) -> String? {
        guard !bytes.isEmpty, bytes.count <= maximumLength else { return nil }
        for label in bytes.split(separator: ASCII.dot, omittingEmptySubsequences: false) {
            guard let first = label.first, let last = label.last else { return nil }
            let isLetDig: (UInt8) -> Bool = { ASCII.isAlphaNumeric($0) || $0 >= 0x80 || (allowUnderscore && $0 == ASCII.underscore) }
            guard isLetDig(first), isLetDig(last),
                  label.allSatisfy({ isLetDig($0) || $0 == ASCII.hyphen }) else { return nil }
            if !ASCII.containsNonASCII(label), label.count > maximumLabelLength { return nil }
        }
        return ASCII.decodeUTF8(bytes)
    }
}

/// A mail address of a hosted account or alias, stored as given and compared case-insensitively.
///
/// RFC 5321 §2.4 says local parts may be case-sensitive; every serious server (Postfix, Dovecot, mox)
/// treats hosted addresses case-insensitively, and users expect `Alice@Example.org` to reach `alice@example.org`.
public struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address exactly as it was given (what we show and what goes into headers).
    public let given: String
    /// Lower-cased form used as the lookup key.
    public let key: String
    public let localPart: String
    public let domain: String

    public var description: String { given }

    /// Parses `local@domain`. Quoted local parts, whitespace and control characters are refused for hosted
    /// addresses: they are legal on the wire but nobody can type them into a mail client reliably.
    public init(_ text: String) throws(DirectoryError) {
        guard let at = text.lastIndex(of: "@") else { throw .malformedAddress(text) }
        let local = String(text[..<at])
        let domain = String(text[text.index(after: at)...])
        guard EmailAddress.isValidLocalPart(local), let normalizedDomain = DomainName.normalize(domain) else {
            throw .malformedAddress(text)
        }
        self.given = local + "@" + domain
        self.localPart = local
        self.domain = normalizedDomain
        self.key = local.lowercased() + "@" + normalizedDomain
    }

    public static func == (lhs: EmailAddress, rhs: EmailAddress) -> Bool { lhs.key == rhs.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }

    /// RFC 5321 §4.1.2 dot-atom (atext, plus UTF-8 per RFC 6531), at most 64 octets (§4.5.3.1.1).
    static func isValidLocalPart(_ local: String) -> Bool {
        let bytes = Array(local.utf8)
        guard !bytes.isEmpty, bytes.count <= 64, bytes.first != UInt8(ascii: "."), bytes.last != UInt8(ascii: ".") else {
            return false
        }
        var previousDot = false
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                if previousDot { return false }
                previousDot = true
                continue
            }
            previousDot = false
            if byte >= 0x80 { continue }  // UTF-8 (already valid: it came from a String)
            if !EmailAddress.atext.contains(byte) { return false }
        }
        return true
    }

    private static let atext: Set<UInt8> = {
        var set = Set<UInt8>()
        for c in UInt8(ascii: "a")...UInt8(ascii: "z") { set.insert(c) }
        for c in UInt8(ascii: "A")...UInt8(ascii: "Z") { set.insert(c) }
        for c in UInt8(ascii: "0")...UInt8(ascii: "9") { set.insert(c) }
        for c in "!#$%&'*+-/=?^_`{|}~".utf8 { set.insert(c) }
        return set
    }()
}

/// Domain names as hosted by the server: lower-cased, no trailing dot, LDH labels (UTF-8 labels allowed).
public enum DomainName {
    /// Returns the normalised (lower-case, no trailing dot) name, or nil when it is not a valid host name.
    public static func normalize(_ name: String) -> String? {
        var name = name.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return nil }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 1 else { return nil }
        for label in labels {
            let l = Array(label.utf8)
            guard !l.isEmpty, l.count <= 63, l.first != UInt8(ascii: "-"), l.last != UInt8(ascii: "-") else { return nil }
            for b in l {
                let ok = (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
                    || b == UInt8(ascii: "-") || b >= 0x80
                if !ok { return nil }
            }
        }
        return name
    }
}

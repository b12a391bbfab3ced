/// An address literal in square brackets, used instead of a domain name in a mailbox or in EHLO
/// (RFC 5321 §4.1.3).
///
/// ```
/// address-literal  = "[" ( IPv4-address-literal / IPv6-address-literal / General-address-literal ) "]"
/// IPv4-address-literal = Snum 3("." Snum)
/// IPv6-address-literal = "IPv6:" IPv6-addr
/// General-address-literal = Standardized-tag ":" 1*dcontent
/// ```
public enum AddressLiteral: Sendable, Hashable, CustomStringConvertible {
    /// Four octets, network order.
    case ipv4(octets: [UInt8])
    /// Sixteen octets, network order.
    case ipv6(octets: [UInt8])
    /// A literal with another tag (none is registered today); kept as given.
    case general(tag: String, content: String)

    /// The wire form, brackets included. IPv6 is written in RFC 5952 canonical form.
    public var description: String {
        switch self {
        case .ipv4(let octets):
            return "[" + octets.map(String.init).joined(separator: ".") + "]"
        case .ipv6(let octets):
            return "[IPv6:" + AddressLiteral.canonicalIPv6(octets) + "]"
        case .general(let tag, let content):
            return "[\(tag):\(content)]"
        }
    }

    /// Parses the text between the brackets; nil when it is not a valid literal.
    static func parse(_ content: ArraySlice<UInt8>) -> AddressLiteral? {
        if let octets = parseIPv4(content) { return .ipv4(octets: octets) }
        guard let colon = content.firstIndex(of: ASCII.colon) else { return nil }
        let tag = content[content.startIndex..<colon]
        let rest = content[(colon + 1)...]
        if ASCII.equalsIgnoringCase(tag, "IPV6") {
            return parseIPv6(rest).map { .ipv6(octets: $0) }
        }
        // Standardized-tag = Ldh-str; dcontent = %d33-90 / %d94-126.
        guard let first = tag.first, ASCII.isAlphaNumeric(first), let last = tag.last, ASCII.isAlphaNumeric(last),
              tag.allSatisfy({ ASCII.isAlphaNumeric($0) || $0 == ASCII.hyphen }),
              !rest.isEmpty, rest.allSatisfy({ ($0 >= 33 && $0 <= 90) || ($0 >= 94 && $0 <= 126) })
        else { return nil }
        return .general(tag: String(decoding: tag, as: UTF8.self), content: String(decoding: rest, as: UTF8.self))
    }

    /// `Snum 3("." Snum)`, Snum = 1*3DIGIT in 0–255.
    static func parseIPv4(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        let parts = text.split(separator: ASCII.dot, omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(ASCII.isDigit) else { return nil }
            let value = part.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            guard value <= 255 else { return nil }
            octets.append(UInt8(value))
        }
        return octets
    }

    /// IPv6 text form (RFC 4291 §2.2, which RFC 5321 §4.1.3 restates): eight groups of 1–4 hex digits, one "::"
    /// standing for one or more zero groups, and optionally a dotted IPv4 address as the last 32 bits.
    static func parseIPv6(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        guard !text.isEmpty, text.count <= 45 else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawDoubleColon = false
        let bytes = Array(text)
        var i = 0
        if bytes.count >= 2, bytes[0] == ASCII.colon, bytes[1] == ASCII.colon {
            sawDoubleColon = true
            i = 2
        } else if bytes.first == ASCII.colon {
            return nil
        }
        while i < bytes.count {
            // One group (or the trailing IPv4 part).
            var j = i
            while j < bytes.count, bytes[j] != ASCII.colon { j += 1 }
            let group = bytes[i..<j]
            if group.contains(ASCII.dot) {
                // IPv4 only as the very last element.
                guard j == bytes.count, let v4 = parseIPv4(group) else { return nil }
                let words = [UInt16(v4[0]) << 8 | UInt16(v4[1]), UInt16(v4[2]) << 8 | UInt16(v4[3])]
                if sawDoubleColon { tail += words } else { head += words }
                i = j
                break
            }
            guard (1...4).contains(group.count), group.allSatisfy(ASCII.isHexDigit) else { return nil }
            let value = group.reduce(UInt16(0)) { $0 << 4 | UInt16(ASCII.hexValue($1) ?? 0) }
            if sawDoubleColon { tail.append(value) } else { head.append(value) }
            if j == bytes.count { i = j; break }
            // bytes[j] is ':'.
            if j + 1 < bytes.count, bytes[j + 1] == ASCII.colon {
                guard !sawDoubleColon else { return nil }
                sawDoubleColon = true
                i = j + 2
            } else {
                guard j + 1 < bytes.count else { return nil }  // trailing single ':'
                i = j + 1
            }
        }
        let groups: [UInt16]
        if sawDoubleColon {
            guard head.count + tail.count <= 7 else { return nil }
            groups = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard head.count == 8 else { return nil }
            groups = head
        }
        return groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    /// RFC 5952 §4: lower-case hex, no leading zeros, the longest run (≥ 2) of zero groups as "::".
    static func canonicalIPv6(_ octets: [UInt8]) -> String {
        guard octets.count == 16 else { return "" }
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(octets[$0]) << 8 | UInt16(octets[$0 + 1]) }
        var bestStart = -1, bestLength = 0, runStart = -1
        for i in 0...8 {
            if i < 8 && groups[i] == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength { bestStart = runStart; bestLength = i - runStart }
                runStart = -1
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard bestLength >= 2 else { return hex.joined(separator: ":") }
        let left = hex[0..<bestStart].joined(separator: ":")
        let right = hex[(bestStart + bestLength)...].joined(separator: ":")
        return left + "::" + right
    }
}

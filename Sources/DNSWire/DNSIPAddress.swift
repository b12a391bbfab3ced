/// An IPv4 address as carried by an A record (RFC 1035 §3.4.1), printed as a dotted quad.
public struct DNSIPv4Address: Sendable, Hashable, CustomStringConvertible {
    /// The address in host order: `192.0.2.1` is `0xC000_0201`.
    public var value: UInt32

    public init(_ value: UInt32) {
        self.value = value
    }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// The 4 octets in network order; nil when `bytes` is not exactly 4 octets.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 4 else { return nil }
        value = bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The 4 octets in network order.
    public var bytes: [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
         UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    public var description: String {
        bytes.map(String.init).joined(separator: ".")
    }
}

/// An IPv6 address as carried by an AAAA record (RFC 3596 §2.2), printed in RFC 5952 canonical text.
public struct DNSIPv6Address: Sendable, Hashable, CustomStringConvertible {
    /// The eight 16-bit groups, most significant first.
    public var groups: [UInt16] {
        (0..<8).map { index in
            let word = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: word >> (UInt64(3 - index % 4) * 16))
        }
    }

    private var high: UInt64
    private var low: UInt64

    /// The 16 octets in network order; nil when `bytes` is not exactly 16 octets.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        let octets = Array(bytes)
        high = octets[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        low = octets[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Eight 16-bit groups, most significant first; nil unless exactly eight.
    public init?(groups: [UInt16]) {
        guard groups.count == 8 else { return nil }
        high = groups[0..<4].reduce(0) { $0 << 16 | UInt64($1) }
        low = groups[4..<8].reduce(0) { $0 << 16 | UInt64($1) }
    }

    /// The 16 octets in network order.
    public var bytes: [UInt8] {
        (0..<16).map { index in
            let word = index < 8 ? high : low
            return UInt8(truncatingIfNeeded: word >> (UInt64(7 - index % 8) * 8))
        }
    }

    /// RFC 5952 §4: lowercase hex without leading zeros, the longest run (first on a tie) of two or more
    /// zero groups as "::"; §5: IPv4-mapped addresses (::ffff:0:0/96) end in dotted-quad form.
    public var description: String {
        let groups = self.groups
        if groups[0..<5].allSatisfy({ $0 == 0 }) && groups[5] == 0xFFFF {
            let v4 = DNSIPv4Address(UInt32(groups[6]) << 16 | UInt32(groups[7]))
            return "::ffff:\(v4)"
        }
        var bestStart = -1
        var bestLength = 0
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            let start = index
            while index < 8 && groups[index] == 0 { index += 1 }
            if index - start > bestLength {
                bestStart = start
                bestLength = index - start
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard bestLength >= 2 else { return hex.joined(separator: ":") }
        let head = hex[0..<bestStart].joined(separator: ":")
        let tail = hex[(bestStart + bestLength)...].joined(separator: ":")
        return head + "::" + tail
    }
}

/// The SOA RDATA (RFC 1035 §3.3.13); `minimum` bounds negative caching (RFC 2308 §4, §5).
public struct DNSStartOfAuthority: Sendable, Hashable {
    public var primaryServer: String
    public var responsibleMailbox: String
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    /// RFC 2308 §4: the TTL for negative answers from this zone (capped by the SOA record's own TTL).
    public var minimum: UInt32

    public init(primaryServer: String, responsibleMailbox: String, serial: UInt32, refresh: UInt32,
                retry: UInt32, expire: UInt32, minimum: UInt32) {
        self.primaryServer = primaryServer
        self.responsibleMailbox = responsibleMailbox
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
    }
}

/// Typed RDATA of the record types mail delivery reads; anything else (and OPT) stays raw in `.other`.
public enum DNSRecordData: Sendable, Hashable {
    /// RFC 1035 §3.4.1.
    case a(DNSIPv4Address)
    /// RFC 3596 §2.2.
    case aaaa(DNSIPv6Address)
    /// RFC 1035 §3.3.9; `exchange` "" is the root: a null MX when alone with preference 0 (RFC 7505 §3).
    case mx(preference: UInt16, exchange: String)
    /// RFC 1035 §3.3.14: one or more character-strings, each at most 255 octets.
    case txt([[UInt8]])
    /// RFC 1035 §3.3.1.
    case cname(String)
    /// RFC 1035 §3.3.11.
    case ns(String)
    /// RFC 1035 §3.3.13.
    case soa(DNSStartOfAuthority)
    /// RFC 6698 §2.1: certificate usage, selector, matching type, certificate association data.
    case tlsa(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8])
    /// Uninterpreted RDATA (RFC 3597), including OPT (RFC 6891 §6.1.2).
    case other(type: DNSRecordType, data: [UInt8])

    /// The record TYPE this RDATA belongs to.
    public var type: DNSRecordType {
        switch self {
        case .a: .a
        case .aaaa: .aaaa
        case .mx: .mx
        case .txt: .txt
        case .cname: .cname
        case .ns: .ns
        case .soa: .soa
        case .tlsa: .tlsa
        case .other(let type, _): type
        }
    }
}

import DNSWire

/// The three outcomes that mean different things to mail delivery: found; the name exists but has no
/// records of the type (NODATA: e.g. no MX, so fall back to A/AAAA, RFC 5321 §5.1); the name does not exist
/// (NXDOMAIN: bounce). Failures to get an answer at all are thrown as `DNSError`.
public enum DNSAnswer<Value: Sendable & Hashable>: Sendable, Hashable {
    case records(Value)
    case noData
    case noSuchDomain

    /// The same outcome with the records transformed.
    public func map<Other: Sendable & Hashable>(_ transform: (Value) -> Other) -> DNSAnswer<Other> {
        switch self {
        case .records(let value): .records(transform(value))
        case .noData: .noData
        case .noSuchDomain: .noSuchDomain
        }
    }
}

/// One MX record (RFC 1035 §3.3.9); lower preference is tried first (RFC 5321 §5.1).
public struct MXRecord: Sendable, Hashable {
    public var preference: UInt16
    /// Lowercased, without trailing dot; "" is the root ".", as in a null MX.
    public var exchange: String

    public init(preference: UInt16, exchange: String) {
        self.preference = preference
        self.exchange = exchange
    }

    /// RFC 7505 §3: an MX for "." says the domain accepts no mail; senders must not fall back to A/AAAA.
    /// (RFC 7505 §3 asks for it alone at preference 0; delivery should treat any root exchange as null.)
    public var isNullMX: Bool { exchange.isEmpty }
}

/// One TLSA record (RFC 6698 §2.1), as DANE for SMTP uses it (RFC 7672 §3.1).
public struct TLSARecord: Sendable, Hashable {
    /// 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE (RFC 7218 §2.1).
    public var usage: UInt8
    /// 0 full certificate, 1 SubjectPublicKeyInfo.
    public var selector: UInt8
    /// 0 exact, 1 SHA-256, 2 SHA-512.
    public var matchingType: UInt8
    public var data: [UInt8]

    public init(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8]) {
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.data = data
    }
}

/// A lookup's records with what DANE needs besides them (RFC 7672 §2.2): the name at the end of the CNAME
/// chain, and whether every response on the way had the AD bit set.
public struct DNSLookupResult: Sendable, Hashable {
    /// Records of the asked type owned by `canonicalName`.
    public var answer: DNSAnswer<[DNSResourceRecord]>
    /// The queried name after following CNAMEs (RFC 1034 §3.6.2); the queried name when there were none.
    public var canonicalName: String
    /// The resolver set AD on every response used (RFC 4035 §3.2.3). Meaningful only when the resolver
    /// validates DNSSEC and the path to it is trusted, i.e. it runs on loopback (RFC 6698 §4.1, RFC 7672 §2.1).
    public var isAuthenticated: Bool

    public init(answer: DNSAnswer<[DNSResourceRecord]>, canonicalName: String, isAuthenticated: Bool) {
        self.answer = answer
        self.canonicalName = canonicalName
        self.isAuthenticated = isAuthenticated
    }
}

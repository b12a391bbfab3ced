/// A resource record TYPE (RFC 1035 §3.2.2, RFC 3596 §2.1, RFC 6891 §6.1.1, RFC 6698 §7.1).
///
/// The named cases are the types mail delivery reads; `.raw` carries any other value so unknown types
/// round-trip (RFC 3597). Equality and hashing go by the 16-bit value, so `.raw(15) == .mx`.
public enum DNSRecordType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    case a
    case ns
    case cname
    case soa
    case mx
    case txt
    case aaaa
    case opt
    case tlsa
    case raw(UInt16)

    public init(rawValue: UInt16) {
        switch rawValue {
        case 1: self = .a
        case 2: self = .ns
        case 5: self = .cname
        case 6: self = .soa
        case 15: self = .mx
        case 16: self = .txt
        case 28: self = .aaaa
        case 41: self = .opt
        case 52: self = .tlsa
        default: self = .raw(rawValue)
        }
    }

    public var rawValue: UInt16 {
        switch self {
        case .a: 1
        case .ns: 2
        case .cname: 5
        case .soa: 6
        case .mx: 15
        case .txt: 16
        case .aaaa: 28
        case .opt: 41
        case .tlsa: 52
        case .raw(let value): value
        }
    }

    public static func == (lhs: DNSRecordType, rhs: DNSRecordType) -> Bool {
        lhs.rawValue == rhs.rawValue
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(rawValue)
    }

    public var description: String {
        switch DNSRecordType(rawValue: rawValue) {
        case .a: "A"
        case .ns: "NS"
        case .cname: "CNAME"
        case .soa: "SOA"
        case .mx: "MX"
        case .txt: "TXT"
        case .aaaa: "AAAA"
        case .opt: "OPT"
        case .tlsa: "TLSA"
        case .raw(let value): "TYPE\(value)"  // RFC 3597 §5 generic notation
        }
    }
}

/// The CLASS values this client uses (RFC 1035 §3.2.4); OPT records reuse the field for the UDP payload size.
public enum DNSClass {
    /// The Internet class.
    public static let internet: UInt16 = 1
}

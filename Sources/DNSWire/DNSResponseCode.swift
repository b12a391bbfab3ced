/// The RCODE of a response (RFC 1035 §4.1.1, RFC 6891 §6.1.3 for values above 15).
///
/// `.raw` carries any other value; equality goes by the numeric code.
public enum DNSResponseCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    case noError
    case formatError
    case serverFailure
    /// NXDOMAIN: the name does not exist (RFC 1035 §4.1.1 "Name Error", RFC 8020).
    case nameError
    case notImplemented
    case refused
    case raw(UInt16)

    public init(rawValue: UInt16) {
        switch rawValue {
        case 0: self = .noError
        case 1: self = .formatError
        case 2: self = .serverFailure
        case 3: self = .nameError
        case 4: self = .notImplemented
        case 5: self = .refused
        default: self = .raw(rawValue)
        }
    }

    public var rawValue: UInt16 {
        switch self {
        case .noError: 0
        case .formatError: 1
        case .serverFailure: 2
        case .nameError: 3
        case .notImplemented: 4
        case .refused: 5
        case .raw(let value): value
        }
    }

    public static func == (lhs: DNSResponseCode, rhs: DNSResponseCode) -> Bool {
        lhs.rawValue == rhs.rawValue
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(rawValue)
    }

    public var description: String {
        switch DNSResponseCode(rawValue: rawValue) {
        case .noError: "NOERROR"
        case .formatError: "FORMERR"
        case .serverFailure: "SERVFAIL"
        case .nameError: "NXDOMAIN"
        case .notImplemented: "NOTIMP"
        case .refused: "REFUSED"
        case .raw(let value): "RCODE\(value)"
        }
    }
}

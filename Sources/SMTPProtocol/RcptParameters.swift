/// Conditions under which a DSN is requested (RFC 3461 §4.1).
public struct DSNNotifyConditions: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let success = DSNNotifyConditions(rawValue: 1 << 0)
    public static let failure = DSNNotifyConditions(rawValue: 1 << 1)
    public static let delay = DSNNotifyConditions(rawValue: 1 << 2)
}

/// `NOTIFY=` of RCPT (RFC 3461 §4.1): `"NEVER" / 1#( "SUCCESS" / "FAILURE" / "DELAY" )`.
public enum DSNNotify: Sendable, Hashable {
    /// No DSN at all, not even for failures.
    case never
    /// A non-empty set of conditions.
    case on(DSNNotifyConditions)

    /// Wire form, e.g. `SUCCESS,FAILURE`.
    public var encoded: String {
        switch self {
        case .never: return "NEVER"
        case .on(let conditions):
            var words: [String] = []
            if conditions.contains(.success) { words.append("SUCCESS") }
            if conditions.contains(.failure) { words.append("FAILURE") }
            if conditions.contains(.delay) { words.append("DELAY") }
            return words.joined(separator: ",")
        }
    }
}

/// `ORCPT=addr-type;xtext`: the recipient as originally given, carried into DSNs (RFC 3461 §4.2).
public struct OriginalRecipient: Sendable, Hashable {
    /// The address type, e.g. `rfc822` or `utf-8` (RFC 6533); an atom, kept as given.
    public let addressType: String
    /// The xtext-decoded address.
    public let address: String

    /// RFC 3461 §4.2: the whole ORCPT value is at most 500 characters.
    public static let maximumEncodedLength = 500

    /// Creates a value; nil when `addressType` is not an ASCII atom or the encoded form exceeds 500 characters.
    public init?(addressType: String, address: String) {
        guard !addressType.isEmpty, addressType.utf8.allSatisfy({ $0 < 0x80 && ASCII.isAtext($0) }),
              !address.isEmpty else { return nil }
        self.addressType = addressType
        self.address = address
        guard encoded.utf8.count <= OriginalRecipient.maximumEncodedLength else { return nil }
    }

    /// Wire form `addr-type;xtext`.
    public var encoded: String { addressType + ";" + XText.encode(address) }
}

/// Parameters of the RCPT command (RFC 5321 §4.1.1.3 `Rcpt-parameters`): `NOTIFY=` and `ORCPT=` (RFC 3461).
/// Any other keyword is 555 5.5.4.
public struct RcptParameters: Sendable, Hashable {
    public var notify: DSNNotify?
    public var originalRecipient: OriginalRecipient?

    public init(notify: DSNNotify? = nil, originalRecipient: OriginalRecipient? = nil) {
        self.notify = notify
        self.originalRecipient = originalRecipient
    }

    /// The parameters in wire form, in a fixed order.
    public var encoded: [String] {
        var tokens: [String] = []
        if let notify { tokens.append("NOTIFY=\(notify.encoded)") }
        if let originalRecipient { tokens.append("ORCPT=\(originalRecipient.encoded)") }
        return tokens
    }

    static func parse(_ parameters: [ESMTPParameter]) -> Result<RcptParameters, SMTPSyntaxError> {
        var result = RcptParameters()
        var seen = Set<String>()
        for parameter in parameters {
            let keyword = parameter.keyword
            guard keyword == "NOTIFY" || keyword == "ORCPT" else { return .failure(.unrecognizedParameter(keyword: keyword)) }
            guard seen.insert(keyword).inserted else { return .failure(.invalidParameter(keyword: keyword, detail: "duplicate")) }
            if keyword == "NOTIFY" {
                guard let notify = parseNotify(parameter.upperValue) else {
                    return .failure(.invalidParameter(keyword: keyword, detail: "expected NEVER or SUCCESS,FAILURE,DELAY"))
                }
                result.notify = notify
            } else {
                guard let value = parameter.value, let recipient = parseOriginalRecipient(value) else {
                    return .failure(.invalidParameter(keyword: keyword, detail: "expected addr-type;xtext"))
                }
                result.originalRecipient = recipient
            }
        }
        return .success(result)
    }

    private static func parseNotify(_ value: String?) -> DSNNotify? {
        guard let value else { return nil }
        if value == "NEVER" { return .never }
        var conditions: DSNNotifyConditions = []
        for word in value.split(separator: ",", omittingEmptySubsequences: false) {
            switch word {
            case "SUCCESS": conditions.insert(.success)
            case "FAILURE": conditions.insert(.failure)
            case "DELAY": conditions.insert(.delay)
            default: return nil  // includes NEVER mixed with others, and empty items
            }
        }
        return .on(conditions)
    }

    /// `original-recipient-address = addr-type ";" xtext`, addr-type = atom (RFC 3461 §4.2).
    private static func parseOriginalRecipient(_ value: ArraySlice<UInt8>) -> OriginalRecipient? {
        guard value.count <= OriginalRecipient.maximumEncodedLength,
              let semicolon = value.firstIndex(of: ASCII.semicolon) else { return nil }
        let type = value[value.startIndex..<semicolon]
        guard !type.isEmpty, type.allSatisfy({ $0 < 0x80 && ASCII.isAtext($0) }),
              let decoded = XText.decode(value[(semicolon + 1)...]), !decoded.isEmpty,
              !decoded.contains(where: { $0 < 0x20 || $0 == 0x7F }),
              let address = ASCII.decodeUTF8(decoded) else { return nil }
        return OriginalRecipient(addressType: String(decoding: type, as: UTF8.self), address: address)
    }
}

/// The message body type declared by `BODY=` (RFC 6152 §2 for 8BITMIME, RFC 3030 §3 for BINARYMIME).
public enum BodyType: String, Sendable, Hashable, CaseIterable {
    case sevenBit = "7BIT"
    case eightBitMIME = "8BITMIME"
    /// Only valid with BDAT (RFC 3030 §3: a DATA command after BODY=BINARYMIME gets 503 5.5.1).
    case binaryMIME = "BINARYMIME"
}

/// `RET=` of a DSN request: return the full message or only the headers (RFC 3461 §4.3).
public enum DSNReturn: String, Sendable, Hashable, CaseIterable {
    case full = "FULL"
    case headers = "HDRS"
}

/// The `AUTH=` parameter of MAIL (RFC 4954 §5): who submitted the message originally, as asserted by a
/// relaying client. The server must ignore it unless it trusts the client (RFC 4954 §5).
public enum MailAuthIdentity: Sendable, Hashable {
    /// `AUTH=<>`: the original submitter is not known or not authenticated.
    case unknown
    /// The decoded addr-spec, as given.
    case identity(String)
}

/// Parameters of the MAIL command (RFC 5321 §4.1.1.2 `Mail-parameters`).
///
/// | Parameter | Spec | Value |
/// |---|---|---|
/// | `SIZE=n` | RFC 1870 §6 | declared size, 1*20DIGIT (saturates at `Int.max`) |
/// | `BODY=7BIT/8BITMIME/BINARYMIME` | RFC 6152, RFC 3030 | ``BodyType`` |
/// | `SMTPUTF8` | RFC 6531 §3.4 | no value |
/// | `RET=FULL/HDRS` | RFC 3461 §4.3 | ``DSNReturn`` |
/// | `ENVID=xtext` | RFC 3461 §4.4 | decoded, printable ASCII, ≤ 100 octets |
/// | `AUTH=xtext` | RFC 4954 §5 | ``MailAuthIdentity`` |
///
/// Any other keyword is ``SMTPSyntaxError/unrecognizedParameter(keyword:)`` (555 5.5.4); a repeated keyword
/// is ``SMTPSyntaxError/invalidParameter(keyword:detail:)``.
public struct MailParameters: Sendable, Hashable {
    public var size: Int?
    public var body: BodyType?
    public var smtpUTF8: Bool
    public var ret: DSNReturn?
    public var envelopeID: String?
    public var auth: MailAuthIdentity?

    /// RFC 3461 §4.4: ENVID is at most 100 characters.
    public static let maximumEnvelopeIDLength = 100

    public init(size: Int? = nil, body: BodyType? = nil, smtpUTF8: Bool = false, ret: DSNReturn? = nil,
                envelopeID: String? = nil, auth: MailAuthIdentity? = nil) {
        self.size = size
        self.body = body
        self.smtpUTF8 = smtpUTF8
        self.ret = ret
        self.envelopeID = envelopeID
        self.auth = auth
    }

    /// The parameters in wire form, in a fixed order, e.g. `["SIZE=1000", "BODY=8BITMIME"]`.
    public var encoded: [String] {
        var tokens: [String] = []
        if let size { tokens.append("SIZE=\(size)") }
        if let body { tokens.append("BODY=\(body.rawValue)") }
        if smtpUTF8 { tokens.append("SMTPUTF8") }
        if let ret { tokens.append("RET=\(ret.rawValue)") }
        if let envelopeID { tokens.append("ENVID=\(XText.encode(envelopeID))") }
        switch auth {
        case .none: break
        case .unknown: tokens.append("AUTH=<>")
        case .identity(let identity): tokens.append("AUTH=\(XText.encode(identity))")
        }
        return tokens
    }

    static func parse(_ parameters: [ESMTPParameter]) -> Result<MailParameters, SMTPSyntaxError> {
        var result = MailParameters()
        var seen = Set<String>()
        for parameter in parameters {
            let keyword = parameter.keyword
            let known = ["SIZE", "BODY", "SMTPUTF8", "RET", "ENVID", "AUTH"]
            guard known.contains(keyword) else { return .failure(.unrecognizedParameter(keyword: keyword)) }
            guard seen.insert(keyword).inserted else { return .failure(.invalidParameter(keyword: keyword, detail: "duplicate")) }
            switch keyword {
            case "SIZE":
                // RFC 1870 §6: size-value = 1*20DIGIT.
                guard let value = parameter.value, value.count <= 20, value.allSatisfy(ASCII.isDigit) else {
                    return .failure(.invalidParameter(keyword: keyword, detail: "expected a number"))
                }
                var size = 0
                for digit in value {
                    let (times10, o1) = size.multipliedReportingOverflow(by: 10)
                    let (sum, o2) = times10.addingReportingOverflow(Int(digit - 0x30))
                    if o1 || o2 { size = Int.max; break }
                    size = sum
                }
                result.size = size
            case "BODY":
                guard let value = parameter.upperValue, let body = BodyType(rawValue: value) else {
                    return .failure(.invalidParameter(keyword: keyword, detail: "expected 7BIT, 8BITMIME or BINARYMIME"))
                }
                result.body = body
            case "SMTPUTF8":
                // RFC 6531 §3.4: the parameter has no value.
                guard parameter.value == nil else { return .failure(.invalidParameter(keyword: keyword, detail: "takes no value")) }
                result.smtpUTF8 = true
            case "RET":
                guard let value = parameter.upperValue, let ret = DSNReturn(rawValue: value) else {
                    return .failure(.invalidParameter(keyword: keyword, detail: "expected FULL or HDRS"))
                }
                result.ret = ret
            case "ENVID":
                // RFC 3461 §4.4: printable US-ASCII, at most 100 characters once decoded.
                guard let value = parameter.value, let decoded = XText.decode(value),
                      decoded.count <= maximumEnvelopeIDLength, decoded.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E }) else {
                    return .failure(.invalidParameter(keyword: keyword, detail: "expected xtext of printable ASCII, at most 100 characters"))
                }
                result.envelopeID = String(decoding: decoded, as: UTF8.self)
            case "AUTH":
                // RFC 4954 §5: AUTH=<> or AUTH=xtext(addr-spec). The identity is only recorded; trusting it is policy.
                guard let value = parameter.value, let decoded = XText.decode(value), !decoded.isEmpty,
                      let text = ASCII.decodeUTF8(decoded), !decoded.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
                    return .failure(.invalidParameter(keyword: keyword, detail: "expected <> or an xtext address"))
                }
                result.auth = text == "<>" ? .unknown : .identity(text)
            default:
                return .failure(.unrecognizedParameter(keyword: keyword))
            }
        }
        return .success(result)
    }
}

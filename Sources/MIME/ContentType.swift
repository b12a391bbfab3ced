/// A Content-Type value (RFC 2045 §5): `type "/" subtype *(";" parameter)`.
///
/// `type` and `subtype` keep the spelling of the header (IMAP reports them as sent); comparisons use
/// the lowercased forms. A missing or syntactically invalid field yields the RFC 2045 §5.2 default
/// `text/plain; charset=us-ascii` (or `message/rfc822` inside multipart/digest, RFC 2046 §5.1.5).
public struct ContentType: Sendable, Hashable, Codable {
    public var type: [UInt8]
    public var subtype: [UInt8]
    public var parameters: [MIMEParameter]
    /// True when no usable Content-Type field was present and the default applies.
    public var isDefault: Bool

    public init(type: [UInt8], subtype: [UInt8], parameters: [MIMEParameter], isDefault: Bool = false) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
        self.isDefault = isDefault
    }

    /// Lowercased type, e.g. "text".
    public var lowercasedType: String { String(decoding: type.asciiLowercased, as: UTF8.self) }
    /// Lowercased subtype, e.g. "plain".
    public var lowercasedSubtype: String { String(decoding: subtype.asciiLowercased, as: UTF8.self) }

    public var isMultipart: Bool { type.equalsCaseInsensitive("multipart") }
    public var isText: Bool { type.equalsCaseInsensitive("text") }
    /// message/rfc822 or message/global (RFC 6532 §3.7): parts that encapsulate a message.
    public var isEncapsulatedMessage: Bool {
        type.equalsCaseInsensitive("message")
            && (subtype.equalsCaseInsensitive("rfc822") || subtype.equalsCaseInsensitive("global"))
    }

    /// The multipart boundary (RFC 2046 §5.1.1), if present and non-empty.
    public var boundary: [UInt8]? {
        guard var b = parameters.rawValue("boundary") else { return nil }
        // bcharsnospace: trailing spaces are not part of a boundary.
        while let last = b.last, ASCII.isWSP(last) { b.removeLast() }
        return b.isEmpty ? nil : b
    }

    /// The charset parameter's value, if any.
    public var charset: [UInt8]? { parameters.rawValue("charset") }

    /// `text/plain; charset=us-ascii`, the RFC 2045 §5.2 default.
    public static var defaultText: ContentType {
        ContentType(type: Array("text".utf8), subtype: Array("plain".utf8),
                    parameters: [MIMEParameter(name: Array("charset".utf8), value: Array("us-ascii".utf8),
                                               baseName: "charset", isExtended: false, decodedValue: "us-ascii")],
                    isDefault: true)
    }

    /// `message/rfc822`, the default inside multipart/digest (RFC 2046 §5.1.5).
    public static var defaultDigestPart: ContentType {
        ContentType(type: Array("message".utf8), subtype: Array("rfc822".utf8), parameters: [], isDefault: true)
    }

    /// Parses a field value; nil when it has no `type/subtype` (the caller then applies the default).
    public init?(headerValue: [UInt8]) {
        var s = StructuredScanner(headerValue)
        s.skipCFWS()
        guard let t = s.token() else { return nil }
        s.skipCFWS()
        guard s.peek == ASCII.slash else { return nil }
        s.pos &+= 1
        s.skipCFWS()
        guard let st = s.token() else { return nil }
        s.skipCFWS()
        if let b = s.peek, b != ASCII.semicolon { s.skipPastSemicolon() }
        self.init(type: t, subtype: st, parameters: ParameterListParser.parse(&s))
    }
}

/// A Content-Disposition value (RFC 2183 §2): `disposition-type *(";" parameter)`.
public struct ContentDisposition: Sendable, Hashable, Codable {
    /// The disposition type as written (e.g. `attachment`, `inline`).
    public var type: [UInt8]
    public var parameters: [MIMEParameter]

    public init(type: [UInt8], parameters: [MIMEParameter]) {
        self.type = type
        self.parameters = parameters
    }

    /// Parses a field value; nil when there is no disposition type token.
    public init?(headerValue: [UInt8]) {
        var s = StructuredScanner(headerValue)
        s.skipCFWS()
        guard let t = s.token() else { return nil }
        s.skipCFWS()
        if let b = s.peek, b != ASCII.semicolon { s.skipPastSemicolon() }
        self.init(type: t, parameters: ParameterListParser.parse(&s))
    }

    public var isAttachment: Bool { type.equalsCaseInsensitive("attachment") }

    /// The decoded `filename` parameter (RFC 2183 §2.3, RFC 2231), if any.
    public var filename: String? { parameters.decodedValue("filename") }
}

/// The MIME header fields of one entity (RFC 2045 §3 and RFC 2183, RFC 3282, RFC 2557, RFC 1864),
/// extracted once at parse time. Raw values are unfolded and trimmed; encoded words left as they are.
public struct MIMEFields: Sendable, Hashable, Codable {
    public var contentType: ContentType
    /// Content-Transfer-Encoding as written (nil when absent; RFC 2045 §6.1 default is 7bit).
    public var transferEncodingRaw: [UInt8]?
    public var contentID: [UInt8]?
    public var contentDescription: [UInt8]?
    public var contentDisposition: ContentDisposition?
    /// Content-Language tags (RFC 3282), in order.
    public var contentLanguage: [[UInt8]]
    public var contentLocation: [UInt8]?
    public var contentMD5: [UInt8]?

    public init(contentType: ContentType, transferEncodingRaw: [UInt8]? = nil, contentID: [UInt8]? = nil,
                contentDescription: [UInt8]? = nil, contentDisposition: ContentDisposition? = nil,
                contentLanguage: [[UInt8]] = [], contentLocation: [UInt8]? = nil, contentMD5: [UInt8]? = nil) {
        self.contentType = contentType
        self.transferEncodingRaw = transferEncodingRaw
        self.contentID = contentID
        self.contentDescription = contentDescription
        self.contentDisposition = contentDisposition
        self.contentLanguage = contentLanguage
        self.contentLocation = contentLocation
        self.contentMD5 = contentMD5
    }

    /// The decoded transfer encoding.
    public var transferEncoding: TransferEncoding {
        transferEncodingRaw.map(TransferEncoding.init(headerValue:)) ?? .sevenBit
    }

    /// Extracts the fields from a parsed header. The first occurrence of each field wins.
    public static func extract(from header: HeaderBlock, in buffer: UnsafeRawBufferPointer,
                               defaultType: ContentType) -> MIMEFields {
        var fields = MIMEFields(contentType: defaultType)
        var seen: UInt8 = 0
        func once(_ bit: UInt8) -> Bool {
            if seen & bit != 0 { return false }
            seen |= bit
            return true
        }
        for f in header.fields {
            // Fast reject: only Content-* fields matter here.
            guard f.nameRange.count > 8, ASCII.lower(buffer[f.nameRange.lowerBound]) == 0x63 else { continue }
            let name = String(decoding: f.name(in: buffer).asciiLowercased, as: UTF8.self)
            switch name {
            case "content-type":
                guard once(1) else { continue }
                if let ct = ContentType(headerValue: f.unfoldedValue(in: buffer)) {
                    fields.contentType = ct
                } else {
                    // RFC 2045 §5.2: a syntactically invalid Content-Type means text/plain.
                    fields.contentType = .defaultText
                }
            case "content-transfer-encoding":
                if once(2) {
                    // RFC 2045 §6.1: mechanism is a token; anything else is ignored (7bit applies).
                    var sc = StructuredScanner(f.unfoldedValue(in: buffer))
                    sc.skipCFWS()
                    if let t = sc.token() {
                        sc.skipCFWS()
                        if sc.atEnd { fields.transferEncodingRaw = t }
                    }
                }
            case "content-id":
                if once(4) { fields.contentID = f.unfoldedValue(in: buffer) }
            case "content-description":
                if once(8) { fields.contentDescription = f.unfoldedValue(in: buffer) }
            case "content-disposition":
                if once(16) { fields.contentDisposition = ContentDisposition(headerValue: f.unfoldedValue(in: buffer)) }
            case "content-language":
                if once(32) { fields.contentLanguage = parseLanguageList(f.unfoldedValue(in: buffer)) }
            case "content-location":
                if once(64) { fields.contentLocation = f.unfoldedValue(in: buffer) }
            case "content-md5":
                if once(128) { fields.contentMD5 = f.unfoldedValue(in: buffer) }
            default:
                continue
            }
        }
        return fields
    }

    /// RFC 3282 §2: `Language-List = Language-Tag [CFWS] *("," [CFWS] Language-Tag [CFWS])`.
    static func parseLanguageList(_ value: [UInt8]) -> [[UInt8]] {
        var s = StructuredScanner(value)
        var tags: [[UInt8]] = []
        while !s.atEnd, tags.count < 100 {
            s.skipCFWS()
            guard let b = s.peek else { break }
            if b == ASCII.comma { s.pos &+= 1; continue }
            let start = s.pos
            while let c = s.peek, c != ASCII.comma, c != ASCII.lparen, !ASCII.isWSP(c) { s.pos &+= 1 }
            if s.pos > start { tags.append(Array(value[start..<s.pos])) } else { s.pos &+= 1 }
        }
        return tags
    }
}

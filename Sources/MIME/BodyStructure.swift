/// IMAP BODYSTRUCTURE and BODY (non-extensible) from a parsed tree (RFC 9051 §7.5.2, §9 `body`).
///
/// Choices, matching widely deployed servers:
/// - type, subtype, parameter names and values are sent as the header spelled them; a missing
///   Content-Type is `"text" "plain" ("charset" "us-ascii")` (RFC 2045 §5.2), a text part without
///   parameters gets `("charset" "us-ascii")`, a missing transfer encoding is `"7bit"`;
/// - `body-fld-octets` is the body's size in the stored bytes, `body-fld-lines` counts its LFs;
/// - RFC 2231 parameters are joined but stay `charset'lang'%XX`-encoded under `name*`;
/// - an opaque composite (limits, or an encoded message/rfc822) is reported as
///   application/octet-stream so strict parsers never meet a multipart with no children or a
///   message/rfc822 without envelope.
public enum BodyStructure {
    /// Writes the `body` production for `part`; `extensible` selects BODYSTRUCTURE (true) or BODY.
    public static func write(_ part: MIMEPart, extensible: Bool, in buffer: UnsafeRawBufferPointer,
                             to w: inout IMAPWriter) {
        let f = part.fields
        w.raw("(")
        if case .multipart(let parts, _, _, _) = part.content, !part.isOpaque {
            // body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
            for p in parts { write(p, extensible: extensible, in: buffer, to: &w) }
            w.raw(" ")
            w.string(f.contentType.subtype)
            if extensible {
                // body-ext-mpart = body-fld-param [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]]
                w.raw(" ")
                writeParams(f.contentType.parameters, to: &w)
                writeCommonExtension(f, to: &w)
            }
            w.raw(")")
            return
        }

        let opaqueComposite = part.isOpaque
            && (f.contentType.isMultipart || f.contentType.isEncapsulatedMessage)
        if opaqueComposite {
            w.raw("\"application\" \"octet-stream\"")
        } else {
            w.string(f.contentType.type)
            w.raw(" ")
            w.string(f.contentType.subtype)
        }
        // body-fields = body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP body-fld-octets
        w.raw(" ")
        if f.contentType.parameters.isEmpty && f.contentType.isText && !opaqueComposite {
            w.raw("(\"charset\" \"us-ascii\")")
        } else {
            writeParams(f.contentType.parameters, to: &w)
        }
        w.raw(" ")
        w.nstring(f.contentID)
        w.raw(" ")
        w.nstring(f.contentDescription)
        w.raw(" ")
        if let enc = f.transferEncodingRaw, !enc.isEmpty {
            w.string(enc)
        } else {
            w.raw("\"7bit\"")
        }
        w.raw(" ")
        w.number(part.bodyRange.count)

        if !opaqueComposite, case .message(let inner) = part.content {
            // body-type-msg = media-message SP body-fields SP envelope SP body SP body-fld-lines
            w.raw(" ")
            let header = HeaderBlock.parse(buffer, in: inner.headerRange)
            Envelope(header: header, in: buffer).write(to: &w)
            w.raw(" ")
            write(inner, extensible: extensible, in: buffer, to: &w)
            w.raw(" ")
            w.number(part.bodyLineCount)
        } else if f.contentType.isText && !opaqueComposite {
            // body-type-text = media-text SP body-fields SP body-fld-lines
            w.raw(" ")
            w.number(part.bodyLineCount)
        }
        if extensible {
            // body-ext-1part = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]]
            w.raw(" ")
            w.nstring(f.contentMD5)
            writeCommonExtension(f, to: &w)
        }
        w.raw(")")
    }

    /// ` SP body-fld-dsp SP body-fld-lang SP body-fld-loc`, always written in full (as Dovecot does).
    static func writeCommonExtension(_ f: MIMEFields, to w: inout IMAPWriter) {
        w.raw(" ")
        if let d = f.contentDisposition {
            // body-fld-dsp = "(" string SP body-fld-param ")" / nil
            w.raw("(")
            w.string(d.type)
            w.raw(" ")
            writeParams(d.parameters, to: &w)
            w.raw(")")
        } else {
            w.nilValue()
        }
        w.raw(" ")
        // body-fld-lang = nstring / "(" string *(SP string) ")"
        switch f.contentLanguage.count {
        case 0:
            w.nilValue()
        case 1:
            w.string(f.contentLanguage[0])
        default:
            w.raw("(")
            for (i, l) in f.contentLanguage.enumerated() {
                if i > 0 { w.raw(" ") }
                w.string(l)
            }
            w.raw(")")
        }
        w.raw(" ")
        w.nstring(f.contentLocation)
    }

    /// body-fld-param = "(" string SP string *(SP string SP string) ")" / nil
    static func writeParams(_ params: [MIMEParameter], to w: inout IMAPWriter) {
        guard !params.isEmpty else { w.nilValue(); return }
        w.raw("(")
        for (i, p) in params.enumerated() {
            if i > 0 { w.raw(" ") }
            w.string(p.name)
            w.raw(" ")
            w.string(p.value)
        }
        w.raw(")")
    }

    /// The BODYSTRUCTURE (`extensible: true`) or BODY value of a message as IMAP bytes.
    public static func imapBytes(_ message: MIMEMessage, extensible: Bool, utf8: Bool,
                                 in buffer: UnsafeRawBufferPointer) -> [UInt8] {
        var w = IMAPWriter(utf8: utf8)
        write(message.root, extensible: extensible, in: buffer, to: &w)
        return w.bytes
    }
}

/// What the store caches per message at delivery so FETCH never re-parses: ENVELOPE, BODYSTRUCTURE
/// and BODY as ready-to-send bytes, plus the part tree for BODY[section] / BINARY[section].
///
/// The `*UTF8` variants are set only when they differ, i.e. when 8-bit header text made the
/// ASCII-session form use literals; UTF8=ACCEPT sessions use them (RFC 9051 / RFC 6855 §3).
public struct IMAPMessageCache: Sendable, Hashable, Codable {
    public var envelope: [UInt8]
    public var bodyStructure: [UInt8]
    public var body: [UInt8]
    public var envelopeUTF8: [UInt8]?
    public var bodyStructureUTF8: [UInt8]?
    public var bodyUTF8: [UInt8]?
    /// The parsed tree (offsets into the stored message) for section fetches.
    public var message: MIMEMessage

    public init(envelope: [UInt8], bodyStructure: [UInt8], body: [UInt8], envelopeUTF8: [UInt8]?,
                bodyStructureUTF8: [UInt8]?, bodyUTF8: [UInt8]?, message: MIMEMessage) {
        self.envelope = envelope
        self.bodyStructure = bodyStructure
        self.body = body
        self.envelopeUTF8 = envelopeUTF8
        self.bodyStructureUTF8 = bodyStructureUTF8
        self.bodyUTF8 = bodyUTF8
        self.message = message
    }

    /// Parses the message and renders everything FETCH needs.
    public init(parsing buffer: UnsafeRawBufferPointer, limits: MIMELimits = .default) {
        let message = MessageParser.parse(buffer, limits: limits)
        let header = HeaderBlock.parse(buffer, in: message.root.headerRange)
        let env = Envelope(header: header, in: buffer)
        var e = IMAPWriter(utf8: false)
        env.write(to: &e)
        var bs = IMAPWriter(utf8: false)
        BodyStructure.write(message.root, extensible: true, in: buffer, to: &bs)
        var b = IMAPWriter(utf8: false)
        BodyStructure.write(message.root, extensible: false, in: buffer, to: &b)
        var eU: [UInt8]? = nil, bsU: [UInt8]? = nil, bU: [UInt8]? = nil
        if e.usedEightBit {
            eU = env.imapBytes(utf8: true)
            if eU == e.bytes { eU = nil }
        }
        if bs.usedEightBit {
            bsU = BodyStructure.imapBytes(message, extensible: true, utf8: true, in: buffer)
            if bsU == bs.bytes { bsU = nil }
            bU = BodyStructure.imapBytes(message, extensible: false, utf8: true, in: buffer)
            if bU == b.bytes { bU = nil }
        }
        self.init(envelope: e.bytes, bodyStructure: bs.bytes, body: b.bytes, envelopeUTF8: eU,
                  bodyStructureUTF8: bsU, bodyUTF8: bU, message: message)
    }

    /// Parses a message held in any byte collection.
    public init<C: Collection>(parsing bytes: C, limits: MIMELimits = .default) where C.Element == UInt8 {
        self = withRawBytes(bytes) { IMAPMessageCache(parsing: $0, limits: limits) }
    }

    /// The ENVELOPE bytes for a session (`utf8`: UTF8=ACCEPT enabled).
    public func envelope(utf8: Bool) -> [UInt8] { utf8 ? (envelopeUTF8 ?? envelope) : envelope }
    /// The BODYSTRUCTURE bytes for a session.
    public func bodyStructure(utf8: Bool) -> [UInt8] { utf8 ? (bodyStructureUTF8 ?? bodyStructure) : bodyStructure }
    /// The BODY (non-extensible) bytes for a session.
    public func body(utf8: Bool) -> [UInt8] { utf8 ? (bodyUTF8 ?? body) : body }
}

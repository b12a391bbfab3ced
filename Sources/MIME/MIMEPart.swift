/// One MIME entity (RFC 2045 §2.4): its header and body as offsets into the raw message, its
/// MIME fields, and its children.
///
/// The tree holds no message bytes, only ranges and the (small) MIME field values, so it can be
/// cached at delivery (it is `Codable`) and used later against the stored bytes without re-parsing.
public struct MIMEPart: Sendable, Hashable, Codable {
    /// The entity's header including the blank line that ends it (empty for a part without header).
    public var headerRange: Range<Int>
    /// The entity's body. For a multipart part that is everything between its header and the end
    /// of the part (preamble, boundaries and epilogue included); for message/rfc822 the whole
    /// encapsulated message.
    public var bodyRange: Range<Int>
    /// Content-* fields (RFC 2045 §3), defaults applied.
    public var fields: MIMEFields
    /// Number of LF-terminated lines in the body, for text/* and message/rfc822 (IMAP
    /// `body-fld-lines`); 0 for other types, where IMAP does not report it.
    public var bodyLineCount: Int
    /// True when the part's declared structure was not parsed: nesting or part-count limits were
    /// reached, or a message/rfc822 part had a non-identity transfer encoding. IMAP then reports the
    /// part as application/octet-stream so strict clients can still parse the BODYSTRUCTURE.
    public var isOpaque: Bool
    /// What the body contains.
    public var content: Content

    /// Body content kinds (RFC 2046 §5).
    public indirect enum Content: Sendable, Hashable, Codable {
        /// A leaf part (a discrete media type, or an opaque composite).
        case single
        /// multipart/* (RFC 2046 §5.1): at least one child; preamble and epilogue ranges (possibly
        /// empty); `closed` is false when the close delimiter was missing.
        case multipart(parts: [MIMEPart], preamble: Range<Int>, epilogue: Range<Int>, closed: Bool)
        /// message/rfc822 or message/global (RFC 2046 §5.2.1, RFC 6532 §3.7): the encapsulated message.
        case message(MIMEPart)
    }

    public init(headerRange: Range<Int>, bodyRange: Range<Int>, fields: MIMEFields, bodyLineCount: Int,
                isOpaque: Bool, content: Content) {
        self.headerRange = headerRange
        self.bodyRange = bodyRange
        self.fields = fields
        self.bodyLineCount = bodyLineCount
        self.isOpaque = isOpaque
        self.content = content
    }

    /// Header and body together.
    public var range: Range<Int> { headerRange.lowerBound..<max(headerRange.upperBound, bodyRange.upperBound) }

    /// Children of a multipart part (empty otherwise).
    public var parts: [MIMEPart] {
        if case .multipart(let parts, _, _, _) = content { return parts }
        return []
    }

    /// The encapsulated message of a message/rfc822 part.
    public var encapsulatedMessage: MIMEPart? {
        if case .message(let m) = content { return m }
        return nil
    }

    public var isMultipart: Bool {
        if case .multipart = content { return true }
        return false
    }

    /// The part's IMAP-numbered children (RFC 9051 §6.4.5) when this entity is viewed as a
    /// message: a multipart body's parts, else the entity itself as part 1.
    func numberedChildrenAsMessage() -> [MIMEPart] {
        if case .multipart(let parts, _, _, _) = content { return parts }
        return [self]
    }
}

/// A parsed message: the root entity plus bookkeeping about hostile-input limits.
public struct MIMEMessage: Sendable, Hashable, Codable {
    /// The top-level entity: the message header and body.
    public var root: MIMEPart
    /// Size of the message in bytes (IMAP RFC822.SIZE when the bytes are stored CRLF-normalised).
    public var size: Int
    /// Number of entities in the tree, root included.
    public var partCount: Int
    /// True when a nesting, part-count or field-count limit cut the structure short.
    public var limitsHit: Bool

    public init(root: MIMEPart, size: Int, partCount: Int, limitsHit: Bool) {
        self.root = root
        self.size = size
        self.partCount = partCount
        self.limitsHit = limitsHit
    }

    /// The top-level header, re-parsed from the stored bytes (cheap: header only).
    public func header(in buffer: UnsafeRawBufferPointer) -> HeaderBlock {
        HeaderBlock.parse(buffer, in: root.headerRange)
    }

    /// The part with the given IMAP part number (RFC 9051 §6.4.5), e.g. `[1, 2, 3]` for `1.2.3`.
    /// A non-multipart message (or encapsulated message) has only part 1, the message body itself.
    public func part(_ number: [Int]) -> MIMEPart? {
        MIMESectionResolver.locate(root, number)?.part
    }

    /// Every leaf part with its IMAP part number, depth first. Encapsulated messages are descended.
    public func leaves() -> [(number: [Int], part: MIMEPart)] {
        var out: [(number: [Int], part: MIMEPart)] = []
        func visit(_ p: MIMEPart, number: [Int], asMessage: Bool) {
            switch p.content {
            case .multipart(let parts, _, _, _):
                for (i, c) in parts.enumerated() { visit(c, number: number + [i + 1], asMessage: false) }
            case .message(let inner):
                let base = asMessage ? number + [1] : number
                if inner.isMultipart {
                    visit(inner, number: base, asMessage: false)
                } else {
                    visit(inner, number: base + [1], asMessage: false)
                }
            case .single:
                out.append((asMessage ? number + [1] : number, p))
            }
        }
        visit(root, number: [], asMessage: true)
        return out
    }
}

/// Bounds that keep parsing hostile input cheap: nesting depth (recursion) and entity count (memory).
public struct MIMELimits: Sendable, Hashable {
    /// Deepest multipart / message nesting that is parsed; deeper composites become opaque leaves.
    public var maxDepth: Int
    /// Most entities in one message; further boundaries are not split.
    public var maxParts: Int

    public init(maxDepth: Int = 100, maxParts: Int = 10_000) {
        self.maxDepth = max(1, maxDepth)
        self.maxParts = max(1, maxParts)
    }

    public static let `default` = MIMELimits()
}

/// Parses RFC 5322 messages into a ``MIMEMessage`` tree of offsets (RFC 2045, RFC 2046).
///
/// The parser never copies bodies; it scans the borrowed buffer once per nesting level. It is
/// lenient in the ways deployed mail requires: bare LF, missing blank lines, missing or unterminated
/// boundaries, a multipart with no boundary parameter, garbage. It never fails: any input yields a tree.
public enum MessageParser {
    /// Parses a message held in a borrowed buffer (e.g. a memory-mapped file).
    public static func parse(_ buffer: UnsafeRawBufferPointer, limits: MIMELimits = .default) -> MIMEMessage {
        var state = State(buffer: buffer, limits: limits)
        let root = state.parseEntity(0..<buffer.count, depth: 0, defaultType: .defaultText)
        return MIMEMessage(root: root, size: buffer.count, partCount: state.partCount, limitsHit: state.limitsHit)
    }

    /// Parses a message from any byte collection (no copy when its storage is contiguous).
    public static func parse<C: Collection>(_ bytes: C, limits: MIMELimits = .default) -> MIMEMessage
    where C.Element == UInt8 {
        withRawBytes(bytes) { parse($0, limits: limits) }
    }

    struct State {
        let buffer: UnsafeRawBufferPointer
        let limits: MIMELimits
        var partCount = 0
        var limitsHit = false

        init(buffer: UnsafeRawBufferPointer, limits: MIMELimits) {
            self.buffer = buffer
            self.limits = limits
        }

        mutating func parseEntity(_ range: Range<Int>, depth: Int, defaultType: ContentType) -> MIMEPart {
            partCount &+= 1
            let header = HeaderBlock.parse(buffer, in: range)
            if header.fieldsTruncated { limitsHit = true }
            let fields = MIMEFields.extract(from: header, in: buffer, defaultType: defaultType)
            let body = header.range.upperBound..<max(header.range.upperBound, range.upperBound)
            return makePart(header: header.range, body: body, fields: fields, depth: depth)
        }

        mutating func makePart(header: Range<Int>, body: Range<Int>, fields: MIMEFields, depth: Int) -> MIMEPart {
            let ct = fields.contentType
            let countLines = ct.isText || ct.isEncapsulatedMessage
            let lines = countLines ? buffer.countLineFeeds(body) : 0
            var part = MIMEPart(headerRange: header, bodyRange: body, fields: fields, bodyLineCount: lines,
                                isOpaque: false, content: .single)
            if ct.isMultipart {
                guard depth < limits.maxDepth, partCount < limits.maxParts else {
                    limitsHit = true
                    part.isOpaque = true
                    return part
                }
                part.content = parseMultipart(body, boundary: ct.boundary, depth: depth,
                                              digest: ct.subtype.equalsCaseInsensitive("digest"))
            } else if ct.isEncapsulatedMessage {
                // RFC 2046 §5.2.1: only 7bit, 8bit or binary are allowed; anything else stays opaque.
                guard fields.transferEncoding.isIdentity else {
                    part.isOpaque = true
                    return part
                }
                guard depth < limits.maxDepth, partCount < limits.maxParts else {
                    limitsHit = true
                    part.isOpaque = true
                    return part
                }
                part.content = .message(parseEntity(body, depth: depth &+ 1, defaultType: .defaultText))
            }
            return part
        }

        /// Splits a multipart body at its delimiter lines (RFC 2046 §5.1.1). The line break before a
        /// delimiter belongs to the delimiter, not to the preceding part.
        mutating func parseMultipart(_ body: Range<Int>, boundary: [UInt8]?, depth: Int, digest: Bool)
            -> MIMEPart.Content {
            let childDefault: ContentType = digest ? .defaultDigestPart : .defaultText
            var ranges: [Range<Int>] = []
            var preamble = body.lowerBound..<body.lowerBound
            var epilogue = body.upperBound..<body.upperBound
            var closed = false
            var currentStart: Int? = nil
            var splitting = true

            if let boundary {
                var pos = body.lowerBound
                let end = body.upperBound
                while pos < end {
                    let lf = buffer.firstIndex(of: ASCII.lf, from: pos, to: end)
                    let lineEnd = lf.map { $0 &+ 1 } ?? end
                    if splitting, let kind = delimiterKind(at: pos, lineEnd: lineEnd, boundary: boundary) {
                        var before = pos
                        if before > body.lowerBound, buffer[before &- 1] == ASCII.lf {
                            before &-= 1
                            if before > body.lowerBound, buffer[before &- 1] == ASCII.cr { before &-= 1 }
                        }
                        if let start = currentStart {
                            ranges.append(start..<max(start, before))
                        } else {
                            preamble = body.lowerBound..<before
                        }
                        if kind == .close {
                            closed = true
                            epilogue = lineEnd..<end
                            currentStart = nil
                            break
                        }
                        currentStart = lineEnd
                        // Budget: stop splitting when the message's entity budget is spent.
                        if partCount &+ ranges.count &+ 1 >= limits.maxParts {
                            limitsHit = true
                            splitting = false
                        }
                    }
                    pos = lineEnd
                }
                if let start = currentStart { ranges.append(start..<end) }
            }

            var parts: [MIMEPart] = []
            parts.reserveCapacity(ranges.count)
            if ranges.isEmpty {
                // No delimiter (or no boundary parameter): keep the content reachable as one
                // header-less text part so part 1 shows it, and IMAP's `1*body` holds.
                partCount &+= 1
                let fields = MIMEFields(contentType: .defaultText)
                parts.append(makePart(header: body.lowerBound..<body.lowerBound, body: body, fields: fields,
                                      depth: depth &+ 1))
                preamble = body.lowerBound..<body.lowerBound
            } else {
                for r in ranges {
                    parts.append(parseEntity(r, depth: depth &+ 1, defaultType: childDefault))
                }
            }
            return .multipart(parts: parts, preamble: preamble, epilogue: epilogue, closed: closed)
        }

        enum DelimiterKind { case open, close }

        /// delimiter = "--" boundary; close-delimiter adds "--"; then transport padding (LWSP) and the
        /// line break. Anything else after the boundary means this is not our delimiter (it may be a
        /// nested part's longer boundary).
        func delimiterKind(at pos: Int, lineEnd: Int, boundary: [UInt8]) -> DelimiterKind? {
            let need = 2 &+ boundary.count
            guard lineEnd &- pos >= need, buffer[pos] == ASCII.minus, buffer[pos &+ 1] == ASCII.minus else { return nil }
            var i = pos &+ 2
            for b in boundary {
                if buffer[i] != b { return nil }
                i &+= 1
            }
            var kind = DelimiterKind.open
            if i &+ 1 < lineEnd, buffer[i] == ASCII.minus, buffer[i &+ 1] == ASCII.minus {
                kind = .close
                i &+= 2
            }
            while i < lineEnd {
                let b = buffer[i]
                guard ASCII.isWSP(b) || b == ASCII.cr || b == ASCII.lf else { return nil }
                i &+= 1
            }
            return kind
        }
    }
}

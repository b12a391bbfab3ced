/// One header field of a message or body part, as offsets into the raw message (RFC 5322 §2.2).
///
/// Ranges are absolute offsets into the buffer the header was parsed from. The value range
/// still contains folding line breaks; use ``unfoldedValue(in:)`` for the logical value.
public struct HeaderField: Sendable, Hashable, Codable {
    /// The field name, without the colon and without any (obsolete, RFC 5322 §4.5) WSP before it.
    public var nameRange: Range<Int>
    /// Everything after the colon up to (not including) the line break that ends the field.
    public var valueRange: Range<Int>
    /// The whole field including its terminating line break (if the input had one).
    public var range: Range<Int>

    public init(nameRange: Range<Int>, valueRange: Range<Int>, range: Range<Int>) {
        self.nameRange = nameRange
        self.valueRange = valueRange
        self.range = range
    }

    /// The field name bytes.
    public func name(in buffer: UnsafeRawBufferPointer) -> [UInt8] { buffer.bytes(nameRange) }

    /// The raw value bytes, folding included.
    public func rawValue(in buffer: UnsafeRawBufferPointer) -> [UInt8] { buffer.bytes(valueRange) }

    /// The value with folding removed and surrounding whitespace trimmed (RFC 5322 §2.2.3).
    public func unfoldedValue(in buffer: UnsafeRawBufferPointer) -> [UInt8] {
        unfold(buffer.bytes(valueRange)).trimmingWhitespace
    }

    /// Case-insensitive name comparison against an ASCII name.
    public func hasName(_ name: String, in buffer: UnsafeRawBufferPointer) -> Bool {
        let n = Array(name.utf8)
        guard n.count == nameRange.count else { return false }
        var i = nameRange.lowerBound
        for c in n {
            if ASCII.lower(buffer[i]) != ASCII.lower(c) { return false }
            i &+= 1
        }
        return true
    }

    /// Case-insensitive name comparison against a byte name.
    func hasName(_ name: [UInt8], in buffer: UnsafeRawBufferPointer) -> Bool {
        guard name.count == nameRange.count else { return false }
        var i = nameRange.lowerBound
        for c in name {
            if ASCII.lower(buffer[i]) != ASCII.lower(c) { return false }
            i &+= 1
        }
        return true
    }
}

/// A parsed header block (RFC 5322 §2.1: fields, then an empty line, then the body).
///
/// Parsing is lenient the way deployed mail needs:
/// - bare LF line ends are accepted like CRLF;
/// - a missing blank line is tolerated: a line that is neither a field nor a continuation ends the
///   header and starts the body (except a leading mbox `From ` line, which is skipped);
/// - 8-bit bytes in values (RFC 6532), NULs and arbitrarily long lines are kept as they are;
/// - at most ``maxFields`` fields are recorded; the header still ends where the input says.
public struct HeaderBlock: Sendable, Hashable, Codable {
    /// The recorded fields, in order.
    public var fields: [HeaderField]
    /// The header including the separating blank line, when there is one.
    public var range: Range<Int>
    /// Where the body starts (`range.upperBound`).
    public var bodyStart: Int { range.upperBound }
    /// Whether the header ended with an empty line (false: EOF or a non-header line ended it).
    public var hasBlankLine: Bool
    /// Whether fields past ``maxFields`` were dropped.
    public var fieldsTruncated: Bool

    /// Upper bound on fields recorded per header block, against hostile input.
    public static let maxFields = 5_000

    public init(fields: [HeaderField], range: Range<Int>, hasBlankLine: Bool, fieldsTruncated: Bool) {
        self.fields = fields
        self.range = range
        self.hasBlankLine = hasBlankLine
        self.fieldsTruncated = fieldsTruncated
    }

    /// Parses the header that starts at `range.lowerBound` and may extend up to `range.upperBound`.
    public static func parse(_ buffer: UnsafeRawBufferPointer, in range: Range<Int>) -> HeaderBlock {
        let start = max(0, min(range.lowerBound, buffer.count))
        let end = max(start, min(range.upperBound, buffer.count))
        var fields: [HeaderField] = []
        var truncated = false
        var pos = start
        // The field being collected: its name range, value start and the position after its last line.
        var current: (name: Range<Int>, valueStart: Int, fieldStart: Int)? = nil
        var currentValueEnd = start
        var currentEnd = start
        var firstLine = true

        func flush() {
            guard let c = current else { return }
            if fields.count < maxFields {
                fields.append(HeaderField(nameRange: c.name, valueRange: c.valueStart..<currentValueEnd,
                                          range: c.fieldStart..<currentEnd))
            } else {
                truncated = true
            }
            current = nil
        }

        while pos < end {
            // Find the end of this line.
            let lf = buffer.firstIndex(of: ASCII.lf, from: pos, to: end)
            let lineEnd = lf.map { $0 &+ 1 } ?? end
            var contentEnd = lf ?? end
            if contentEnd > pos, buffer[contentEnd &- 1] == ASCII.cr { contentEnd &-= 1 }

            if contentEnd == pos {
                // Empty line: end of header (RFC 5322 §2.1). A lone CR line without LF at EOF counts too.
                flush()
                return HeaderBlock(fields: fields, range: start..<lineEnd, hasBlankLine: lf != nil || lineEnd > pos,
                                   fieldsTruncated: truncated)
            }
            let first = buffer[pos]
            if ASCII.isWSP(first) {
                // Continuation line (folding). Without a preceding field it is tolerated garbage.
                if current != nil {
                    currentValueEnd = contentEnd
                    currentEnd = lineEnd
                }
                pos = lineEnd
                firstLine = false
                continue
            }
            // field-name = 1*ftext (%d33-57 / %d59-126); obsolete WSP before the colon is allowed.
            var i = pos
            while i < contentEnd, buffer[i] > 32, buffer[i] < 127, buffer[i] != ASCII.colon { i &+= 1 }
            let nameEnd = i
            while i < contentEnd, ASCII.isWSP(buffer[i]) { i &+= 1 }
            if nameEnd > pos, i < contentEnd, buffer[i] == ASCII.colon {
                flush()
                current = (name: pos..<nameEnd, valueStart: i &+ 1, fieldStart: pos)
                currentValueEnd = contentEnd
                currentEnd = lineEnd
                pos = lineEnd
                firstLine = false
                continue
            }
            if firstLine, contentEnd &- pos >= 5, buffer[pos] == 0x46, buffer[pos &+ 1] == 0x72,
               buffer[pos &+ 2] == 0x6F, buffer[pos &+ 3] == 0x6D, buffer[pos &+ 4] == ASCII.space {
                // mbox "From " separator line: skip.
                pos = lineEnd
                firstLine = false
                continue
            }
            // Not a header line: the header ended without a blank line; the body starts here.
            flush()
            return HeaderBlock(fields: fields, range: start..<pos, hasBlankLine: false, fieldsTruncated: truncated)
        }
        flush()
        return HeaderBlock(fields: fields, range: start..<end, hasBlankLine: false, fieldsTruncated: truncated)
    }

    /// Parses a header at the start of `bytes`.
    public static func parse<C: Collection>(_ bytes: C) -> HeaderBlock where C.Element == UInt8 {
        withRawBytes(bytes) { parse($0, in: 0..<$0.count) }
    }

    /// The first field with the given (case-insensitive) name.
    public func first(_ name: String, in buffer: UnsafeRawBufferPointer) -> HeaderField? {
        let n = Array(name.utf8)
        return fields.first { $0.hasName(n, in: buffer) }
    }

    /// All fields with the given (case-insensitive) name, in order.
    public func all(_ name: String, in buffer: UnsafeRawBufferPointer) -> [HeaderField] {
        let n = Array(name.utf8)
        return fields.filter { $0.hasName(n, in: buffer) }
    }

    /// Unfolded, trimmed raw value of the first field named `name` (encoded words left as they are).
    public func rawValue(_ name: String, in buffer: UnsafeRawBufferPointer) -> [UInt8]? {
        first(name, in: buffer)?.unfoldedValue(in: buffer)
    }

    /// Display value of the first field named `name`: unfolded, RFC 2047 encoded words decoded and
    /// raw 8-bit text (RFC 6532) read as UTF-8 (or windows-1252 when it is not valid UTF-8).
    public func decodedValue(_ name: String, in buffer: UnsafeRawBufferPointer) -> String? {
        guard let raw = rawValue(name, in: buffer) else { return nil }
        return EncodedWord.decode(raw)
    }
}

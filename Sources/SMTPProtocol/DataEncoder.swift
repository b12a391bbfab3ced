/// Streaming dot-stuffing encoder for sending a message with DATA (RFC 5321 §4.5.2), the inverse of
/// ``DataDecoder``: a "." at the start of a line (after CRLF, or at the very start) is doubled, and
/// ``finish()`` returns the terminator, preceded by CRLF if the message did not end with one.
///
/// `normalizeLineEndings` (default true) turns bare CR and bare LF into CRLF, as RFC 5321 §2.3.8 requires of
/// clients and so that no receiver can mistake a bare LF for a line end ("SMTP smuggling"). With false,
/// bytes pass unchanged apart from stuffing, and `DataDecoder` restores them exactly (when the message ends
/// with CRLF).
public struct DataEncoder: Sendable {
    private enum State: Sendable { case lineStart, inLine, carriageReturn }
    private var state = State.lineStart
    public let normalizeLineEndings: Bool

    public init(normalizeLineEndings: Bool = true) {
        self.normalizeLineEndings = normalizeLineEndings
    }

    /// Encodes one chunk of the message, appending to `output`.
    public mutating func encode(_ chunk: ArraySlice<UInt8>, into output: inout [UInt8]) {
        var i = chunk.startIndex
        while i < chunk.endIndex {
            let b = chunk[i]
            switch state {
            case .lineStart:
                if b == ASCII.dot {
                    output.append(ASCII.dot)
                    output.append(ASCII.dot)
                    state = .inLine
                    i += 1
                } else {
                    state = .inLine
                }
            case .inLine:
                if b == ASCII.cr {
                    if !normalizeLineEndings { output.append(ASCII.cr) }
                    state = .carriageReturn
                } else if b == ASCII.lf && normalizeLineEndings {
                    output.append(ASCII.cr)
                    output.append(ASCII.lf)
                    state = .lineStart
                } else {
                    output.append(b)
                }
                i += 1
            case .carriageReturn:
                if b == ASCII.lf {
                    if normalizeLineEndings { output.append(ASCII.cr) }
                    output.append(ASCII.lf)
                    state = .lineStart
                    i += 1
                } else if normalizeLineEndings {
                    output.append(ASCII.cr)
                    output.append(ASCII.lf)
                    state = .lineStart  // bare CR became a line end; reprocess b
                } else {
                    state = .inLine  // the CR was already written; reprocess b
                }
            }
        }
    }

    /// Convenience returning the encoded bytes of this chunk.
    public mutating func encode(_ chunk: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        encode(chunk, into: &output)
        return output
    }

    /// The end of the message: CRLF if the last line is unterminated, then ".\r\n".
    public mutating func finish() -> [UInt8] {
        var output: [UInt8] = []
        switch state {
        case .lineStart: break
        case .inLine: output += [ASCII.cr, ASCII.lf]
        case .carriageReturn: output += normalizeLineEndings ? [ASCII.cr, ASCII.lf] : [ASCII.lf]
        }
        state = .lineStart
        output += [ASCII.dot, ASCII.cr, ASCII.lf]
        return output
    }
}

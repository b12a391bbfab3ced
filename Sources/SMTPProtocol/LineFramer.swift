/// Splits the command stream into lines, one at a time, with a hard bound on memory.
///
/// A line ends at LF; a CR right before it is removed too. Bare LF is accepted as a line end in command
/// mode (lenient, and harmless here: unlike DATA, no line content can be smuggled). The framer takes bytes
/// from the caller's buffer and reports how many it consumed, stopping after each line: the caller decides
/// what the bytes after a line are (DATA content after `DATA`'s 354, a BDAT chunk, TLS handshake after
/// STARTTLS, ...).
///
/// ```swift
/// var input: ArraySlice<UInt8> = received
/// while !input.isEmpty {
///     let (event, consumed) = framer.next(from: input)
///     input = input.dropFirst(consumed)
///     switch event { case .line(let l): handle(l); case .tooLong: reply(.lineTooLong); case nil: break }
/// }
/// ```
///
/// A line longer than ``maximumLineLength`` (CRLF excluded) is reported once, as ``Event/tooLong``, when its
/// LF finally arrives; its bytes are dropped as they come, so the internal buffer never holds more than
/// `maximumLineLength + 1` octets, even for a 10 MB line without LF.
public struct LineFramer: Sendable {
    /// What one step produced.
    public enum Event: Sendable, Hashable {
        /// A complete line, without its line ending.
        case line([UInt8])
        /// A line that exceeded the limit (already discarded).
        case tooLong
    }

    /// Longest line returned, line ending excluded.
    public let maximumLineLength: Int
    private var buffer: [UInt8] = []
    private var discarding = false

    /// `maximumLineLength` defaults to the SMTP command limit (1000 octets with CRLF). SASL response lines
    /// may need a larger framer (RFC 4954 §4 asks servers to cope with the encoded size of their
    /// mechanisms' responses; 12288 is customary). Swapping framers between lines is safe: right after a
    /// `.line`/`.tooLong` event the framer holds nothing.
    public init(maximumLineLength: Int = SMTPCommandParser.maximumLineLength) {
        self.maximumLineLength = max(1, maximumLineLength)
    }

    /// Bytes of an unfinished line held internally (at most `maximumLineLength + 1`).
    public var bufferedByteCount: Int { buffer.count }

    /// True when a partial line is pending (held or being discarded). After STARTTLS the server must check
    /// this and its own input buffer: plaintext pipelined behind STARTTLS must be thrown away, never
    /// executed inside TLS (RFC 3207 §5, CVE-2011-0411).
    public var hasPartialLine: Bool { !buffer.isEmpty || discarding }

    /// Forgets any partial line (e.g. after STARTTLS).
    public mutating func reset() {
        buffer = []
        discarding = false
    }

    /// Consumes bytes from the front of `input` up to and including the first LF and returns the event for
    /// that line, or consumes all of `input` and returns nil when no LF is in it.
    public mutating func next(from input: ArraySlice<UInt8>) -> (event: Event?, consumed: Int) {
        guard !input.isEmpty else { return (nil, 0) }
        guard let lf = ByteSearch.firstIndex(of: ASCII.lf, in: input) else {
            if !discarding {
                // Keep one octet of slack for a CR that may turn out to precede the LF.
                if buffer.count + input.count > maximumLineLength + 1 {
                    discarding = true
                    buffer = []
                } else {
                    buffer.append(contentsOf: input)
                }
            }
            return (nil, input.count)
        }
        let consumed = lf - input.startIndex + 1
        if discarding {
            discarding = false
            return (.tooLong, consumed)
        }
        let part = input[input.startIndex..<lf]
        let endsWithCR = part.isEmpty ? buffer.last == ASCII.cr : part.last == ASCII.cr
        let length = buffer.count + part.count - (endsWithCR ? 1 : 0)
        guard length <= maximumLineLength else {
            buffer.removeAll(keepingCapacity: true)
            return (.tooLong, consumed)
        }
        var line = buffer
        line.append(contentsOf: part)
        if endsWithCR { line.removeLast() }
        buffer.removeAll(keepingCapacity: true)
        return (.line(line), consumed)
    }
}

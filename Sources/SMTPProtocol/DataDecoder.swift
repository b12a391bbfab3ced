/// Streaming decoder for the DATA phase (RFC 5321 §4.5.2 transparency, §4.1.1.4 end of data).
///
/// Feed it whatever the connection delivers, split anywhere; it appends the message bytes to your buffer
/// and reports ``Status/done(consumed:)`` with how many bytes of the last chunk belonged to DATA, so
/// anything pipelined after the terminator goes back to the command parser. It never holds more than the
/// state of one pending CR and a possible leading dot: memory does not grow with the message.
///
/// Rules, all byte-exact — what is received is what is stored, minus only the dot-stuffing:
/// - A line is ended by CRLF only (RFC 5321 §2.3.8). Data starts right after the 354 reply, i.e. at the start
///   of a line, so `".\r\n"` as the first bytes is an empty message.
/// - The terminator is CRLF "." CRLF; the first CRLF belongs to the message (its last line ending).
/// - A line (CRLF to CRLF) that starts with "." and is not just "." loses that first dot (RFC 5321 §4.5.2).
/// - Bare LF and bare CR are ordinary data. They neither end a line nor start one, so `"\n.\n"`, `"\n.\r\n"`
///   and `"\r\n.\n"` are never terminators (the "SMTP smuggling" family), and a "." after a bare LF is kept
///   as is — consistent with clients, which dot-stuff only after CRLF. `"\r\n.\n"` is the line `".\n..."`,
///   so its dot is removed like any other leading dot. ``sawBareLineFeed``/``sawBareCarriageReturn`` let the
///   server refuse such messages if it wants to (as Postfix's `smtpd_forbid_bare_newline` does).
/// - Lines longer than 998 octets and 8-bit bytes pass through untouched.
///
/// Size: every decoded octet is counted in ``sizeCounter``. Once the limit is passed, nothing more is
/// appended (including the part of the chunk that crossed the limit) but decoding continues to the
/// terminator; the server then discards what it stored and replies 552 5.3.4.
public struct DataDecoder: Sendable {
    /// Where decoding stands after a chunk.
    public enum Status: Sendable, Hashable {
        /// All bytes of the chunk were DATA; feed the next chunk.
        case needMoreData
        /// The terminator ended in this chunk: its first `consumed` bytes were DATA (terminator included);
        /// the rest belongs to the command stream.
        case done(consumed: Int)
    }

    private enum State: Sendable {
        case lineStart, inLine, carriageReturn, dot, dotCarriageReturn, done
    }

    private var state = State.lineStart
    /// Octets of the decoded message so far, and the limit.
    public private(set) var sizeCounter: MessageSizeCounter
    /// A LF not preceded by CR was seen.
    public private(set) var sawBareLineFeed = false
    /// A CR not followed by LF was seen.
    public private(set) var sawBareCarriageReturn = false

    public init(maximumMessageSize: Int = .max) {
        self.sizeCounter = MessageSizeCounter(limit: maximumMessageSize)
    }

    /// True once the terminator has been read; further input is not DATA.
    public var isDone: Bool { state == .done }
    /// Decoded message size so far (keeps counting past the limit).
    public var messageSize: Int { sizeCounter.count }
    /// True when the message is larger than the limit.
    public var sizeLimitExceeded: Bool { sizeCounter.isExceeded }

    private static let crlf: [UInt8] = [ASCII.cr, ASCII.lf]
    private static let cr: [UInt8] = [ASCII.cr]

    /// Decodes `chunk`, appending message bytes to `output`. After ``Status/done(consumed:)`` the decoder
    /// ignores further input (returns `.done(consumed: 0)`).
    public mutating func decode(_ chunk: ArraySlice<UInt8>, into output: inout [UInt8]) -> Status {
        var i = chunk.startIndex
        let end = chunk.endIndex
        while i < end {
            switch state {
            case .inLine:
                // Fast path: everything up to the next CR is plain data.
                let runEnd = ByteSearch.firstIndex(of: ASCII.cr, in: chunk[i..<end]) ?? end
                if runEnd > i {
                    let run = chunk[i..<runEnd]
                    if !sawBareLineFeed, ByteSearch.firstIndex(of: ASCII.lf, in: run) != nil { sawBareLineFeed = true }
                    emit(run, into: &output)
                }
                if runEnd < end {
                    state = .carriageReturn
                    i = runEnd + 1
                } else {
                    i = end
                }
            case .carriageReturn:
                if chunk[i] == ASCII.lf {
                    emit(DataDecoder.crlf[...], into: &output)
                    state = .lineStart
                    i += 1
                } else {
                    sawBareCarriageReturn = true
                    emit(DataDecoder.cr[...], into: &output)
                    state = .inLine  // reprocess this byte as line data
                }
            case .lineStart:
                if chunk[i] == ASCII.dot {
                    state = .dot
                    i += 1
                } else {
                    state = .inLine
                }
            case .dot:
                if chunk[i] == ASCII.cr {
                    state = .dotCarriageReturn
                    i += 1
                } else {
                    state = .inLine  // RFC 5321 §4.5.2: the leading dot is deleted
                }
            case .dotCarriageReturn:
                if chunk[i] == ASCII.lf {
                    state = .done
                    return .done(consumed: i + 1 - chunk.startIndex)
                }
                // ".\r" then something else: the line is ".\r...", its dot is deleted and the CR is bare.
                sawBareCarriageReturn = true
                emit(DataDecoder.cr[...], into: &output)
                state = .inLine
            case .done:
                return .done(consumed: 0)
            }
        }
        return state == .done ? .done(consumed: 0) : .needMoreData
    }

    /// Convenience returning the decoded bytes of this chunk.
    public mutating func decode(_ chunk: ArraySlice<UInt8>) -> (body: [UInt8], status: Status) {
        var body: [UInt8] = []
        let status = decode(chunk, into: &body)
        return (body, status)
    }

    private mutating func emit(_ bytes: ArraySlice<UInt8>, into output: inout [UInt8]) {
        let wasExceeded = sizeCounter.isExceeded
        sizeCounter.add(bytes.count)
        if !wasExceeded && !sizeCounter.isExceeded {
            output.append(contentsOf: bytes)
        }
    }
}

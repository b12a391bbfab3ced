/// Encodes message bytes as a POP3 multi-line response body (RFC 1939 §3), chunk by chunk, so a large
/// message can be streamed from disk: a line starting with "." gets another "." in front, every line ends
/// in CRLF (a bare LF becomes CRLF, as stored messages may have bare LF line ends), and `finish` ends the
/// body with CRLF (if the last line was unterminated) and the terminating `.CRLF`.
public struct POP3ByteStuffer: Sendable {
    private var atLineStart = true
    private var afterCR = false
    /// Octets produced so far for the message itself (stuffing and terminator excluded).
    public private(set) var messageOctets = 0
    /// For `TOP`: whether the blank line after the header block has passed, and body lines since.
    private var inBody = false
    private var bodyLines = 0
    private var currentLineLength = 0

    public init() {}

    /// Appends the encoding of `chunk` to `output`.
    public mutating func encode(_ chunk: ArraySlice<UInt8>, into output: inout [UInt8]) {
        output.reserveCapacity(output.count + chunk.count + 16)
        for byte in chunk { emit(byte, into: &output) }
    }

    /// Like `encode`, but stops once the header block and `bodyLineLimit` body lines are out (POP3 `TOP`,
    /// RFC 1939 §7). Returns false when the limit has been reached (the caller stops reading).
    public mutating func encode(_ chunk: ArraySlice<UInt8>, bodyLineLimit: Int, into output: inout [UInt8]) -> Bool {
        for byte in chunk {
            if inBody && bodyLines >= bodyLineLimit { return false }
            emit(byte, into: &output)
            if byte == 0x0A {
                if inBody {
                    bodyLines += 1
                } else if currentLineLength == 0 {
                    inBody = true
                }
                currentLineLength = 0
            } else if byte != 0x0D {
                currentLineLength += 1
            }
        }
        return !(inBody && bodyLines >= bodyLineLimit)
    }

    /// Ends the response: CRLF if the message did not end with one, then `.CRLF`.
    public mutating func finish(into output: inout [UInt8]) {
        if afterCR {
            output.append(0x0A)
            messageOctets += 1
            afterCR = false
            atLineStart = true
        }
        if !atLineStart { output.append(contentsOf: [0x0D, 0x0A]) }
        output.append(contentsOf: [0x2E, 0x0D, 0x0A])
        atLineStart = true
    }

    private mutating func emit(_ byte: UInt8, into output: inout [UInt8]) {
        if byte == 0x0A {
            if !afterCR { output.append(0x0D); messageOctets += 1 }
            output.append(0x0A)
            messageOctets += 1
            afterCR = false
            atLineStart = true
            return
        }
        if afterCR {
            // A CR not followed by LF: keep it, it is part of the line.
            afterCR = false
        }
        if atLineStart && byte == 0x2E { output.append(0x2E) }
        atLineStart = false
        output.append(byte)
        messageOctets += 1
        if byte == 0x0D { afterCR = true }
    }
}

/// Why a DNS message could not be decoded or encoded.
///
/// Decoding errors carry the byte offset where the problem was found, for logs; no decoder path traps on
/// hostile input, every inconsistency surfaces as one of these.
public enum DNSWireError: Error, Sendable, Hashable {
    /// The message ended before a field it announced (RFC 1035 §4.1: the header counts and RDLENGTH are lies).
    case truncated(offset: Int)
    /// A compression pointer points at or after itself (RFC 1035 §4.1.4 only allows prior occurrences).
    case forwardPointer(offset: Int)
    /// A compression pointer leads back into a name being read, which would never end.
    case pointerLoop(offset: Int)
    /// A length octet with the top bits 01 or 10: an extended label type (retired by RFC 6891 §5) or,
    /// read as a length, a label over 63 octets (RFC 1035 §2.3.4).
    case unsupportedLabelType(offset: Int)
    /// A name longer than 255 octets in wire form (RFC 1035 §2.3.4).
    case nameTooLong(offset: Int)
    /// RDLENGTH reaches past the end of the message.
    case rdataOverrun(offset: Int)
    /// RDATA of a known type whose fields do not fill RDLENGTH exactly (e.g. an A record that is not 4 octets).
    case rdataLengthMismatch(type: UInt16, offset: Int)
    /// More records than `DNSMessage.maximumRecordCount`.
    case tooManyRecords(Int)
    /// A name given to the encoder is not a valid ASCII domain name (empty label, label > 63, name > 255, non-ASCII).
    case invalidName(String)
    /// A TXT character-string longer than 255 octets (RFC 1035 §3.3).
    case characterStringTooLong
    /// The encoded message or one RDATA would exceed 65535 octets.
    case messageTooLarge
}

/// A DNS message: header, question, answer, authority and additional sections (RFC 1035 §4.1).
///
/// Decode with `init(parsing:)`, encode with `encoded()`; `query(id:name:type:...)` builds the bytes of a
/// stub resolver's query.
public struct DNSMessage: Sendable, Hashable {
    /// The most records (all four sections together) a decoded message may hold. A 64 KiB message fits at
    /// most ~5400 compressed records; mail lookups need a few dozen.
    public static let maximumRecordCount = 1024

    public var id: UInt16
    /// QR: this is a response.
    public var isResponse: Bool
    /// OPCODE (4 bits): 0 is a standard QUERY.
    public var opcode: UInt8
    /// AA: authoritative answer.
    public var isAuthoritative: Bool
    /// TC: the response was truncated to fit UDP; retry over TCP (RFC 7766 §5).
    public var isTruncated: Bool
    /// RD: recursion desired.
    public var recursionDesired: Bool
    /// RA: recursion available.
    public var recursionAvailable: Bool
    /// AD: the validating resolver authenticated the answer with DNSSEC (RFC 4035 §3.2.3, RFC 6840 §5.7).
    public var authenticData: Bool
    /// CD: checking disabled (RFC 4035 §3.2.2).
    public var checkingDisabled: Bool
    /// The header's 4-bit RCODE; see `extendedResponseCode` for EDNS values.
    public var responseCode: DNSResponseCode
    public var questions: [DNSQuestion]
    public var answers: [DNSResourceRecord]
    public var authorities: [DNSResourceRecord]
    public var additionals: [DNSResourceRecord]

    public init(id: UInt16, isResponse: Bool = false, opcode: UInt8 = 0, isAuthoritative: Bool = false,
                isTruncated: Bool = false, recursionDesired: Bool = true, recursionAvailable: Bool = false,
                authenticData: Bool = false, checkingDisabled: Bool = false,
                responseCode: DNSResponseCode = .noError, questions: [DNSQuestion] = [],
                answers: [DNSResourceRecord] = [], authorities: [DNSResourceRecord] = [],
                additionals: [DNSResourceRecord] = []) {
        self.id = id
        self.isResponse = isResponse
        self.opcode = opcode
        self.isAuthoritative = isAuthoritative
        self.isTruncated = isTruncated
        self.recursionDesired = recursionDesired
        self.recursionAvailable = recursionAvailable
        self.authenticData = authenticData
        self.checkingDisabled = checkingDisabled
        self.responseCode = responseCode
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
    }

    /// The OPT pseudo-record, if the message carries one (RFC 6891 §6.1.1: at most one, in additionals).
    public var optRecord: DNSResourceRecord? {
        additionals.first { $0.type == .opt }
    }

    /// The full 12-bit RCODE: the OPT record's upper 8 bits joined to the header's 4 (RFC 6891 §6.1.3).
    public var extendedResponseCode: DNSResponseCode {
        guard let opt = optRecord else { return responseCode }
        return DNSResponseCode(rawValue: UInt16(opt.ttl >> 24) << 4 | (responseCode.rawValue & 0x0F))
    }

    /// The 16-bit flags word of the header (RFC 1035 §4.1.1).
    var flags: UInt16 {
        var flags: UInt16 = 0
        if isResponse { flags |= 0x8000 }
        flags |= UInt16(opcode & 0x0F) << 11
        if isAuthoritative { flags |= 0x0400 }
        if isTruncated { flags |= 0x0200 }
        if recursionDesired { flags |= 0x0100 }
        if recursionAvailable { flags |= 0x0080 }
        if authenticData { flags |= 0x0020 }
        if checkingDisabled { flags |= 0x0010 }
        flags |= responseCode.rawValue & 0x000F
        return flags
    }
}

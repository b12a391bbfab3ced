/// One resource record of the answer, authority or additional section (RFC 1035 §4.1.3).
public struct DNSResourceRecord: Sendable, Hashable {
    /// The owner name: lowercased, without trailing dot; "" is the root.
    public var name: String
    /// CLASS; for OPT this is the requestor's UDP payload size (RFC 6891 §6.1.2).
    public var recordClass: UInt16
    /// Seconds; RFC 2181 §8 says values above 2^31-1 mean 0, which the resolver applies.
    public var ttl: UInt32
    public var data: DNSRecordData

    /// The TYPE, derived from `data` so the two cannot disagree.
    public var type: DNSRecordType { data.type }

    public init(name: String, recordClass: UInt16 = DNSClass.internet, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.recordClass = recordClass
        self.ttl = ttl
        self.data = data
    }

    /// An EDNS(0) OPT pseudo-record advertising `udpPayloadSize` (RFC 6891 §6.1.2, §6.2.5: 1232 avoids
    /// IP fragmentation on common paths), version 0, no options.
    public static func opt(udpPayloadSize: UInt16 = 1232, dnssecOK: Bool = false) -> DNSResourceRecord {
        // TTL field: extended RCODE (8) | version (8) | DO (1) | Z (15).
        DNSResourceRecord(name: "", recordClass: udpPayloadSize, ttl: dnssecOK ? 0x8000 : 0,
                          data: .other(type: .opt, data: []))
    }
}

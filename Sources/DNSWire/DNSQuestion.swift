/// One entry of the question section (RFC 1035 §4.1.2).
public struct DNSQuestion: Sendable, Hashable {
    /// Lowercased, without trailing dot; "" is the root.
    public var name: String
    public var type: DNSRecordType
    /// QCLASS, `DNSClass.internet` for everything mail does.
    public var recordClass: UInt16

    public init(name: String, type: DNSRecordType, recordClass: UInt16 = DNSClass.internet) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
    }
}

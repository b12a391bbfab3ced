/// Writes a message in wire form, compressing names against earlier ones (RFC 1035 §4.1.4).
struct DNSWireWriter {
    private(set) var bytes: [UInt8] = []
    /// Lowercased name suffix → offset of its first occurrence; only offsets a 14-bit pointer can reach.
    private var suffixOffsets: [String: Int] = [:]
    private let compress: Bool

    init(compress: Bool) {
        self.compress = compress
    }

    mutating func writeUInt8(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func writeUInt16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func writeUInt32(_ value: UInt32) {
        writeUInt16(UInt16(truncatingIfNeeded: value >> 16))
        writeUInt16(UInt16(truncatingIfNeeded: value))
    }

    mutating func writeBytes(_ value: some Collection<UInt8>) {
        bytes.append(contentsOf: value)
    }

    /// Writes a validated name, ending in a pointer to the longest suffix already written when compressing.
    mutating func writeName(_ name: String) throws(DNSWireError) {
        let labels = try DNSName.labels(name)
        for index in labels.indices {
            let suffix = String(decoding: labels[index...].joined(separator: [UInt8(ascii: ".")])
                .map(DNSName.lowercased), as: UTF8.self)
            if compress, let target = suffixOffsets[suffix] {
                writeUInt16(0xC000 | UInt16(target))
                return
            }
            if bytes.count < 0x4000 && suffixOffsets[suffix] == nil {
                suffixOffsets[suffix] = bytes.count
            }
            writeUInt8(UInt8(labels[index].count))
            writeBytes(labels[index])
        }
        writeUInt8(0)
    }

    mutating func writeRecord(_ record: DNSResourceRecord) throws(DNSWireError) {
        try writeName(record.name)
        writeUInt16(record.type.rawValue)
        writeUInt16(record.recordClass)
        writeUInt32(record.ttl)
        let lengthOffset = bytes.count
        writeUInt16(0)
        let rdataStart = bytes.count
        switch record.data {
        case .a(let address):
            writeBytes(address.bytes)
        case .aaaa(let address):
            writeBytes(address.bytes)
        case .mx(let preference, let exchange):
            writeUInt16(preference)
            try writeName(exchange)
        case .cname(let target), .ns(let target):
            try writeName(target)
        case .soa(let soa):
            try writeName(soa.primaryServer)
            try writeName(soa.responsibleMailbox)
            for value in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] { writeUInt32(value) }
        case .txt(let strings):
            for string in strings {
                guard string.count <= 255 else { throw .characterStringTooLong }
                writeUInt8(UInt8(string.count))
                writeBytes(string)
            }
        case .tlsa(let usage, let selector, let matchingType, let data):
            writeUInt8(usage)
            writeUInt8(selector)
            writeUInt8(matchingType)
            writeBytes(data)
        case .other(_, let data):
            writeBytes(data)
        }
        let rdataLength = bytes.count - rdataStart
        guard rdataLength <= Int(UInt16.max) else { throw .messageTooLarge }
        bytes[lengthOffset] = UInt8(truncatingIfNeeded: rdataLength >> 8)
        bytes[lengthOffset + 1] = UInt8(truncatingIfNeeded: rdataLength)
    }
}

extension DNSMessage {
    /// Encodes the message (RFC 1035 §4.1); names in owner fields and in NS/CNAME/SOA/MX RDATA are
    /// compressed when `compress` is set (RFC 3597 §4 allows it for those types only).
    ///
    /// Throws for invalid names, over-long TXT strings, or a message over 65535 octets.
    public func encoded(compress: Bool = true) throws(DNSWireError) -> [UInt8] {
        let counts = [questions.count, answers.count, authorities.count, additionals.count]
        guard counts.allSatisfy({ $0 <= Int(UInt16.max) }) else { throw .messageTooLarge }
        var writer = DNSWireWriter(compress: compress)
        writer.writeUInt16(id)
        writer.writeUInt16(flags)
        for count in counts { writer.writeUInt16(UInt16(count)) }
        for question in questions {
            try writer.writeName(question.name)
            writer.writeUInt16(question.type.rawValue)
            writer.writeUInt16(question.recordClass)
        }
        for record in answers { try writer.writeRecord(record) }
        for record in authorities { try writer.writeRecord(record) }
        for record in additionals { try writer.writeRecord(record) }
        guard writer.bytes.count <= Int(UInt16.max) else { throw .messageTooLarge }
        return writer.bytes
    }

    /// The bytes of a stub resolver's standard query for one name and type (RFC 1035 §4.1.1, §7.1).
    ///
    /// `name` is validated (ASCII A-labels, labels 1...63 octets, name ≤ 255 octets). With a
    /// `udpPayloadSize` an EDNS(0) OPT record advertises it (RFC 6891 §6.2.3; 1232 by default, §6.2.5).
    /// `authenticData` asks a validating resolver to report DNSSEC status in the AD bit (RFC 6840 §5.7).
    public static func query(id: UInt16, name: String, type: DNSRecordType, recursionDesired: Bool = true,
                             udpPayloadSize: UInt16? = 1232,
                             authenticData: Bool = false) throws(DNSWireError) -> [UInt8] {
        let normalized = try DNSName.normalized(name)
        let message = DNSMessage(
            id: id, recursionDesired: recursionDesired, authenticData: authenticData,
            questions: [DNSQuestion(name: normalized, type: type)],
            additionals: udpPayloadSize.map { [DNSResourceRecord.opt(udpPayloadSize: $0)] } ?? [])
        return try message.encoded()
    }

    /// A caller's name in the form decoded messages use: validated, lowercased ASCII, no trailing dot.
    /// Throws `DNSWireError.invalidName` for anything `query` would refuse.
    public static func normalizedName(_ name: String) throws(DNSWireError) -> String {
        try DNSName.normalized(name)
    }
}

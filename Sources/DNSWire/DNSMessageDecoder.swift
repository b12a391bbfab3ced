/// Reads big-endian fields and compressed names out of one complete DNS message.
///
/// Every read is bounds-checked against the message (or a narrower RDATA limit) and throws instead of
/// trapping; offsets are plain `Int`s that only ever grow by small checked amounts.
struct DNSWireReader {
    let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func readUInt8(limit: Int) throws(DNSWireError) -> UInt8 {
        guard offset < limit else { throw .truncated(offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUInt16(limit: Int) throws(DNSWireError) -> UInt16 {
        guard limit - offset >= 2 else { throw .truncated(offset: offset) }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func readUInt32(limit: Int) throws(DNSWireError) -> UInt32 {
        guard limit - offset >= 4 else { throw .truncated(offset: offset) }
        defer { offset += 4 }
        return bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func readBytes(_ count: Int, limit: Int) throws(DNSWireError) -> [UInt8] {
        guard count >= 0, limit - offset >= count else { throw .truncated(offset: offset) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// Reads a possibly compressed name (RFC 1035 §4.1.4) starting at `offset`.
    ///
    /// The uncompressed part must lie before `limit` (the end of the RDATA holding it). A pointer must
    /// point strictly before the start of the run of labels it ends: that rejects forward and self
    /// pointers and makes every jump go backwards past all bytes read so far, so no loop can form and the
    /// walk ends after at most one pass over the message.
    mutating func readName(limit: Int) throws(DNSWireError) -> String {
        var output: [UInt8] = []
        var position = offset
        var runStart = offset
        var end = limit
        var wireLength = 1
        var jumped = false
        while true {
            guard position < end else { throw .truncated(offset: position) }
            let length = bytes[position]
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    if !jumped { offset = position + 1 }
                    return String(decoding: output, as: UTF8.self)
                }
                // With the top two bits clear a label is at most 63 octets (RFC 1035 §2.3.4).
                let labelLength = Int(length)
                wireLength += labelLength + 1
                guard wireLength <= DNSName.maximumWireLength else { throw .nameTooLong(offset: position) }
                guard end - position - 1 >= labelLength else { throw .truncated(offset: position) }
                if !output.isEmpty { output.append(UInt8(ascii: ".")) }
                DNSName.appendPresentation(of: bytes[position + 1..<position + 1 + labelLength], to: &output)
                position += 1 + labelLength
            case 0xC0:
                guard end - position >= 2 else { throw .truncated(offset: position) }
                let target = Int(length & 0x3F) << 8 | Int(bytes[position + 1])
                if target >= position { throw .forwardPointer(offset: position) }
                if target >= runStart { throw .pointerLoop(offset: position) }
                if !jumped {
                    offset = position + 2
                    jumped = true
                }
                position = target
                runStart = target
                end = bytes.count
            default:
                // 01 and 10: extended/reserved label types, or a "label" of 64...191 octets.
                throw .unsupportedLabelType(offset: position)
            }
        }
    }
}

extension DNSMessage {
    /// Decodes one complete message (a UDP payload, or a TCP frame without its length prefix).
    ///
    /// Hostile input (short buffers, header counts that lie, RDLENGTH past the end, pointer loops, forward
    /// pointers, oversized names) throws `DNSWireError`; nothing is allocated from a count before the bytes
    /// backing it have been seen. Bytes after the last announced record are ignored.
    public init(parsing bytes: [UInt8]) throws(DNSWireError) {
        var reader = DNSWireReader(bytes)
        let end = bytes.count
        let id = try reader.readUInt16(limit: end)
        let flags = try reader.readUInt16(limit: end)
        let questionCount = Int(try reader.readUInt16(limit: end))
        let answerCount = Int(try reader.readUInt16(limit: end))
        let authorityCount = Int(try reader.readUInt16(limit: end))
        let additionalCount = Int(try reader.readUInt16(limit: end))
        let total = questionCount + answerCount + authorityCount + additionalCount
        guard total <= DNSMessage.maximumRecordCount else { throw .tooManyRecords(total) }

        var questions: [DNSQuestion] = []
        for _ in 0..<questionCount {
            let name = try reader.readName(limit: end)
            let type = DNSRecordType(rawValue: try reader.readUInt16(limit: end))
            let recordClass = try reader.readUInt16(limit: end)
            questions.append(DNSQuestion(name: name, type: type, recordClass: recordClass))
        }
        var answers: [DNSResourceRecord] = []
        for _ in 0..<answerCount { answers.append(try Self.readRecord(&reader)) }
        var authorities: [DNSResourceRecord] = []
        for _ in 0..<authorityCount { authorities.append(try Self.readRecord(&reader)) }
        var additionals: [DNSResourceRecord] = []
        for _ in 0..<additionalCount { additionals.append(try Self.readRecord(&reader)) }

        self.init(id: id,
                  isResponse: flags & 0x8000 != 0,
                  opcode: UInt8(truncatingIfNeeded: (flags >> 11) & 0x0F),
                  isAuthoritative: flags & 0x0400 != 0,
                  isTruncated: flags & 0x0200 != 0,
                  recursionDesired: flags & 0x0100 != 0,
                  recursionAvailable: flags & 0x0080 != 0,
                  authenticData: flags & 0x0020 != 0,
                  checkingDisabled: flags & 0x0010 != 0,
                  responseCode: DNSResponseCode(rawValue: flags & 0x000F),
                  questions: questions, answers: answers, authorities: authorities, additionals: additionals)
    }

    /// RFC 1035 §4.1.3: NAME TYPE CLASS TTL RDLENGTH RDATA.
    private static func readRecord(_ reader: inout DNSWireReader) throws(DNSWireError) -> DNSResourceRecord {
        let end = reader.bytes.count
        let name = try reader.readName(limit: end)
        let type = DNSRecordType(rawValue: try reader.readUInt16(limit: end))
        let recordClass = try reader.readUInt16(limit: end)
        let ttl = try reader.readUInt32(limit: end)
        let rdataLength = Int(try reader.readUInt16(limit: end))
        let rdataStart = reader.offset
        guard end - rdataStart >= rdataLength else { throw .rdataOverrun(offset: rdataStart) }
        let rdataEnd = rdataStart + rdataLength
        let data = try readRecordData(type: type, end: rdataEnd, &reader)
        guard reader.offset == rdataEnd else {
            throw .rdataLengthMismatch(type: type.rawValue, offset: rdataStart)
        }
        return DNSResourceRecord(name: name, recordClass: recordClass, ttl: ttl, data: data)
    }

    /// Decodes RDATA that must fill `rdataStart..<end` exactly; a field crossing `end` is a length mismatch.
    private static func readRecordData(type: DNSRecordType, end: Int,
                                       _ reader: inout DNSWireReader) throws(DNSWireError) -> DNSRecordData {
        let start = reader.offset
        do throws(DNSWireError) {
            switch type {
            case .a:
                guard let address = DNSIPv4Address(bytes: try reader.readBytes(end - start, limit: end)) else {
                    throw DNSWireError.rdataLengthMismatch(type: type.rawValue, offset: start)
                }
                return .a(address)
            case .aaaa:
                guard let address = DNSIPv6Address(bytes: try reader.readBytes(end - start, limit: end)) else {
                    throw DNSWireError.rdataLengthMismatch(type: type.rawValue, offset: start)
                }
                return .aaaa(address)
            case .mx:
                let preference = try reader.readUInt16(limit: end)
                return .mx(preference: preference, exchange: try reader.readName(limit: end))
            case .cname:
                return .cname(try reader.readName(limit: end))
            case .ns:
                return .ns(try reader.readName(limit: end))
            case .soa:
                let primary = try reader.readName(limit: end)
                let mailbox = try reader.readName(limit: end)
                return .soa(DNSStartOfAuthority(
                    primaryServer: primary, responsibleMailbox: mailbox,
                    serial: try reader.readUInt32(limit: end), refresh: try reader.readUInt32(limit: end),
                    retry: try reader.readUInt32(limit: end), expire: try reader.readUInt32(limit: end),
                    minimum: try reader.readUInt32(limit: end)))
            case .txt:
                var strings: [[UInt8]] = []
                while reader.offset < end {
                    let length = Int(try reader.readUInt8(limit: end))
                    strings.append(try reader.readBytes(length, limit: end))
                }
                return .txt(strings)
            case .tlsa:
                let usage = try reader.readUInt8(limit: end)
                let selector = try reader.readUInt8(limit: end)
                let matchingType = try reader.readUInt8(limit: end)
                return .tlsa(usage: usage, selector: selector, matchingType: matchingType,
                             data: try reader.readBytes(end - reader.offset, limit: end))
            case .opt, .raw:
                return .other(type: type, data: try reader.readBytes(end - start, limit: end))
            }
        } catch .truncated(_) {
            // Inside RDATA, running out means RDLENGTH disagrees with the fields, not a short message.
            throw .rdataLengthMismatch(type: type.rawValue, offset: start)
        }
    }
}

/// A DKIM tag=value list (RFC 6376 §3.2), as in DKIM-Signature fields and key records.
///
///     tag-list  =  tag-spec *( ";" tag-spec ) [ ";" ]
///     tag-spec  =  [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
///     tag-name  =  ALPHA *ALNUMPUNC
///
/// Values keep their inner whitespace; callers strip it where the grammar allows FWS (b=, bh=, p=, h=).
struct DKIMTagList {
    enum ParseError: Error, Equatable {
        case missingEquals
        case invalidTagName(String)
        case duplicateTag(String)
    }

    private(set) var tags: [(name: String, value: String)] = []
    private var index: [String: Int] = [:]

    subscript(name: String) -> String? {
        index[name].map { tags[$0].value }
    }

    init(_ bytes: ArraySlice<UInt8>) throws(ParseError) {
        for spec in bytes.split(separator: ASCII.semicolon, omittingEmptySubsequences: false) {
            let trimmed = Self.trimmingFWS(spec)
            if trimmed.isEmpty { continue }  // the optional trailing ";" (and stray empty specs)
            guard let equals = trimmed.firstIndex(of: ASCII.equals) else { throw .missingEquals }
            let name = String(decoding: Self.trimmingFWS(trimmed[trimmed.startIndex..<equals]), as: UTF8.self)
            guard Self.isTagName(name) else { throw .invalidTagName(name) }
            guard index[name] == nil else { throw .duplicateTag(name) }
            let value = String(decoding: Self.trimmingFWS(trimmed[(equals + 1)...]), as: UTF8.self)
            index[name] = tags.count
            tags.append((name, value))
        }
    }

    init(_ text: String) throws(ParseError) {
        try self.init(Array(text.utf8)[...])
    }

    static func isTagName(_ name: String) -> Bool {
        guard let first = name.utf8.first, isAlpha(first) else { return false }
        return name.utf8.allSatisfy { isAlpha($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
    }

    private static func isAlpha(_ byte: UInt8) -> Bool {
        (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    static func isFWS(_ byte: UInt8) -> Bool {
        ASCII.isWSP(byte) || byte == ASCII.cr || byte == ASCII.lf
    }

    static func trimmingFWS(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, isFWS(bytes[start]) { start += 1 }
        while end > start, isFWS(bytes[end - 1]) { end -= 1 }
        return bytes[start..<end]
    }

    /// The value with every FWS byte removed (base64 values may be folded anywhere, RFC 6376 §3.5).
    static func removingFWS(_ value: String) -> String {
        String(decoding: value.utf8.filter { !isFWS($0) }, as: UTF8.self)
    }

    /// A DKIM-Signature value with the value of its `b=` tag, and the whitespace around it, deleted
    /// (RFC 6376 §3.7: this is what the signature covers). Other tags are left byte for byte.
    static func removingSignatureValue(from value: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(value.count)
        var specStart = value.startIndex
        while true {
            let specEnd = value[specStart...].firstIndex(of: ASCII.semicolon) ?? value.endIndex
            let spec = value[specStart..<specEnd]
            if let equals = spec.firstIndex(of: ASCII.equals),
               trimmingFWS(spec[spec.startIndex..<equals]).elementsEqual([0x62]) {  // "b"
                output.append(contentsOf: spec[spec.startIndex...equals])
            } else {
                output.append(contentsOf: spec)
            }
            guard specEnd < value.endIndex else { break }
            output.append(ASCII.semicolon)
            specStart = specEnd + 1
        }
        return output
    }
}

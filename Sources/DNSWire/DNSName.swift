/// Domain name rules shared by the encoder and decoder (RFC 1035 §2.3.4, §3.1, §4.1.4).
///
/// Names are handled in presentation form: lowercased ASCII labels joined by ".", no trailing dot, root as "".
enum DNSName {
    /// RFC 1035 §2.3.4: 255 octets including length octets and the terminating zero.
    static let maximumWireLength = 255
    /// RFC 1035 §2.3.4.
    static let maximumLabelLength = 63

    /// Splits a caller's name into wire labels (case kept), validating it.
    ///
    /// Accepts "" or "." for the root and one optional trailing dot. Labels are 1...63 octets of printable
    /// ASCII other than "." and "\"; callers convert IDNs to A-labels (RFC 5890) first.
    static func labels(_ name: String) throws(DNSWireError) -> [ArraySlice<UInt8>] {
        var bytes = Array(name.utf8)
        if bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
        if bytes.isEmpty { return [] }
        var labels: [ArraySlice<UInt8>] = []
        var wireLength = 1
        for label in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= maximumLabelLength,
                  label.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") })
            else { throw .invalidName(name) }
            wireLength += label.count + 1
            guard wireLength <= maximumWireLength else { throw .invalidName(name) }
            labels.append(label)
        }
        return labels
    }

    /// The canonical presentation form of a caller's name: validated, lowercased, without the trailing dot.
    static func normalized(_ name: String) throws(DNSWireError) -> String {
        let labels = try labels(name)
        return String(decoding: labels.joined(separator: [UInt8(ascii: ".")]).map(lowercased), as: UTF8.self)
    }

    static func lowercased(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
    }

    /// Appends one received label in presentation form: lowercased, with octets that would make the name
    /// ambiguous or non-ASCII ("." "\" controls, space, 8-bit) escaped as \DDD (RFC 1035 §5.1). Such names
    /// can never be re-encoded, so a hostile label cannot smuggle a different name through.
    static func appendPresentation(of label: ArraySlice<UInt8>, to output: inout [UInt8]) {
        for byte in label {
            if byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: ".") && byte != UInt8(ascii: "\\") {
                output.append(lowercased(byte))
            } else {
                output.append(UInt8(ascii: "\\"))
                output.append(UInt8(ascii: "0") + byte / 100)
                output.append(UInt8(ascii: "0") + byte / 10 % 10)
                output.append(UInt8(ascii: "0") + byte % 10)
            }
        }
    }
}

/// DKIM canonicalization (RFC 6376 §3.4): the forms of header fields and body that are hashed.
///
/// Line endings: only CRLF exists on the wire, so a bare LF in the input is taken as a line end and
/// hashed as CRLF, matching what the SMTP client will transmit.
public enum DKIMCanonicalization {
    /// "relaxed" header canonicalization (RFC 6376 §3.4.2) of one field, followed by CRLF:
    /// name lowercased, value unfolded, WSP runs reduced to one SP, WSP before and after the value
    /// removed (and any WSP around the colon).
    public static func relaxedHeader(name: String, value: ArraySlice<UInt8>) -> [UInt8] {
        var output = relaxedHeaderWithoutLineEnd(name: Array(name.utf8)[...], value: value)
        output.append(contentsOf: ASCII.crlf)
        return output
    }

    /// "relaxed" body canonicalization (RFC 6376 §3.4.4) of a whole body, in one call.
    /// Same output as `DKIMBodyHasher` hashes.
    public static func relaxedBody(_ body: ArraySlice<UInt8>) -> [UInt8] {
        var canonicalizer = RelaxedBodyCanonicalizer()
        var sink = CollectingBodySink()
        canonicalizer.feed(body, into: &sink)
        canonicalizer.finish(into: &sink)
        return sink.bytes
    }

    static func relaxedHeaderWithoutLineEnd(name: ArraySlice<UInt8>, value: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(name.count + value.count + 3)
        var nameEnd = name.endIndex
        while nameEnd > name.startIndex, ASCII.isWSP(name[nameEnd - 1]) { nameEnd -= 1 }
        for byte in name[name.startIndex..<nameEnd] { output.append(ASCII.lowercased(byte)) }
        output.append(ASCII.colon)

        var pendingSpace = false
        var started = false
        var index = value.startIndex
        while index < value.endIndex {
            let byte = value[index]
            if byte == ASCII.cr, index + 1 < value.endIndex, value[index + 1] == ASCII.lf {
                index += 2  // unfold: the CRLF goes, the WSP after it is compressed below
                continue
            }
            if byte == ASCII.lf {
                index += 1
                continue
            }
            if ASCII.isWSP(byte) {
                pendingSpace = true
            } else {
                if pendingSpace && started { output.append(ASCII.space) }
                pendingSpace = false
                started = true
                output.append(byte)
            }
            index += 1
        }
        return output
    }

    /// "simple" header canonicalization (RFC 6376 §3.4.1): the field unchanged, bare LFs as CRLF.
    /// Used only when verifying; without the final CRLF.
    static func simpleHeaderWithoutLineEnd(name: ArraySlice<UInt8>, value: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(name.count + value.count + 3)
        output.append(contentsOf: name)
        output.append(ASCII.colon)
        var previous: UInt8 = 0
        for byte in value {
            if byte == ASCII.lf && previous != ASCII.cr { output.append(ASCII.cr) }
            output.append(byte)
            previous = byte
        }
        return output
    }

    /// "simple" body canonicalization (RFC 6376 §3.4.3): trailing empty lines removed, a CRLF added when
    /// missing, so an empty body becomes one CRLF. Used only when verifying.
    static func simpleBody(_ body: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(body.count + 2)
        var previous: UInt8 = 0
        for byte in body {
            if byte == ASCII.lf && previous != ASCII.cr { output.append(ASCII.cr) }
            output.append(byte)
            previous = byte
        }
        if !output.ends(with: ASCII.crlf) { output.append(contentsOf: ASCII.crlf) }
        while output.count >= 4, output[output.count - 4] == ASCII.cr, output[output.count - 3] == ASCII.lf,
              output[output.count - 2] == ASCII.cr, output[output.count - 1] == ASCII.lf {
            output.removeLast(2)
        }
        return output
    }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && self[(count - suffix.count)...].elementsEqual(suffix)
    }
}

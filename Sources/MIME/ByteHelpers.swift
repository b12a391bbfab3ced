// Small byte-level helpers shared by the MIME parsers. Everything here works on
// `UnsafeRawBufferPointer` so a 140 MiB message is scanned in place, never copied.

/// ASCII byte constants used by the RFC 5322 / RFC 2045 grammars.
enum ASCII {
    static let nul: UInt8 = 0x00
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let dquote: UInt8 = 0x22
    static let hash: UInt8 = 0x23
    static let percent: UInt8 = 0x25
    static let ampersand: UInt8 = 0x26
    static let apostrophe: UInt8 = 0x27
    static let lparen: UInt8 = 0x28
    static let rparen: UInt8 = 0x29
    static let star: UInt8 = 0x2A
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let minus: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let slash: UInt8 = 0x2F
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let less: UInt8 = 0x3C
    static let equals: UInt8 = 0x3D
    static let greater: UInt8 = 0x3E
    static let question: UInt8 = 0x3F
    static let at: UInt8 = 0x40
    static let lbracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let rbracket: UInt8 = 0x5D
    static let underscore: UInt8 = 0x5F

    @inline(__always) static func isWSP(_ b: UInt8) -> Bool { b == space || b == tab }
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= zero && b <= nine }
    @inline(__always) static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b }

    /// Value of a hexadecimal digit, or nil.
    @inline(__always) static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b &- 0x30
        case 0x41...0x46: return b &- 0x41 &+ 10
        case 0x61...0x66: return b &- 0x61 &+ 10
        default: return nil
        }
    }

    /// RFC 2045 §5.1 `tspecials`.
    static func isTSpecial(_ b: UInt8) -> Bool {
        switch b {
        case lparen, rparen, less, greater, at, comma, semicolon, colon, backslash, dquote, slash,
             lbracket, rbracket, question, equals:
            return true
        default:
            return false
        }
    }

    /// RFC 2045 §5.1 `token` character: printable US-ASCII except SPACE, CTLs and tspecials.
    @inline(__always) static func isTokenChar(_ b: UInt8) -> Bool {
        b > 0x20 && b < 0x7F && !isTSpecial(b)
    }
}

extension Array where Element == UInt8 {
    /// ASCII-lowercased copy (bytes >= 0x80 untouched).
    var asciiLowercased: [UInt8] { map(ASCII.lower) }

    /// Case-insensitive ASCII comparison with a Swift string literal.
    func equalsCaseInsensitive(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count == count else { return false }
        for i in 0..<count where ASCII.lower(self[i]) != ASCII.lower(u[i]) { return false }
        return true
    }

    /// Copy without leading and trailing SP / HTAB / CR / LF.
    var trimmingWhitespace: [UInt8] {
        var lo = startIndex
        var hi = endIndex
        while lo < hi, ASCII.isWSP(self[lo]) || self[lo] == ASCII.cr || self[lo] == ASCII.lf { lo += 1 }
        while hi > lo, ASCII.isWSP(self[hi - 1]) || self[hi - 1] == ASCII.cr || self[hi - 1] == ASCII.lf { hi -= 1 }
        return Array(self[lo..<hi])
    }
}

/// Case-insensitive ASCII comparison of two byte arrays.
func asciiCaseInsensitiveEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    for i in 0..<a.count where ASCII.lower(a[i]) != ASCII.lower(b[i]) { return false }
    return true
}

extension UnsafeRawBufferPointer {
    /// Bytes of `range`, clamped to the buffer, copied into an array (used only for small header values).
    func bytes(_ range: Range<Int>) -> [UInt8] {
        let lo = Swift.max(0, Swift.min(range.lowerBound, count))
        let hi = Swift.max(lo, Swift.min(range.upperBound, count))
        return Array(self[lo..<hi])
    }

    /// Index of the first `byte` in `from..<to`, or nil.
    @inline(__always) func firstIndex(of byte: UInt8, from: Int, to: Int) -> Int? {
        var i = from
        while i < to {
            if self[i] == byte { return i }
            i &+= 1
        }
        return nil
    }

    /// Number of LF bytes in `range` (RFC 9051 `body-fld-lines` counts lines as servers commonly do: by line feeds).
    func countLineFeeds(_ range: Range<Int>) -> Int {
        var n = 0
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            if self[i] == ASCII.lf { n &+= 1 }
            i &+= 1
        }
        return n
    }
}

/// Runs `body` with a raw view of any byte collection, without copying when storage is contiguous.
@inline(__always)
func withRawBytes<C: Collection, R>(_ bytes: C, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
where C.Element == UInt8 {
    if let r = try bytes.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) {
        return r
    }
    return try Array(bytes).withUnsafeBytes(body)
}

/// Removes folding line breaks (RFC 5322 §2.2.3: CRLF followed by WSP) keeping the WSP; bare LF is
/// treated like CRLF. A CR or LF not followed by WSP (only possible at the end) is dropped as well.
func unfold(_ value: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(value.count)
    for b in value where b != ASCII.cr && b != ASCII.lf { out.append(b) }
    return out
}

/// True when `bytes` is well-formed UTF-8.
func isValidUTF8(_ bytes: [UInt8]) -> Bool {
    var it = bytes.makeIterator()
    var decoder = UTF8()
    while true {
        switch decoder.decode(&it) {
        case .scalarValue: continue
        case .emptyInput: return true
        case .error: return false
        }
    }
}

/// True when any byte is >= 0x80.
func hasEightBit(_ bytes: [UInt8]) -> Bool {
    bytes.contains { $0 >= 0x80 }
}

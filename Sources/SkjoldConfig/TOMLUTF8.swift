// Input validation: TOML documents are UTF-8 (TOML 1.0 §Spec).

extension TOMLReader {
    /// The offset of the first byte that does not start a well-formed UTF-8 sequence (RFC 3629 §4:
    /// no overlong forms, no surrogates, nothing above U+10FFFF).
    static func firstInvalidUTF8(_ b: [UInt8]) -> Int? {
        var i = 0
        let n = b.count
        while i < n {
            let c = b[i]
            if c < 0x80 {
                i += 1
                continue
            }
            let need: Int
            var scalar: UInt32
            let minimum: UInt32
            switch c {
            case 0xC2...0xDF: need = 1; scalar = UInt32(c & 0x1F); minimum = 0x80
            case 0xE0...0xEF: need = 2; scalar = UInt32(c & 0x0F); minimum = 0x800
            case 0xF0...0xF4: need = 3; scalar = UInt32(c & 0x07); minimum = 0x10000
            default: return i
            }
            guard i + need < n else { return i }
            for k in 1...need {
                let cc = b[i + k]
                guard cc & 0xC0 == 0x80 else { return i }
                scalar = scalar << 6 | UInt32(cc & 0x3F)
            }
            if scalar < minimum || scalar > 0x10FFFF || (0xD800...0xDFFF).contains(scalar) { return i }
            i += need + 1
        }
        return nil
    }
}

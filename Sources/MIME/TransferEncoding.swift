/// A Content-Transfer-Encoding mechanism (RFC 2045 §6.1).
public enum TransferEncoding: Sendable, Hashable, Codable {
    case sevenBit
    case eightBit
    case binary
    case base64
    case quotedPrintable
    /// An unrecognised mechanism (RFC 2045 §6.4: treat the body as application/octet-stream).
    case other([UInt8])

    /// Parses a header value; whitespace and case are ignored (RFC 2045 §6.1 "not case sensitive").
    public init(headerValue: [UInt8]) {
        let v = headerValue.trimmingWhitespace.asciiLowercased
        // Strip a trailing comment, e.g. "base64 (converted)".
        let token = Array(v.prefix { $0 != ASCII.lparen && $0 != ASCII.space && $0 != ASCII.tab && $0 != ASCII.semicolon })
        switch String(decoding: token, as: UTF8.self) {
        case "7bit", "": self = .sevenBit
        case "8bit": self = .eightBit
        case "binary": self = .binary
        case "base64": self = .base64
        case "quoted-printable": self = .quotedPrintable
        default: self = .other(token)
        }
    }

    /// Whether the body needs decoding for BINARY[] / text extraction.
    public var isIdentity: Bool {
        switch self {
        case .sevenBit, .eightBit, .binary: return true
        case .base64, .quotedPrintable, .other: return false
        }
    }

    /// Decodes a complete body. Identity and unknown encodings return the bytes unchanged.
    public func decode(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        switch self {
        case .base64:
            var d = Base64.Decoder()
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count / 4 * 3 + 3)
            d.feed(bytes, into: &out)
            return out
        case .quotedPrintable:
            var d = QuotedPrintable.Decoder()
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count)
            d.feed(bytes, into: &out)
            d.finish(into: &out)
            return out
        case .sevenBit, .eightBit, .binary, .other:
            return Array(bytes)
        }
    }

    /// Decodes a complete body given as any byte collection.
    public func decode<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        withRawBytes(bytes) { decode($0) }
    }

    /// Size of the decoded body, computed in bounded memory (for IMAP BINARY.SIZE, RFC 3516 §4.2).
    public func decodedSize(_ bytes: UnsafeRawBufferPointer) -> Int {
        switch self {
        case .sevenBit, .eightBit, .binary, .other:
            return bytes.count
        case .base64, .quotedPrintable:
            var total = 0
            var out: [UInt8] = []
            out.reserveCapacity(65_536)
            var b64 = Base64.Decoder()
            var qp = QuotedPrintable.Decoder()
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset &+ 65_536)
                let chunk = UnsafeRawBufferPointer(rebasing: bytes[offset..<end])
                if case .base64 = self { b64.feed(chunk, into: &out) } else { qp.feed(chunk, into: &out) }
                total &+= out.count
                out.removeAll(keepingCapacity: true)
                offset = end
            }
            if case .quotedPrintable = self { qp.finish(into: &out) }
            return total &+ out.count
        }
    }
}

/// Lenient base64 (RFC 2045 §6.8): characters outside the alphabet are ignored, padding ends a
/// quantum, a truncated final quantum yields the whole bytes it holds. Streaming-capable.
public enum Base64 {
    private static let table: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// Incremental decoder: feed chunks of any size; output is appended.
    public struct Decoder: Sendable {
        private var acc: UInt32 = 0
        private var bits: Int = 0

        public init() {}

        public mutating func feed(_ chunk: UnsafeRawBufferPointer, into out: inout [UInt8]) {
            var acc = self.acc
            var bits = self.bits
            out.reserveCapacity(out.count &+ chunk.count / 4 &* 3 &+ 3)
            Base64.table.withUnsafeBufferPointer { table in
                for c in chunk {
                    let v = table[Int(c)]
                    if v == 0xFF {
                        if c == ASCII.equals {
                            // Padding: drop the partial quantum's leftover bits (RFC 2045 §6.8).
                            acc = 0
                            bits = 0
                        }
                        continue
                    }
                    acc = (acc << 6) | UInt32(v)
                    bits &+= 6
                    if bits >= 8 {
                        bits &-= 8
                        out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
                        acc &= (1 << UInt32(bits)) &- 1
                    }
                }
            }
            self.acc = acc
            self.bits = bits
        }

        public mutating func feed(_ chunk: [UInt8], into out: inout [UInt8]) {
            chunk.withUnsafeBytes { feed($0, into: &out) }
        }
    }

    /// Decodes a whole base64 text.
    public static func decode(_ text: [UInt8]) -> [UInt8] {
        var d = Decoder()
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 4 * 3 + 3)
        d.feed(text, into: &out)
        return out
    }
}

/// Quoted-printable decoding (RFC 2045 §6.7), lenient: lowercase hex is accepted, a malformed
/// "=" sequence is kept literally, trailing whitespace before a line break is removed (rule 3),
/// and soft line breaks ("=" CRLF or "=" LF) are removed. Streaming-capable.
public enum QuotedPrintable {
    /// Incremental decoder; call ``finish(into:)`` after the last chunk.
    public struct Decoder: Sendable {
        // Bytes held back because their meaning depends on what follows:
        // a trailing "=" / "=X" sequence, or whitespace that may precede a line break.
        private var pending: [UInt8] = []

        public init() {}

        public mutating func feed(_ chunk: UnsafeRawBufferPointer, into out: inout [UInt8]) {
            for c in chunk { step(c, into: &out) }
        }

        public mutating func feed(_ chunk: [UInt8], into out: inout [UInt8]) {
            for c in chunk { step(c, into: &out) }
        }

        public mutating func finish(into out: inout [UInt8]) {
            // A dangling "=" at the very end is a soft break; other leftovers are literal.
            if pending.first == ASCII.equals, pending.count == 1 { pending.removeAll(); return }
            out.append(contentsOf: pending)
            pending.removeAll()
        }

        private mutating func step(_ c: UInt8, into out: inout [UInt8]) {
            if let first = pending.first, first == ASCII.equals {
                pending.append(c)
                if pending.count == 2 {
                    if c == ASCII.lf { pending.removeAll(); return }          // "=" LF soft break
                    if c == ASCII.cr { return }                                 // maybe "=" CRLF
                    if ASCII.hexValue(c) != nil { return }
                    if ASCII.isWSP(c) { return }                               // "=" WSP... CRLF (rule 3 on soft break)
                    out.append(contentsOf: pending)                            // malformed: literal
                    pending.removeAll()
                    return
                }
                // count >= 3
                let second = pending[1]
                if second == ASCII.cr {
                    if c == ASCII.lf { pending.removeAll(); return }          // "=" CRLF
                    out.append(contentsOf: pending.dropLast())
                    pending.removeAll()
                    step(c, into: &out)
                    return
                }
                if ASCII.isWSP(second) {
                    // "=" followed by transport padding: wait for the line break.
                    if ASCII.isWSP(c) || c == ASCII.cr {
                        if pending.count > 1_024 { out.append(contentsOf: pending); pending.removeAll() }
                        return
                    }
                    if c == ASCII.lf { pending.removeAll(); return }
                    out.append(contentsOf: pending.dropLast())
                    pending.removeAll()
                    step(c, into: &out)
                    return
                }
                if let h = ASCII.hexValue(second), let l = ASCII.hexValue(c) {
                    out.append(h << 4 | l)
                    pending.removeAll()
                    return
                }
                out.append(contentsOf: pending.dropLast())
                pending.removeAll()
                step(c, into: &out)
                return
            }
            // Pending holds only whitespace (possibly ending with CR).
            if c == ASCII.equals {
                out.append(contentsOf: pending)
                pending = [c]
                return
            }
            if ASCII.isWSP(c) {
                if pending.last == ASCII.cr { out.append(contentsOf: pending); pending.removeAll() }
                pending.append(c)
                // Bound the held-back run against hostile input; long runs are rare and harmless to emit.
                if pending.count > 1_024 { out.append(contentsOf: pending); pending.removeAll() }
                return
            }
            if c == ASCII.cr {
                if pending.last == ASCII.cr { out.append(contentsOf: pending); pending.removeAll() }
                pending.removeAll { ASCII.isWSP($0) }   // rule 3: trailing whitespace is dropped
                pending.append(c)
                return
            }
            if c == ASCII.lf {
                // Trailing whitespace before a hard line break is dropped.
                let hadCR = pending.last == ASCII.cr
                pending.removeAll()
                if hadCR { out.append(ASCII.cr) }
                out.append(c)
                return
            }
            out.append(contentsOf: pending)
            pending.removeAll()
            out.append(c)
        }
    }

    /// Decodes a whole quoted-printable text.
    public static func decode(_ text: [UInt8]) -> [UInt8] {
        var d = Decoder()
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        d.feed(text, into: &out)
        d.finish(into: &out)
        return out
    }
}

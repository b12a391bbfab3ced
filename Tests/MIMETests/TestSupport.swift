@testable import MIME

/// Turns a test message written with "\n" line ends into CRLF bytes (how messages are stored).
func crlf(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    for b in s.utf8 {
        if b == 0x0A { out.append(0x0D) }
        out.append(b)
    }
    return out
}

/// Bytes of a string as-is.
func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Lossless-enough rendering of bytes for comparisons in tests.
func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }

/// Renders a section of `message` as a string (nil when the section does not exist).
func sectionText(_ m: MIMEMessage, _ raw: [UInt8], _ part: [Int], _ t: Section.Text? = nil) -> String? {
    m.section(Section(part: part, text: t), in: raw).map { text($0.bytes(in: raw)) }
}

func envelopeString(_ raw: [UInt8], utf8: Bool = false) -> String {
    text(IMAPMessageCache(parsing: raw).envelope(utf8: utf8))
}

func bodyStructureString(_ raw: [UInt8], utf8: Bool = false) -> String {
    text(IMAPMessageCache(parsing: raw).bodyStructure(utf8: utf8))
}

func bodyString(_ raw: [UInt8], utf8: Bool = false) -> String {
    text(IMAPMessageCache(parsing: raw).body(utf8: utf8))
}

/// Deterministic pseudo-random bytes (xorshift) for garbage inputs.
func pseudoRandomBytes(count: Int, seed: UInt64) -> [UInt8] {
    var x = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed
    var out: [UInt8] = []
    out.reserveCapacity(count)
    for _ in 0..<count {
        x ^= x << 13
        x ^= x >> 7
        x ^= x << 17
        out.append(UInt8(truncatingIfNeeded: x))
    }
    return out
}

/// Exercises every public rendering path over a message; used by the adversarial tests.
@discardableResult
func renderEverything(_ raw: [UInt8]) -> Int {
    let cache = IMAPMessageCache(parsing: raw)
    var n = cache.envelope.count &+ cache.bodyStructure.count &+ cache.body.count
    n &+= cache.envelope(utf8: true).count &+ cache.bodyStructure(utf8: true).count
    let m = cache.message
    raw.withUnsafeBytes { buf in
        for (number, _) in m.leaves().prefix(200) {
            for t: Section.Text? in [nil, .mime, .header, .text, .headerFields([bytes("From")])] {
                if let s = m.section(Section(part: number, text: t), in: buf) {
                    n &+= s.count
                    n &+= s.slice(origin: 1, length: 5).count
                }
            }
            if let b = m.binarySource(number) {
                n &+= b.encoding.decodedSize(UnsafeRawBufferPointer(rebasing: buf[b.range]))
            }
        }
        for t: Section.Text? in [nil, .header, .text, .headerFields([bytes("Subject")]), .headerFieldsNot([bytes("Subject")])] {
            n &+= m.section(Section(part: [], text: t), in: buf)?.count ?? 0
        }
        let header = HeaderBlock.parse(buf, in: m.root.headerRange)
        n &+= header.decodedValue("Subject", in: buf)?.utf8.count ?? 0
        n &+= header.addresses("From", in: buf).count
        n &+= header.date(in: buf) == nil ? 0 : 1
        n &+= m.searchableText(in: buf).reduce(0) { $0 &+ $1.text.utf8.count }
    }
    return n
}

/// Non-overlapping occurrences of `needle` in `haystack`.
func occurrences(of needle: [UInt8], in haystack: [UInt8]) -> Int {
    guard !needle.isEmpty, haystack.count >= needle.count else { return 0 }
    var n = 0
    var i = 0
    while i <= haystack.count - needle.count {
        if haystack[i] == needle[0], Array(haystack[i..<(i + needle.count)]) == needle {
            n += 1
            i += needle.count
        } else {
            i += 1
        }
    }
    return n
}

/// One parameter of a Content-Type or Content-Disposition field (RFC 2045 §5.1, RFC 2183 §2).
///
/// `name` and `value` are what IMAP reports in `body-fld-param`: quotes and escapes removed and,
/// for RFC 2231 parameters, the continuation segments joined into one `name*` whose value keeps
/// the `charset'language'%XX` form (the convention Dovecot uses; clients decode it).
/// ``decodedValue`` is the fully decoded text for display and search.
public struct MIMEParameter: Sendable, Hashable, Codable {
    /// Parameter name for IMAP output (e.g. `charset`, `filename*`).
    public var name: [UInt8]
    /// Parameter value for IMAP output.
    public var value: [UInt8]
    /// Lowercased name without any RFC 2231 `*` suffix, for lookups.
    public var baseName: String
    /// Whether the value came from RFC 2231 extended (charset-encoded) syntax.
    public var isExtended: Bool
    /// Display value: RFC 2231 percent-decoding and charset conversion, or RFC 2047 encoded words
    /// decoded for plain values (a widespread non-standard practice for file names).
    public var decodedValue: String

    public init(name: [UInt8], value: [UInt8], baseName: String, isExtended: Bool, decodedValue: String) {
        self.name = name
        self.value = value
        self.baseName = baseName
        self.isExtended = isExtended
        self.decodedValue = decodedValue
    }
}

/// Scanner for RFC 2045 structured field values with RFC 5322 comments.
struct StructuredScanner {
    let bytes: [UInt8]
    var pos = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { pos >= bytes.count }
    var peek: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    /// Skips whitespace and (nested, depth-bounded) comments (RFC 5322 §3.2.2 CFWS).
    mutating func skipCFWS() {
        while pos < bytes.count {
            let b = bytes[pos]
            if ASCII.isWSP(b) || b == ASCII.cr || b == ASCII.lf {
                pos &+= 1
            } else if b == ASCII.lparen {
                skipComment()
            } else {
                return
            }
        }
    }

    /// Skips one comment starting at "("; returns its content (escapes resolved, nesting flattened).
    @discardableResult
    mutating func skipComment() -> [UInt8] {
        var depth = 0
        var content: [UInt8] = []
        while pos < bytes.count {
            let b = bytes[pos]
            pos &+= 1
            if b == ASCII.backslash, pos < bytes.count {
                content.append(bytes[pos])
                pos &+= 1
                continue
            }
            if b == ASCII.lparen {
                depth &+= 1
                if depth > 1 { content.append(b) }
            } else if b == ASCII.rparen {
                depth &-= 1
                if depth == 0 { return content }
                content.append(b)
            } else {
                content.append(b)
            }
        }
        return content
    }

    /// RFC 2045 token.
    mutating func token() -> [UInt8]? {
        let start = pos
        while pos < bytes.count, ASCII.isTokenChar(bytes[pos]) || bytes[pos] >= 0x80 { pos &+= 1 }
        return pos > start ? Array(bytes[start..<pos]) : nil
    }

    /// RFC 5322 quoted-string starting at DQUOTE; returns the content with quoted-pairs resolved.
    /// An unterminated string runs to the end (lenient).
    mutating func quotedString() -> [UInt8] {
        var out: [UInt8] = []
        pos &+= 1
        while pos < bytes.count {
            let b = bytes[pos]
            pos &+= 1
            if b == ASCII.backslash, pos < bytes.count {
                out.append(bytes[pos])
                pos &+= 1
            } else if b == ASCII.dquote {
                return out
            } else if b != ASCII.cr && b != ASCII.lf {
                out.append(b)
            }
        }
        return out
    }

    /// Skips to just after the next ";" (or the end).
    mutating func skipPastSemicolon() {
        while pos < bytes.count {
            let b = bytes[pos]
            if b == ASCII.dquote { _ = quotedString(); continue }
            pos &+= 1
            if b == ASCII.semicolon { return }
        }
    }
}

/// Parsing of `*(";" parameter)` lists with RFC 2231 continuations and charset/language encoding.
enum ParameterListParser {
    /// Hostile-input bounds.
    static let maxParameters = 1_000
    static let maxSegmentIndex = 10_000

    private struct RawParam {
        var name: [UInt8]
        var value: [UInt8]
        var quoted: Bool
    }

    private struct Segment {
        var index: Int
        var extended: Bool
        var value: [UInt8]
    }

    /// Parses parameters from the scanner's position to the end of the value.
    static func parse(_ scanner: inout StructuredScanner) -> [MIMEParameter] {
        var raw: [RawParam] = []
        while !scanner.atEnd, raw.count < maxParameters {
            scanner.skipCFWS()
            guard let b = scanner.peek else { break }
            if b == ASCII.semicolon { scanner.pos &+= 1; continue }
            guard let name = scanner.token() else { scanner.skipPastSemicolon(); continue }
            scanner.skipCFWS()
            guard scanner.peek == ASCII.equals else { scanner.skipPastSemicolon(); continue }
            scanner.pos &+= 1
            scanner.skipCFWS()
            if scanner.peek == ASCII.dquote {
                let v = scanner.quotedString()
                raw.append(RawParam(name: name, value: v, quoted: true))
                // Anything between the closing quote and ";" is ignored.
                scanner.skipCFWS()
                if let n = scanner.peek, n != ASCII.semicolon { scanner.skipPastSemicolon() }
            } else {
                // Lenient value: a token, or (for broken mailers) everything up to ";" trimmed.
                let start = scanner.pos
                var end = start
                while scanner.pos < scanner.bytes.count, scanner.bytes[scanner.pos] != ASCII.semicolon {
                    let c = scanner.bytes[scanner.pos]
                    if c == ASCII.lparen, end > start { break } // trailing comment
                    scanner.pos &+= 1
                    if !ASCII.isWSP(c) && c != ASCII.cr && c != ASCII.lf { end = scanner.pos }
                }
                raw.append(RawParam(name: name, value: Array(scanner.bytes[start..<end]), quoted: false))
                scanner.skipPastSemicolon()
            }
        }
        return assemble(raw)
    }

    /// Joins RFC 2231 §3 continuations and decodes §4 extended values; keeps first occurrences.
    private static func assemble(_ raw: [RawParam]) -> [MIMEParameter] {
        var result: [MIMEParameter] = []
        var order: [String] = []                 // RFC 2231 base names, in order of first appearance
        var segments: [String: [Segment]] = [:]
        var displayNames: [String: [UInt8]] = [:]
        var resultIndexForExtended: [String: Int] = [:]
        var seenPlain = Set<String>()

        for p in raw {
            guard let star = p.name.firstIndex(of: ASCII.star) else {
                let key = String(decoding: p.name.asciiLowercased, as: UTF8.self)
                if seenPlain.contains(key) { continue }
                seenPlain.insert(key)
                result.append(MIMEParameter(name: p.name, value: p.value, baseName: key, isExtended: false,
                                            decodedValue: EncodedWord.decode(p.value)))
                continue
            }
            let base = Array(p.name[..<star])
            let rest = Array(p.name[(star + 1)...])
            let key = String(decoding: base.asciiLowercased, as: UTF8.self)
            var index = 0
            var extended = false
            if rest.isEmpty {
                extended = true                      // name*=charset'lang'value
            } else {
                var digits = rest
                if digits.last == ASCII.star { extended = true; digits.removeLast() }
                guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy(ASCII.isDigit) else { continue }
                index = digits.reduce(0) { $0 &* 10 &+ Int($1 &- ASCII.zero) }
                guard index <= maxSegmentIndex else { continue }
            }
            // A quoted value can't be extended (RFC 2231 §4 uses ext-value, a token); be lenient anyway.
            if segments[key] == nil {
                order.append(key)
                displayNames[key] = base
                segments[key] = []
                resultIndexForExtended[key] = result.count
                // Placeholder keeps the parameter's position; filled below.
                result.append(MIMEParameter(name: [], value: [], baseName: key, isExtended: true, decodedValue: ""))
            }
            if segments[key]?.contains(where: { $0.index == index }) == true { continue }
            segments[key]?.append(Segment(index: index, extended: extended, value: p.value))
        }

        for key in order {
            guard var segs = segments[key], let slot = resultIndexForExtended[key], !segs.isEmpty else { continue }
            segs.sort { $0.index < $1.index }
            let anyExtended = segs.contains { $0.extended }
            var imapValue: [UInt8] = []
            var decodedBytes: [UInt8] = []
            var charsetName: [UInt8] = []
            for (n, seg) in segs.enumerated() {
                if seg.extended {
                    var v = seg.value
                    if n == 0 {
                        // charset'language'value  (RFC 2231 §4)
                        if let q1 = v.firstIndex(of: ASCII.apostrophe) {
                            let afterQ1 = v.index(after: q1)
                            if let q2 = v[afterQ1...].firstIndex(of: ASCII.apostrophe) {
                                charsetName = Array(v[..<q1])
                                imapValue.append(contentsOf: v[...q2])
                                v = Array(v[v.index(after: q2)...])
                            }
                        } else {
                            imapValue.append(contentsOf: Array("''".utf8))
                        }
                    }
                    imapValue.append(contentsOf: v)
                    decodedBytes.append(contentsOf: percentDecode(v))
                } else {
                    if n == 0, anyExtended { imapValue.append(contentsOf: Array("''".utf8)) }
                    imapValue.append(contentsOf: anyExtended ? percentEncode(seg.value) : seg.value)
                    decodedBytes.append(contentsOf: seg.value)
                }
            }
            let decoded: String
            if anyExtended {
                decoded = Charset.decode(decodedBytes, charsetName: charsetName) ?? Charset.decodeGuessing(decodedBytes)
            } else {
                decoded = EncodedWord.decode(decodedBytes)
            }
            var name = displayNames[key] ?? Array(key.utf8)
            if anyExtended { name.append(ASCII.star) }
            result[slot] = MIMEParameter(name: name, value: imapValue, baseName: key, isExtended: anyExtended,
                                         decodedValue: decoded)
        }
        return result.filter { !$0.name.isEmpty }
    }

    static func percentDecode(_ v: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(v.count)
        var i = 0
        while i < v.count {
            if v[i] == ASCII.percent, i &+ 2 < v.count,
               let h = ASCII.hexValue(v[i &+ 1]), let l = ASCII.hexValue(v[i &+ 2]) {
                out.append(h << 4 | l)
                i &+= 3
            } else {
                out.append(v[i])
                i &+= 1
            }
        }
        return out
    }

    /// RFC 2231 §7 attribute-char: token characters except "*", "'" and "%".
    static func percentEncode(_ v: [UInt8]) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in v {
            if ASCII.isTokenChar(b), b != ASCII.star, b != ASCII.apostrophe, b != ASCII.percent {
                out.append(b)
            } else {
                out.append(ASCII.percent)
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0x0F)])
            }
        }
        return out
    }
}

extension Array where Element == MIMEParameter {
    /// Decoded value of the parameter whose name (RFC 2231 suffixes ignored) matches, preferring
    /// the RFC 2231 form when both are present.
    public func decodedValue(_ name: String) -> String? {
        let key = name.lowercased()
        if let p = first(where: { $0.baseName == key && $0.isExtended }) { return p.decodedValue }
        return first(where: { $0.baseName == key })?.decodedValue
    }

    /// Raw (unquoted) value of a plain parameter, e.g. `boundary`.
    public func rawValue(_ name: String) -> [UInt8]? {
        let key = name.lowercased()
        return first(where: { $0.baseName == key && !$0.isExtended })?.value
            ?? first(where: { $0.baseName == key })?.value
    }
}

/// Decoded text of one text part, for a full-text index.
public struct SearchableTextPart: Sendable, Hashable {
    /// IMAP part number (RFC 9051 §6.4.5).
    public var partNumber: [Int]
    /// Lowercased subtype, e.g. "plain" or "html".
    public var subtype: String
    /// UTF-8 text: transfer-decoded, charset-converted, HTML tags stripped.
    public var text: String
}

extension MIMEMessage {
    /// The decoded text of every text/* leaf (attachments included, so a search finds words in an
    /// attached .txt), in part order, for a full-text index (RFC 9051 §6.4.4 SEARCH BODY/TEXT).
    ///
    /// Bodies are transfer-decoded (RFC 2045 §6), converted from their charset to UTF-8 where the
    /// charset is known (else UTF-8 if valid, else windows-1252), and text/html has tags, scripts
    /// and styles removed and common entities decoded. At most `maxBytesPerPart` encoded bytes of a
    /// part and `maxTotalBytes` in all are read, bounding memory on huge messages.
    public func searchableText(in buffer: UnsafeRawBufferPointer, maxBytesPerPart: Int = 4 << 20,
                               maxTotalBytes: Int = 16 << 20) -> [SearchableTextPart] {
        var out: [SearchableTextPart] = []
        var budget = max(0, maxTotalBytes)
        for (number, part) in leaves() {
            let ct = part.fields.contentType
            guard ct.isText, budget > 0 else { continue }
            // Clamp: a cached tree used with the wrong bytes must not read out of bounds.
            let lo = min(part.bodyRange.lowerBound, buffer.count)
            let r = lo..<max(lo, min(part.bodyRange.upperBound, buffer.count))
            let take = min(r.count, max(0, maxBytesPerPart), budget)
            budget &-= take
            let raw = UnsafeRawBufferPointer(rebasing: buffer[r.lowerBound..<(r.lowerBound &+ take)])
            let decoded = part.fields.transferEncoding.decode(raw)
            var text: String
            if let cs = ct.charset, let charset = Charset(name: cs) {
                text = charset.decode(decoded)
            } else {
                text = Charset.decodeGuessing(decoded)
            }
            let sub = ct.lowercasedSubtype
            if sub == "html" { text = HTMLText.strip(text) }
            out.append(SearchableTextPart(partNumber: number, subtype: sub, text: text))
        }
        return out
    }

    /// Searchable text of a message held in any byte collection.
    public func searchableText<C: Collection>(in message: C) -> [SearchableTextPart] where C.Element == UInt8 {
        withRawBytes(message) { searchableText(in: $0) }
    }
}

/// Crude HTML to text: drops tags, comments, script and style contents; decodes common entities.
public enum HTMLText {
    public static func strip(_ html: String) -> String {
        let s = Array(html.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        var skipUntil: String? = nil  // closing tag name whose content is hidden
        while i < s.count {
            let c = s[i]
            if c == "<" {
                // Comment.
                if i &+ 3 < s.count, s[i &+ 1] == "!", s[i &+ 2] == "-", s[i &+ 3] == "-" {
                    var j = i &+ 4
                    while j &+ 2 < s.count, !(s[j] == "-" && s[j &+ 1] == "-" && s[j &+ 2] == ">") { j &+= 1 }
                    i = min(s.count, j &+ 3)
                    continue
                }
                var j = i &+ 1
                while j < s.count, s[j] != ">" { j &+= 1 }
                let tag = String(String.UnicodeScalarView(s[(i &+ 1)..<min(j, s.count)])).lowercased()
                let name = tag.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "/" })
                    .first.map(String.init) ?? ""
                if let end = skipUntil {
                    if tag.hasPrefix("/") && name == end { skipUntil = nil }
                } else if name == "script" || name == "style" || name == "head" {
                    if !tag.hasSuffix("/") { skipUntil = name }
                } else if ["br", "p", "div", "tr", "li", "td", "h1", "h2", "h3", "h4", "h5", "h6", "table"].contains(name) {
                    out.append(" ")
                }
                i = min(s.count, j &+ 1)
                continue
            }
            if skipUntil != nil { i &+= 1; continue }
            if c == "&" {
                var j = i &+ 1
                while j < s.count, j &- i <= 10, s[j] != ";", s[j] != "&", s[j] != " " { j &+= 1 }
                if j < s.count, s[j] == ";" {
                    let entity = String(String.UnicodeScalarView(s[(i &+ 1)..<j]))
                    if let decoded = decodeEntity(entity) {
                        out.append(decoded)
                        i = j &+ 1
                        continue
                    }
                }
            }
            out.append(c)
            i &+= 1
        }
        return String(out)
    }

    static func decodeEntity(_ e: String) -> Unicode.Scalar? {
        switch e {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos": return "'"
        case "nbsp": return " "
        default:
            if e.hasPrefix("#x") || e.hasPrefix("#X"), let v = UInt32(e.dropFirst(2), radix: 16) { return Unicode.Scalar(v) }
            if e.hasPrefix("#"), let v = UInt32(e.dropFirst()) { return Unicode.Scalar(v) }
            return nil
        }
    }
}

/// RFC 2047 encoded-word decoding for display and search (`=?charset?B?...?=`, `=?charset?Q?...?=`).
///
/// Lenient like deployed readers: encoded words are recognised anywhere (also inside quoted text and
/// glued to other text), whitespace between two adjacent encoded words is dropped (RFC 2047 §6.2),
/// adjacent words in the same charset are joined before conversion so a multi-byte character split
/// across them survives, an RFC 2231 §5 language suffix (`charset*lang`) is ignored, and an encoded
/// word in an unknown charset is left exactly as it was.
public enum EncodedWord {
    /// Longest encoded word we try to recognise; RFC 2047 §2 allows 75, real mail exceeds that.
    static let maxWordLength = 4_096

    /// Decodes encoded words in a raw (unfolded) header value. Text outside encoded words is read as
    /// UTF-8 when valid (RFC 6532), else windows-1252.
    public static func decode(_ raw: [UInt8]) -> String {
        var out = ""
        var literal: [UInt8] = []       // pending non-encoded bytes
        var pendingWS: [UInt8] = []     // whitespace seen right after an encoded word
        var pendingBytes: [UInt8] = []  // decoded bytes of a run of same-charset words
        var pendingCharset: Charset? = nil
        var lastWasWord = false
        var scan = ForwardScan()
        var i = 0

        func flushEncoded() {
            if let cs = pendingCharset {
                out += cs.decode(pendingBytes)
            }
            pendingBytes.removeAll(keepingCapacity: true)
            pendingCharset = nil
        }
        func flushLiteral() {
            if !literal.isEmpty {
                out += Charset.decodeGuessing(literal)
                literal.removeAll(keepingCapacity: true)
            }
        }

        while i < raw.count {
            if raw[i] == ASCII.equals, i &+ 1 < raw.count, raw[i &+ 1] == ASCII.question,
               let word = parseWord(raw, at: i, scan: &scan) {
                // Whitespace between two encoded words is not displayed (RFC 2047 §6.2).
                if !lastWasWord {
                    flushLiteral()
                } else {
                    pendingWS.removeAll(keepingCapacity: true)
                }
                if let cs = word.charset {
                    if pendingCharset != cs { flushEncoded(); pendingCharset = cs }
                    pendingBytes.append(contentsOf: word.bytes)
                } else {
                    // Unknown charset: keep the word verbatim.
                    flushEncoded()
                    out += String(decoding: raw[i..<word.end], as: UTF8.self)
                }
                lastWasWord = true
                i = word.end
                continue
            }
            if lastWasWord, ASCII.isWSP(raw[i]) {
                pendingWS.append(raw[i])
                i &+= 1
                continue
            }
            if lastWasWord {
                flushEncoded()
                literal.append(contentsOf: pendingWS)
                pendingWS.removeAll(keepingCapacity: true)
                lastWasWord = false
            }
            literal.append(raw[i])
            i &+= 1
        }
        flushEncoded()
        literal.append(contentsOf: pendingWS)
        flushLiteral()
        return out
    }

    /// Convenience for a String input (already Unicode); encoded words are decoded.
    public static func decode(_ raw: String) -> String { decode(Array(raw.utf8)) }

    struct Word {
        var charset: Charset?
        var bytes: [UInt8]
        var end: Int
    }

    /// encoded-word = "=?" charset ["*" language] "?" encoding "?" encoded-text "?="  (RFC 2047 §2, RFC 2231 §5)
    static func parseWord(_ raw: [UInt8], at start: Int, scan: inout ForwardScan) -> Word? {
        var i = start &+ 2
        let limit = min(raw.count, start &+ maxWordLength)
        let csStart = i
        while i < limit, raw[i] != ASCII.question, raw[i] > 32, raw[i] < 127 { i &+= 1 }
        guard i < limit, raw[i] == ASCII.question, i > csStart else { return nil }
        var csName = Array(raw[csStart..<i])
        if let star = csName.firstIndex(of: ASCII.star) { csName = Array(csName[..<star]) }
        i &+= 1
        guard i &+ 1 < limit, raw[i &+ 1] == ASCII.question else { return nil }
        let enc = ASCII.lower(raw[i])
        guard enc == 0x62 || enc == 0x71 else { return nil } // b / q
        i &+= 2
        let textStart = i
        // The scans for "?=" and for whitespace only move forward across calls, keeping a hostile
        // value full of almost-words linear.
        let terminator = scan.nextTerminator(raw, from: textStart)
        let space = scan.nextSpace(raw, from: textStart)
        guard terminator < space, terminator &+ 1 < limit else { return nil }
        i = terminator
        let text = Array(raw[textStart..<i])
        let decoded: [UInt8]
        if enc == 0x62 {
            decoded = Base64.decode(text)
        } else {
            decoded = decodeQ(text)
        }
        return Word(charset: Charset(name: csName), bytes: decoded, end: i &+ 2)
    }

    /// Cached positions of the next "?=" and the next SP/HTAB; valid because queries never move back.
    struct ForwardScan {
        var terminatorAt = -1
        var spaceAt = -1

        mutating func nextTerminator(_ raw: [UInt8], from: Int) -> Int {
            if terminatorAt >= from { return terminatorAt }
            var i = max(from, terminatorAt &+ 1)
            while i &+ 1 < raw.count, !(raw[i] == ASCII.question && raw[i &+ 1] == ASCII.equals) { i &+= 1 }
            terminatorAt = i &+ 1 < raw.count ? i : raw.count
            return terminatorAt
        }

        mutating func nextSpace(_ raw: [UInt8], from: Int) -> Int {
            if spaceAt >= from { return spaceAt }
            var i = max(from, spaceAt &+ 1)
            while i < raw.count, !ASCII.isWSP(raw[i]) { i &+= 1 }
            spaceAt = i
            return spaceAt
        }
    }

    /// RFC 2047 §4.2 "Q" encoding: like quoted-printable, "_" is SPACE.
    static func decodeQ(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            let b = text[i]
            if b == ASCII.underscore {
                out.append(ASCII.space)
            } else if b == ASCII.equals, i &+ 2 < text.count,
                      let h = ASCII.hexValue(text[i &+ 1]), let l = ASCII.hexValue(text[i &+ 2]) {
                out.append(h << 4 | l)
                i &+= 2
            } else {
                out.append(b)
            }
            i &+= 1
        }
        return out
    }
}

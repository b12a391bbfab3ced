import MIME

/// The base subject of RFC 5256 §2.1, used by SORT SUBJECT and both THREAD algorithms, and whether the
/// subject marked a reply or forward (THREAD=REFERENCES §4 step 5).
struct BaseSubject: Equatable {
    var text: String
    var isReplyOrForward: Bool

    init(_ raw: [UInt8]?) {
        // (1) Decoded to UTF-8, runs of whitespace as one space.
        let decoded = raw.map { EncodedWord.decode($0) } ?? ""
        var s = Array(decoded.unicodeScalars.map { Self.isSpace($0) ? " " : Character($0) })
        s = Self.collapseSpaces(s)
        var reply = false
        while true {
            // (2) Trailing "(fwd)" and spaces (subj-trailer).
            while true {
                while s.last == " " { s.removeLast() }
                if Self.hasSuffix(s, "(fwd)") {
                    s.removeLast(5)
                    reply = true
                } else {
                    break
                }
            }
            // (3)-(5) Leading subj-leader and subj-blob, repeated until nothing changes.
            while true {
                let before = s
                while s.first == " " { s.removeFirst() }
                if let rest = Self.dropRefwd(s) {
                    s = rest
                    reply = true
                }
                if let rest = Self.dropBlob(s), !rest.drop(while: { $0 == " " }).isEmpty {
                    s = rest
                }
                if s == before { break }
            }
            // (6) "[fwd:" subject "]" is unwrapped, and the whole is done again.
            if Self.hasPrefix(s, "[fwd:"), s.last == "]" {
                s = Array(s.dropFirst(5).dropLast())
                reply = true
                continue
            }
            break
        }
        while s.first == " " { s.removeFirst() }
        text = String(s)
        isReplyOrForward = reply
    }

    private static func isSpace(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" || c == "\r" || c == "\n" }

    private static func collapseSpaces(_ s: [Character]) -> [Character] {
        var out: [Character] = []
        for c in s where !(c == " " && out.last == " ") { out.append(c) }
        return out
    }

    private static func hasPrefix(_ s: [Character], _ p: String) -> Bool {
        let p = Array(p)
        return s.count >= p.count && zip(s, p).allSatisfy { $0.lowercased() == $1.lowercased() }
    }

    private static func hasSuffix(_ s: [Character], _ p: String) -> Bool {
        let p = Array(p)
        return s.count >= p.count && zip(s.suffix(p.count), p).allSatisfy { $0.lowercased() == $1.lowercased() }
    }

    /// subj-blob = "[" *BLOBCHAR "]" *WSP; the rest, or nil when `s` does not start with one.
    private static func dropBlob(_ s: [Character]) -> [Character]? {
        guard s.first == "[" else { return nil }
        var i = 1
        while i < s.count, s[i] != "]" {
            if s[i] == "[" { return nil }
            i += 1
        }
        guard i < s.count else { return nil }
        i += 1
        while i < s.count, s[i] == " " { i += 1 }
        return Array(s[i...])
    }

    /// subj-leader = (*subj-blob subj-refwd) / WSP; subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":".
    private static func dropRefwd(_ s: [Character]) -> [Character]? {
        var rest = s
        while let after = dropBlob(rest) { rest = after }
        var i: Int
        if hasPrefix(rest, "re") {
            i = 2
        } else if hasPrefix(rest, "fwd") {
            i = 3
        } else if hasPrefix(rest, "fw") {
            i = 2
        } else {
            return nil
        }
        while i < rest.count, rest[i] == " " { i += 1 }
        var tail = Array(rest[i...])
        if let after = dropBlob(tail) { tail = after }
        guard tail.first == ":" else { return nil }
        return Array(tail.dropFirst())
    }
}

// TOML 1.0 strings: basic, literal and their multi-line forms, with escapes (toml.abnf "String").

extension TOMLReader {
    /// `basic-string = quotation-mark *basic-char quotation-mark`.
    mutating func parseBasicString() throws(TOMLError) -> String {
        let start = i
        i += 1
        var out: [UInt8] = []
        while true {
            guard let b = peek() else { throw fail(.unterminatedString, "unterminated string", at: start) }
            switch b {
            case TOMLByte.quote:
                i += 1
                return String(decoding: out, as: UTF8.self)
            case TOMLByte.backslash:
                try parseEscape(into: &out, stringStart: start)
            case TOMLByte.lf, TOMLByte.cr:
                throw fail(.unterminatedString, "unterminated string", at: start)
            default:
                if TOMLByte.isControl(b) { throw fail(.controlCharacter, "control character U+\(TOMLByte.hex4(UInt32(b))) in string (use an escape)") }
                out.append(b)
                i += 1
            }
        }
    }

    /// `ml-basic-string = ml-basic-string-delim [ newline ] ml-basic-body ml-basic-string-delim`.
    mutating func parseMultilineBasicString() throws(TOMLError) -> String {
        let start = i
        i += 3
        skipOneNewline()
        var out: [UInt8] = []
        while true {
            guard let b = peek() else { throw fail(.unterminatedString, "unterminated multi-line string", at: start) }
            switch b {
            case TOMLByte.quote:
                if try closesMultiline(quote: TOMLByte.quote, into: &out) { return String(decoding: out, as: UTF8.self) }
            case TOMLByte.backslash:
                // A backslash at the end of a line trims it and all whitespace that follows
                // (`mlb-escaped-nl`).
                var j = i + 1
                while j < bytes.count, TOMLByte.isWhitespace(bytes[j]) { j += 1 }
                if j < bytes.count, bytes[j] == TOMLByte.lf || (bytes[j] == TOMLByte.cr && j + 1 < bytes.count && bytes[j + 1] == TOMLByte.lf) {
                    i = j
                    while let c = peek() {
                        if TOMLByte.isWhitespace(c) || c == TOMLByte.lf {
                            i += 1
                        } else if c == TOMLByte.cr, peek(1) == TOMLByte.lf {
                            i += 2
                        } else {
                            break
                        }
                    }
                } else {
                    try parseEscape(into: &out, stringStart: start)
                }
            case TOMLByte.lf:
                out.append(TOMLByte.lf)
                i += 1
            case TOMLByte.cr:
                guard peek(1) == TOMLByte.lf else { throw fail(.controlCharacter, "carriage return not followed by a line feed") }
                out.append(TOMLByte.lf)  // newlines are normalised to LF
                i += 2
            default:
                if TOMLByte.isControl(b) { throw fail(.controlCharacter, "control character U+\(TOMLByte.hex4(UInt32(b))) in string (use an escape)") }
                out.append(b)
                i += 1
            }
        }
    }

    /// `literal-string = apostrophe *literal-char apostrophe`: no escapes.
    mutating func parseLiteralString() throws(TOMLError) -> String {
        let start = i
        i += 1
        let contentStart = i
        while true {
            guard let b = peek() else { throw fail(.unterminatedString, "unterminated string", at: start) }
            switch b {
            case TOMLByte.apostrophe:
                let s = String(decoding: bytes[contentStart..<i], as: UTF8.self)
                i += 1
                return s
            case TOMLByte.lf, TOMLByte.cr:
                throw fail(.unterminatedString, "unterminated string", at: start)
            default:
                if TOMLByte.isControl(b) { throw fail(.controlCharacter, "control character U+\(TOMLByte.hex4(UInt32(b))) in string") }
                i += 1
            }
        }
    }

    /// `ml-literal-string = ml-literal-string-delim [ newline ] ml-literal-body ml-literal-string-delim`.
    mutating func parseMultilineLiteralString() throws(TOMLError) -> String {
        let start = i
        i += 3
        skipOneNewline()
        var out: [UInt8] = []
        while true {
            guard let b = peek() else { throw fail(.unterminatedString, "unterminated multi-line string", at: start) }
            switch b {
            case TOMLByte.apostrophe:
                if try closesMultiline(quote: TOMLByte.apostrophe, into: &out) { return String(decoding: out, as: UTF8.self) }
            case TOMLByte.lf:
                out.append(TOMLByte.lf)
                i += 1
            case TOMLByte.cr:
                guard peek(1) == TOMLByte.lf else { throw fail(.controlCharacter, "carriage return not followed by a line feed") }
                out.append(TOMLByte.lf)
                i += 2
            default:
                if TOMLByte.isControl(b) { throw fail(.controlCharacter, "control character U+\(TOMLByte.hex4(UInt32(b))) in string") }
                out.append(b)
                i += 1
            }
        }
    }

    /// A newline right after an opening `"""`/`'''` is not part of the string.
    mutating func skipOneNewline() {
        if peek() == TOMLByte.lf {
            i += 1
        } else if peek() == TOMLByte.cr, peek(1) == TOMLByte.lf {
            i += 2
        }
    }

    /// At a run of quotes inside a multi-line string: up to two quotes may sit right before the
    /// closing delimiter (`mlb-quotes = 1*2quotation-mark`), so a run of 3...5 closes the string.
    mutating func closesMultiline(quote: UInt8, into out: inout [UInt8]) throws(TOMLError) -> Bool {
        var run = 0
        while peek(run) == quote { run += 1 }
        if run < 3 {
            out.append(contentsOf: repeatElement(quote, count: run))
            i += run
            return false
        }
        guard run <= 5 else {
            throw fail(.syntax, "too many quotes at the end of a multi-line string", at: i + 5)
        }
        out.append(contentsOf: repeatElement(quote, count: run - 3))
        i += run
        return true
    }

    /// `escaped = escape escape-seq-char`: \b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX.
    mutating func parseEscape(into out: inout [UInt8], stringStart: Int) throws(TOMLError) {
        let start = i
        guard let e = peek(1) else { throw fail(.unterminatedString, "unterminated string", at: stringStart) }
        let simple: UInt8?
        switch e {
        case TOMLByte.lowerB: simple = 0x08
        case TOMLByte.lowerT: simple = TOMLByte.tab
        case TOMLByte.lowerN: simple = TOMLByte.lf
        case TOMLByte.lowerF: simple = 0x0C
        case TOMLByte.lowerR: simple = TOMLByte.cr
        case TOMLByte.quote: simple = TOMLByte.quote
        case TOMLByte.backslash: simple = TOMLByte.backslash
        case TOMLByte.lowerU, TOMLByte.upperU: simple = nil
        case TOMLByte.lf, TOMLByte.cr:
            throw fail(.invalidEscape, "backslash at end of line is only allowed in multi-line strings", at: start)
        default:
            i += 1
            throw fail(.invalidEscape, "invalid escape sequence \\\(found().trimmingQuotes)", at: start)
        }
        if let simple {
            out.append(simple)
            i += 2
            return
        }
        let digits = e == TOMLByte.lowerU ? 4 : 8
        var scalarValue: UInt32 = 0
        for k in 0..<digits {
            guard let h = peek(2 + k), TOMLByte.isHexDigit(h) else {
                throw fail(.invalidEscape, "\\\(e == TOMLByte.lowerU ? "u" : "U") must be followed by \(digits) hex digits", at: start)
            }
            scalarValue = scalarValue << 4 | UInt32(TOMLByte.hexValue(h))
        }
        guard let scalar = Unicode.Scalar(scalarValue) else {
            throw fail(.invalidEscape, "escape \\\(e == TOMLByte.lowerU ? "u" : "U")\(TOMLByte.hex4(scalarValue)) is not a Unicode scalar value", at: start)
        }
        UTF8.encode(scalar) { out.append($0) }
        i += 2 + digits
    }
}

private extension String {
    /// `'x'` becomes `x`, for quoting a character inside another message.
    var trimmingQuotes: String {
        hasPrefix("'") && hasSuffix("'") && count >= 2 ? String(dropFirst().dropLast()) : self
    }
}

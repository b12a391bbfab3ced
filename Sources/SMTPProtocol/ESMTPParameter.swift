/// One `esmtp-param` of a MAIL or RCPT command (RFC 5321 §4.1.2):
///
/// ```
/// esmtp-param   = esmtp-keyword ["=" esmtp-value]
/// esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
/// esmtp-value   = 1*(%d33-60 / %d62-126)     ; RFC 6531 §3.3 adds UTF8-non-ascii
/// ```
struct ESMTPParameter {
    /// Upper-cased keyword (keywords are case-insensitive).
    let keyword: String
    let value: ArraySlice<UInt8>?

    /// Splits `Mail-parameters = esmtp-param *(SP esmtp-param)`. Runs of spaces are tolerated.
    /// Returns nil on any token that is not an esmtp-param.
    static func split(_ bytes: ArraySlice<UInt8>) -> [ESMTPParameter]? {
        var result: [ESMTPParameter] = []
        for token in bytes.split(separator: ASCII.space) {
            let keywordBytes: ArraySlice<UInt8>
            let value: ArraySlice<UInt8>?
            if let eq = token.firstIndex(of: ASCII.equals) {
                keywordBytes = token[token.startIndex..<eq]
                let v = token[(eq + 1)...]
                guard !v.isEmpty, v.allSatisfy({ ($0 >= 33 && $0 <= 126 && $0 != ASCII.equals) || $0 >= 0x80 }) else { return nil }
                value = v
            } else {
                keywordBytes = token
                value = nil
            }
            guard let first = keywordBytes.first, ASCII.isAlphaNumeric(first),
                  keywordBytes.allSatisfy({ ASCII.isAlphaNumeric($0) || $0 == ASCII.hyphen }) else { return nil }
            result.append(ESMTPParameter(keyword: String(decoding: keywordBytes.map(ASCII.uppercased), as: UTF8.self), value: value))
        }
        return result
    }

    /// The value as upper-cased ASCII, for enumerated values (BODY, RET, NOTIFY are case-insensitive).
    var upperValue: String? {
        guard let value, !ASCII.containsNonASCII(value) else { return nil }
        return String(decoding: value.map(ASCII.uppercased), as: UTF8.self)
    }
}

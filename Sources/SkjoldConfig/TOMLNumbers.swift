// TOML 1.0 integers, floats and date-times (toml.abnf "Integer", "Float", "Date and Time";
// RFC 3339 §5.6).

extension TOMLReader {
    mutating func parseNumberOrDateTime() throws(TOMLError) -> TOMLValue {
        let start = i
        if digitCount(at: i) >= 4, peek(4) == TOMLByte.minus { return try parseDateTime() }
        if digitCount(at: i) >= 2, peek(2) == TOMLByte.colon {
            let time = try parseTime()
            try expectDateTimeEnd(from: start)
            return .dateTime(TOMLDateTime(date: nil, time: time, offsetMinutes: nil))
        }
        while i < bytes.count, isNumberByte(bytes[i]) { i += 1 }
        let token = bytes[start..<i]
        if let first = token.first, first == TOMLByte.lowerI || first == TOMLByte.lowerN,
           !token.elementsEqual("inf".utf8), !token.elementsEqual("nan".utf8) {
            _ = try invalidBareValue(from: start)
        }
        return try number(token, at: start)
    }

    func isNumberByte(_ b: UInt8) -> Bool {
        TOMLByte.isAlphanumeric(b) || b == TOMLByte.underscore || b == TOMLByte.dot || b == TOMLByte.plus || b == TOMLByte.minus
    }

    func digitCount(at offset: Int) -> Int {
        var n = 0
        while offset + n < bytes.count, TOMLByte.isDigit(bytes[offset + n]) { n += 1 }
        return n
    }

    func number(_ token: ArraySlice<UInt8>, at start: Int) throws(TOMLError) -> TOMLValue {
        let text = String(decoding: token, as: UTF8.self)
        var body = token
        var negative = false
        var signed = false
        if let first = body.first, first == TOMLByte.plus || first == TOMLByte.minus {
            signed = true
            negative = first == TOMLByte.minus
            body = body.dropFirst()
        }
        if body.elementsEqual("inf".utf8) { return .float(negative ? -.infinity : .infinity) }
        if body.elementsEqual("nan".utf8) { return .float(negative ? -.nan : .nan) }

        if body.count >= 2, body.first == TOMLByte.zero {
            let prefix = body[body.startIndex + 1]
            let radix: UInt64
            let isDigit: (UInt8) -> Bool
            switch prefix {
            case TOMLByte.lowerX: radix = 16; isDigit = TOMLByte.isHexDigit
            case TOMLByte.lowerO: radix = 8; isDigit = TOMLByte.isOctalDigit
            case TOMLByte.lowerB: radix = 2; isDigit = TOMLByte.isBinaryDigit
            default: radix = 0; isDigit = TOMLByte.isDigit
            }
            if radix != 0 {
                guard !signed else {
                    throw fail(.invalidNumber, "invalid number \(text) (hex, octal and binary integers take no sign)", at: start)
                }
                let digits = body.dropFirst(2)
                guard underscoresBetweenDigits(digits, isDigit) else {
                    throw fail(.invalidNumber, "invalid number \(text)", at: start)
                }
                var value: UInt64 = 0
                for d in digits where d != TOMLByte.underscore {
                    let (m, o1) = value.multipliedReportingOverflow(by: radix)
                    let (s, o2) = m.addingReportingOverflow(UInt64(TOMLByte.hexValue(d)))
                    guard !o1, !o2, s <= UInt64(Int64.max) else {
                        throw fail(.integerOverflow, "integer \(text) does not fit in 64 bits", at: start)
                    }
                    value = s
                }
                return .integer(Int64(value))
            }
        }

        if body.contains(TOMLByte.dot) || body.contains(TOMLByte.lowerE) || body.contains(TOMLByte.upperE) {
            return try float(body, negative: negative, text: text, at: start)
        }

        guard underscoresBetweenDigits(body, TOMLByte.isDigit) else {
            throw fail(.invalidNumber, "invalid number \(text)", at: start)
        }
        guard body.first != TOMLByte.zero || body.count == 1 else {
            throw fail(.invalidNumber, "invalid number \(text) (leading zeros are not allowed)", at: start)
        }
        // Accumulate the magnitude; Int64.min's magnitude is one more than Int64.max's.
        let limit = negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)
        var magnitude: UInt64 = 0
        for d in body where d != TOMLByte.underscore {
            let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(d - TOMLByte.zero))
            guard !o1, !o2, s <= limit else {
                throw fail(.integerOverflow, "integer \(text) does not fit in 64 bits", at: start)
            }
            magnitude = s
        }
        if negative {
            return .integer(magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude))
        }
        return .integer(Int64(magnitude))
    }

    /// `float-int-part [ frac ] [ exp ]` with at least one of the two (TOML 1.0 §Float).
    func float(_ body: ArraySlice<UInt8>, negative: Bool, text: String, at start: Int) throws(TOMLError) -> TOMLValue {
        let invalid = fail(.invalidNumber, "invalid number \(text)", at: start)
        var index = body.startIndex
        func run(_ allowed: (UInt8) -> Bool) -> ArraySlice<UInt8> {
            let from = index
            while index < body.endIndex, allowed(body[index]) { index += 1 }
            return body[from..<index]
        }
        let digitOrUnderscore: (UInt8) -> Bool = { TOMLByte.isDigit($0) || $0 == TOMLByte.underscore }
        let intPart = run(digitOrUnderscore)
        guard underscoresBetweenDigits(intPart, TOMLByte.isDigit) else { throw invalid }
        guard intPart.first != TOMLByte.zero || intPart.count == 1 else {
            throw fail(.invalidNumber, "invalid number \(text) (leading zeros are not allowed)", at: start)
        }
        if index < body.endIndex, body[index] == TOMLByte.dot {
            index += 1
            guard underscoresBetweenDigits(run(digitOrUnderscore), TOMLByte.isDigit) else { throw invalid }
        }
        if index < body.endIndex, body[index] == TOMLByte.lowerE || body[index] == TOMLByte.upperE {
            index += 1
            if index < body.endIndex, body[index] == TOMLByte.plus || body[index] == TOMLByte.minus { index += 1 }
            // The exponent may have leading zeros.
            guard underscoresBetweenDigits(run(digitOrUnderscore), TOMLByte.isDigit) else { throw invalid }
        }
        guard index == body.endIndex else { throw invalid }
        let digits = String(decoding: body.filter { $0 != TOMLByte.underscore }, as: UTF8.self)
        guard let magnitude = Double(digits) else { throw invalid }
        guard magnitude.isFinite else {
            throw fail(.invalidNumber, "float \(text) is out of range", at: start)
        }
        return .float(negative ? -magnitude : magnitude)
    }

    /// Digits, with each underscore between two digits (`DIGIT *( DIGIT / underscore DIGIT )`).
    func underscoresBetweenDigits(_ s: ArraySlice<UInt8>, _ isDigit: (UInt8) -> Bool) -> Bool {
        guard let first = s.first, let last = s.last, isDigit(first), isDigit(last) else { return false }
        var previousUnderscore = false
        for b in s {
            if b == TOMLByte.underscore {
                if previousUnderscore { return false }
                previousUnderscore = true
            } else if isDigit(b) {
                previousUnderscore = false
            } else {
                return false
            }
        }
        return true
    }

    /// `full-date [ time-delim partial-time [ time-offset ] ]` (RFC 3339 §5.6; TOML allows a space
    /// as the delimiter and requires seconds).
    mutating func parseDateTime() throws(TOMLError) -> TOMLValue {
        let start = i
        guard let year = fixedDigits(4, at: i), peek(4) == TOMLByte.minus,
              let month = fixedDigits(2, at: i + 5), peek(7) == TOMLByte.minus,
              let day = fixedDigits(2, at: i + 8) else {
            throw fail(.invalidDateTime, "invalid date (expected YYYY-MM-DD)", at: start)
        }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year) else {
            throw fail(.invalidDateTime, "invalid date \(String(decoding: bytes[i..<i + 10], as: UTF8.self))", at: start)
        }
        i += 10
        let date = TOMLLocalDate(year: year, month: month, day: day)
        var hasTime = false
        if let d = peek(), d == TOMLByte.upperT || d == 0x74 {
            i += 1
            hasTime = true
        } else if peek() == TOMLByte.space, digitCount(at: i + 1) >= 2, peek(3) == TOMLByte.colon {
            i += 1
            hasTime = true
        }
        guard hasTime else {
            try expectDateTimeEnd(from: start)
            return .dateTime(TOMLDateTime(date: date, time: nil, offsetMinutes: nil))
        }
        let time = try parseTime()
        var offset: Int?
        if let z = peek(), z == TOMLByte.upperZ || z == TOMLByte.lowerZ {
            i += 1
            offset = 0
        } else if let sign = peek(), sign == TOMLByte.plus || sign == TOMLByte.minus {
            guard let hours = fixedDigits(2, at: i + 1), peek(3) == TOMLByte.colon,
                  let minutes = fixedDigits(2, at: i + 4), hours <= 23, minutes <= 59 else {
                throw fail(.invalidDateTime, "invalid time offset (expected Z or ±HH:MM)")
            }
            offset = (hours * 60 + minutes) * (sign == TOMLByte.minus ? -1 : 1)
            i += 6
        }
        try expectDateTimeEnd(from: start)
        return .dateTime(TOMLDateTime(date: date, time: time, offsetMinutes: offset))
    }

    /// `partial-time = time-hour ":" time-minute ":" time-second [ time-secfrac ]`.
    mutating func parseTime() throws(TOMLError) -> TOMLLocalTime {
        let start = i
        guard let hour = fixedDigits(2, at: i), peek(2) == TOMLByte.colon,
              let minute = fixedDigits(2, at: i + 3) else {
            throw fail(.invalidDateTime, "invalid time (expected HH:MM:SS)", at: start)
        }
        guard peek(5) == TOMLByte.colon, let second = fixedDigits(2, at: i + 6) else {
            throw fail(.invalidDateTime, "invalid time (expected HH:MM:SS; seconds are required)", at: start)
        }
        guard hour <= 23, minute <= 59, second <= 60 else {
            throw fail(.invalidDateTime, "invalid time \(String(decoding: bytes[i..<i + 8], as: UTF8.self))", at: start)
        }
        i += 8
        var nanosecond = 0
        if peek() == TOMLByte.dot {
            i += 1
            let count = digitCount(at: i)
            guard count > 0 else { throw fail(.invalidDateTime, "expected digits after '.' in time", at: start) }
            // Precision beyond nanoseconds is accepted and truncated.
            var scale = 100_000_000
            for k in 0..<min(count, 9) {
                nanosecond += Int(bytes[i + k] - TOMLByte.zero) * scale
                scale /= 10
            }
            i += count
        }
        return TOMLLocalTime(hour: hour, minute: minute, second: second, nanosecond: nanosecond)
    }

    /// A date-time must not run into further characters, such as `07:32:00Z` after a bare time or a
    /// fourth time field.
    func expectDateTimeEnd(from start: Int) throws(TOMLError) {
        if let b = peek(), isNumberByte(b) || b == TOMLByte.colon {
            var end = i
            while end < bytes.count, isNumberByte(bytes[end]) || bytes[end] == TOMLByte.colon { end += 1 }
            let text = String(decoding: bytes[start..<end], as: UTF8.self)
            throw fail(.invalidDateTime, "invalid date-time \(text)", at: start)
        }
    }

    func fixedDigits(_ count: Int, at offset: Int) -> Int? {
        guard offset >= 0, offset + count <= bytes.count else { return nil }
        var value = 0
        for k in 0..<count {
            let b = bytes[offset + k]
            guard TOMLByte.isDigit(b) else { return nil }
            value = value * 10 + Int(b - TOMLByte.zero)
        }
        return value
    }

    func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

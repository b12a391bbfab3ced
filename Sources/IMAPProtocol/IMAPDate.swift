/// A calendar date as used by SEARCH keys: `date-text = date-day "-" date-month "-" date-year`
/// (RFC 9051 §9), e.g. `1-Feb-2024`.
public struct IMAPDate: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let monthSpelling = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Validates the day against the month (leap years included); nil for impossible dates.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1,
              day <= IMAPDate.daysIn(month: month, year: year) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (proleptic Gregorian), to compare with stored timestamps.
    public var daysSince1970: Int {
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date of a day count since 1970-01-01.
    public init(daysSince1970 z0: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (m <= 2 ? 1 : 0)
        month = m
        day = d
    }

    public static func < (a: IMAPDate, b: IMAPDate) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }

    /// `1-Feb-2024`
    public var description: String { "\(day)-\(IMAPDate.monthSpelling[month - 1])-\(year)" }
}

/// A date-time as in APPEND and INTERNALDATE: `"17-Jul-1996 02:44:25 -0700"` (RFC 9051 §9 date-time).
public struct IMAPDateTime: Hashable, Sendable, CustomStringConvertible {
    public let date: IMAPDate
    public let hour: Int
    public let minute: Int
    public let second: Int
    /// Offset from UTC in minutes (east positive), -5999...5999 as `zone` allows.
    public let zoneMinutes: Int

    public init?(date: IMAPDate, hour: Int, minute: Int, second: Int, zoneMinutes: Int) {
        guard (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second),
              (-5999...5999).contains(zoneMinutes) else { return nil }
        self.date = date
        self.hour = hour
        self.minute = minute
        self.second = second
        self.zoneMinutes = zoneMinutes
    }

    /// The local time at `zoneMinutes` of a Unix timestamp.
    public init(secondsSince1970 t: Int64, zoneMinutes requestedZone: Int = 0) {
        let zone = Swift.max(-5999, Swift.min(5999, requestedZone))
        let local = t &+ Int64(zone) * 60
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let rest = Int(local - days * 86_400)
        date = IMAPDate(daysSince1970: Int(days))
        hour = rest / 3600
        minute = rest / 60 % 60
        second = rest % 60
        zoneMinutes = zone
    }

    /// The Unix timestamp this denotes.
    public var secondsSince1970: Int64 {
        Int64(date.daysSince1970) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(zoneMinutes) * 60
    }

    /// `17-Jul-1996 02:44:25 -0700`, without quotes; the day is two digits (date-day-fixed allows it).
    public var description: String {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let z = abs(zoneMinutes)
        return "\(two(date.day))-\(IMAPDate.monthSpelling[date.month - 1])-\(date.year) "
            + "\(two(hour)):\(two(minute)):\(two(second)) \(zoneMinutes < 0 ? "-" : "+")\(two(z / 60))\(two(z % 60))"
    }
}

extension GrammarCursor {
    private mutating func fixedDigits(_ n: Int) throws(GrammarError) -> Int {
        var v = 0
        for _ in 0..<n {
            guard let b = peek(), ASCII.isDigit(b) else { throw GrammarError("invalid date") }
            v = v * 10 + Int(b - ASCII.zero)
            index += 1
        }
        return v
    }

    /// date-month "-" date-year, after the day and its dash.
    private mutating func monthYear(day: Int) throws(GrammarError) -> IMAPDate {
        let start = index
        index = Swift.min(index + 3, bytes.count)
        guard let month = IMAPDate.monthNames.firstIndex(where: { ASCII.equalsKeyword(bytes[start..<index], $0) }) else {
            throw GrammarError("invalid month")
        }
        try expect(ASCII.minus, "'-' in date")
        let year = try fixedDigits(4)
        guard let date = IMAPDate(year: year, month: month + 1, day: day) else { throw GrammarError("invalid date") }
        return date
    }

    /// date = date-text / DQUOTE date-text DQUOTE; date-day = 1*2DIGIT
    mutating func date() throws(GrammarError) -> IMAPDate {
        let quoted = consume(ASCII.dquote)
        var day = try fixedDigits(1)
        if let b = peek(), ASCII.isDigit(b) { day = day * 10 + (try fixedDigits(1)) }
        try expect(ASCII.minus, "'-' in date")
        let date = try monthYear(day: day)
        if quoted { try expect(ASCII.dquote, "closing quote of date") }
        return date
    }

    /// date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
    /// (a one-digit day without the leading space is accepted too).
    mutating func dateTime() throws(GrammarError) -> IMAPDateTime {
        try expect(ASCII.dquote, "date-time")
        _ = consume(ASCII.space)
        var day = try fixedDigits(1)
        if let b = peek(), ASCII.isDigit(b) { day = day * 10 + (try fixedDigits(1)) }
        try expect(ASCII.minus, "'-' in date-time")
        let date = try monthYear(day: day)
        try space()
        let hour = try fixedDigits(2)
        try expect(ASCII.colon, "':'")
        let minute = try fixedDigits(2)
        try expect(ASCII.colon, "':'")
        let second = try fixedDigits(2)
        try space()
        let negative: Bool
        if consume(ASCII.plus) { negative = false } else if consume(ASCII.minus) { negative = true } else {
            throw GrammarError("invalid zone")
        }
        let zone = try fixedDigits(4)
        guard zone % 100 < 60 else { throw GrammarError("invalid zone") }
        try expect(ASCII.dquote, "closing quote of date-time")
        let minutes = (zone / 100) * 60 + zone % 100
        guard let dt = IMAPDateTime(date: date, hour: hour, minute: minute, second: second,
                                    zoneMinutes: negative ? -minutes : minutes) else {
            throw GrammarError("invalid date-time")
        }
        return dt
    }
}

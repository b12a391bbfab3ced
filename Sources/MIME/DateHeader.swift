#if canImport(FoundationEssentials)
import FoundationEssentials
#elseif canImport(Foundation)
import Foundation
#endif

/// A parsed RFC 5322 §3.3 date-time: the instant plus the zone offset it was written in.
public struct MessageDate: Sendable, Hashable, Codable {
    /// Seconds since 1970-01-01T00:00:00Z.
    public var secondsSince1970: Int64
    /// The written zone offset in seconds east of UTC (0 for "-0000", unknown zones and military zones).
    public var zoneOffsetSeconds: Int

    public init(secondsSince1970: Int64, zoneOffsetSeconds: Int) {
        self.secondsSince1970 = secondsSince1970
        self.zoneOffsetSeconds = zoneOffsetSeconds
    }

    #if canImport(FoundationEssentials) || canImport(Foundation)
    /// The instant as a `Date`.
    public var date: Date { Date(timeIntervalSince1970: Double(secondsSince1970)) }
    #endif

    /// Parses a Date field value (RFC 5322 §3.3 and the obsolete forms of §4.3), leniently:
    /// optional day name, 2-, 3- or 4-digit years (§4.3 windowing), optional seconds, named and
    /// military zones, comments, missing zone (taken as UTC), full month names, extra punctuation.
    /// Nil when no day, month, year and time can be found or they are out of range.
    public static func parse(_ value: [UInt8]) -> MessageDate? {
        let tokens = tokenize(value)
        var day: Int? = nil, month: Int? = nil, year: Int? = nil
        var hour: Int? = nil, minute: Int? = nil, second = 0
        var zone: Int? = nil
        var i = 0
        while i < tokens.count {
            let t = tokens[i]
            i &+= 1
            if t.isTime, hour == nil {
                let parts = t.text.split(separator: ASCII.colon, omittingEmptySubsequences: false)
                guard parts.count >= 2, parts.count <= 3,
                      let h = number(Array(parts[0]), maxDigits: 2),
                      let m = number(Array(parts[1]), maxDigits: 2) else { return nil }
                hour = h
                minute = m
                if parts.count == 3 {
                    guard let s = number(Array(parts[2]), maxDigits: 2) else { return nil }
                    second = s
                }
                continue
            }
            if let sign = t.text.first, sign == ASCII.plus || sign == ASCII.minus, t.text.count == 5,
               hour != nil, let hhmm = number(Array(t.text.dropFirst()), maxDigits: 4) {
                let off = (hhmm / 100) &* 3600 &+ (hhmm % 100) &* 60
                zone = sign == ASCII.minus ? -off : off
                continue
            }
            if let n = number(t.text, maxDigits: 4) {
                if day == nil, t.text.count <= 2, month == nil || year == nil {
                    day = n
                } else if year == nil {
                    year = n
                    // RFC 5322 §4.3: 2-digit years are 2000+ below 50, 1900+ otherwise; 3-digit add 1900.
                    if t.text.count == 2 { year = n < 50 ? 2000 &+ n : 1900 &+ n }
                    if t.text.count == 3 { year = 1900 &+ n }
                } else if day == nil {
                    day = n
                }
                continue
            }
            let word = String(decoding: t.text.asciiLowercased, as: UTF8.self)
            if month == nil, word.count >= 3, let m = monthNames.firstIndex(where: { word.hasPrefix($0) }) {
                month = m &+ 1
                continue
            }
            if hour != nil, zone == nil, let z = namedZone(word) {
                zone = z
                continue
            }
        }
        guard let d = day, let mo = month, let y = year, let h = hour, let mi = minute,
              (1...31).contains(d), (1...12).contains(mo), (1...9999).contains(y),
              (0...23).contains(h), (0...59).contains(mi), (0...60).contains(second) else { return nil }
        let days = daysFromCivil(year: y, month: mo, day: d)
        let local = days &* 86_400 &+ Int64(h &* 3600 &+ mi &* 60 &+ second)
        let z = zone ?? 0
        return MessageDate(secondsSince1970: local &- Int64(z), zoneOffsetSeconds: z)
    }

    /// Parses a date from a string.
    public static func parse(_ value: String) -> MessageDate? { parse(Array(value.utf8)) }

    private static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun",
                                     "jul", "aug", "sep", "oct", "nov", "dec"]

    /// obs-zone (RFC 5322 §4.3). Military zones are treated as -0000 as §4.3 advises.
    private static func namedZone(_ w: String) -> Int? {
        switch w {
        case "ut", "utc", "gmt", "z": return 0
        case "edt": return -4 * 3600
        case "est", "cdt": return -5 * 3600
        case "cst", "mdt": return -6 * 3600
        case "mst", "pdt": return -7 * 3600
        case "pst": return -8 * 3600
        default:
            if w.count == 1, let c = w.utf8.first, ASCII.isAlpha(c) { return 0 }
            return nil
        }
    }

    struct Token {
        var text: [UInt8]
        var isTime: Bool
    }

    /// Splits on whitespace, commas and comments; a token containing ":" is a time.
    private static func tokenize(_ v: [UInt8]) -> [Token] {
        var out: [Token] = []
        var cur: [UInt8] = []
        var i = 0
        func flush() {
            if !cur.isEmpty, out.count < 64 {
                out.append(Token(text: cur, isTime: cur.contains(ASCII.colon)))
            }
            cur.removeAll()
        }
        while i < v.count {
            let b = v[i]
            if b == ASCII.lparen {
                flush()
                var s = StructuredScanner(v)
                s.pos = i
                s.skipComment()
                i = s.pos
                continue
            }
            if ASCII.isWSP(b) || b == ASCII.comma || b == ASCII.cr || b == ASCII.lf {
                flush()
            } else if b == ASCII.plus || b == ASCII.minus, !cur.isEmpty {
                // After a time ("10:00:00+0100") the sign starts a glued zone; elsewhere ("1-Jan-2024")
                // it only separates.
                let glued = cur.contains(ASCII.colon)
                flush()
                if glued { cur.append(b) }
            } else {
                cur.append(b)
            }
            i &+= 1
        }
        flush()
        return out
    }

    private static func number(_ t: [UInt8], maxDigits: Int) -> Int? {
        guard !t.isEmpty, t.count <= maxDigits, t.allSatisfy(ASCII.isDigit) else { return nil }
        return t.reduce(0) { $0 &* 10 &+ Int($1 &- ASCII.zero) }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year &- 1 : year)
        let era = (y >= 0 ? y : y &- 399) / 400
        let yoe = y &- era &* 400
        let m = Int64(month)
        let doy = (153 &* (m > 2 ? m &- 3 : m &+ 9) &+ 2) / 5 &+ Int64(day) &- 1
        let doe = yoe &* 365 &+ yoe / 4 &- yoe / 100 &+ doy
        return era &* 146_097 &+ doe &- 719_468
    }
}

extension HeaderBlock {
    /// The parsed Date field (RFC 5322 §3.6.1), if present and readable.
    public func date(in buffer: UnsafeRawBufferPointer) -> MessageDate? {
        guard let raw = rawValue("Date", in: buffer) else { return nil }
        return MessageDate.parse(raw)
    }
}

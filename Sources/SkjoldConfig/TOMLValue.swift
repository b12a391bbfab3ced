// TOML 1.0 value model (https://toml.io/en/v1.0.0).

/// Where something was written in a TOML document: 1-based line, and 1-based column counted in
/// Unicode scalars, so it matches what an editor shows.
public struct TOMLPosition: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

/// One TOML value. Tables carry the position of every key they hold, so configuration errors can cite
/// the line where a value was defined.
public enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    /// Offset date-time, local date-time, local date or local time.
    case dateTime(TOMLDateTime)
    /// TOML 1.0 allows mixed element types.
    case array([TOMLValue])
    case table(TOMLTable)

    /// The TOML name of the type, for error messages ("string", "integer", ...).
    public var typeName: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .boolean: "boolean"
        case .dateTime(let dt): dt.kind.rawValue
        case .array: "array"
        case .table: "table"
        }
    }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var integerValue: Int64? { if case .integer(let n) = self { n } else { nil } }
    public var floatValue: Double? { if case .float(let d) = self { d } else { nil } }
    public var booleanValue: Bool? { if case .boolean(let b) = self { b } else { nil } }
    public var dateTimeValue: TOMLDateTime? { if case .dateTime(let d) = self { d } else { nil } }
    public var arrayValue: [TOMLValue]? { if case .array(let a) = self { a } else { nil } }
    public var tableValue: TOMLTable? { if case .table(let t) = self { t } else { nil } }
}

/// A TOML table: keys in definition order, each with its value and the position of its key.
///
/// Equality compares keys and values only (tables are unordered in TOML; positions are provenance);
/// floats compare as IEEE 754 values, so a table holding NaN is not equal to itself.
public struct TOMLTable: Sendable, Equatable, Sequence {
    /// A value together with where its key was written.
    public struct Entry: Sendable {
        public var value: TOMLValue
        public var position: TOMLPosition

        public init(value: TOMLValue, position: TOMLPosition) {
            self.value = value
            self.position = position
        }
    }

    /// Keys in the order they were first defined.
    public private(set) var keys: [String] = []
    private var entries: [String: Entry] = [:]
    /// Where the table was opened: its `[header]`, its `{`, the dotted key that created it, or 1:1 for
    /// the root table.
    public var position: TOMLPosition

    public init(position: TOMLPosition = TOMLPosition(line: 1, column: 1)) {
        self.position = position
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    public subscript(key: String) -> TOMLValue? { entries[key]?.value }

    public func entry(_ key: String) -> Entry? { entries[key] }

    public func position(of key: String) -> TOMLPosition? { entries[key]?.position }

    /// Sets or replaces a value; a new key goes to the end of `keys`.
    public mutating func set(_ key: String, _ value: TOMLValue, at position: TOMLPosition) {
        if entries.updateValue(Entry(value: value, position: position), forKey: key) == nil {
            keys.append(key)
        }
    }

    public func makeIterator() -> some IteratorProtocol<(key: String, entry: Entry)> {
        var index = 0
        let keys = self.keys
        let entries = self.entries
        return AnyIterator {
            guard index < keys.count else { return nil }
            defer { index += 1 }
            let key = keys[index]
            guard let entry = entries[key] else { return nil }
            return (key: key, entry: entry)
        }
    }

    public static func == (lhs: TOMLTable, rhs: TOMLTable) -> Bool {
        guard lhs.entries.count == rhs.entries.count else { return false }
        for (key, entry) in lhs.entries {
            guard let other = rhs.entries[key], other.value == entry.value else { return false }
        }
        return true
    }
}

/// A TOML date, time or date-time, kept as its parts (TOML 1.0 §Offset Date-Time ... §Local Time,
/// following RFC 3339 §5.6). Converting to an instant is left to callers that need one.
public struct TOMLDateTime: Sendable, Hashable, CustomStringConvertible {
    /// Which of the four TOML date/time types this is.
    public enum Kind: String, Sendable {
        case offsetDateTime = "offset date-time"
        case localDateTime = "local date-time"
        case localDate = "local date"
        case localTime = "local time"
    }

    public var date: TOMLLocalDate?
    public var time: TOMLLocalTime?
    /// Offset from UTC in minutes (`Z` is 0); nil for local values.
    public var offsetMinutes: Int?

    public init(date: TOMLLocalDate?, time: TOMLLocalTime?, offsetMinutes: Int?) {
        self.date = date
        self.time = time
        self.offsetMinutes = offsetMinutes
    }

    public var kind: Kind {
        switch (date, time, offsetMinutes) {
        case (.some, .some, .some): .offsetDateTime
        case (.some, .some, .none): .localDateTime
        case (.some, .none, _): .localDate
        default: .localTime
        }
    }

    /// RFC 3339 form with a `T` separator and `Z` for a zero offset.
    public var description: String {
        var out = ""
        if let date { out += date.description }
        if let time {
            if date != nil { out += "T" }
            out += time.description
        }
        if let offsetMinutes {
            if offsetMinutes == 0 {
                out += "Z"
            } else {
                let magnitude = Int(clamping: offsetMinutes.magnitude)
                out += offsetMinutes < 0 ? "-" : "+"
                out += pad2(magnitude / 60) + ":" + pad2(magnitude % 60)
            }
        }
        return out
    }
}

/// A calendar date (RFC 3339 `full-date`).
public struct TOMLLocalDate: Sendable, Hashable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    public var description: String {
        let y = String(year)
        return String(repeating: "0", count: max(0, 4 - y.count)) + y + "-" + pad2(month) + "-" + pad2(day)
    }
}

/// A time of day (RFC 3339 `partial-time`); fractional seconds are kept to nanosecond precision.
public struct TOMLLocalTime: Sendable, Hashable, CustomStringConvertible {
    public var hour: Int
    public var minute: Int
    /// 0...60 (RFC 3339 allows a leap second).
    public var second: Int
    public var nanosecond: Int

    public init(hour: Int, minute: Int, second: Int, nanosecond: Int = 0) {
        self.hour = hour
        self.minute = minute
        self.second = second
        self.nanosecond = nanosecond
    }

    public var description: String {
        var out = pad2(hour) + ":" + pad2(minute) + ":" + pad2(second)
        if nanosecond > 0 {
            var fraction = String(nanosecond % 1_000_000_000)
            fraction = String(repeating: "0", count: max(0, 9 - fraction.count)) + fraction
            while fraction.hasSuffix("0") { fraction.removeLast() }
            out += "." + fraction
        }
        return out
    }
}

private func pad2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

/// Formatting of key paths for messages.
public enum TOMLKey {
    /// Joins key components with dots, quoting those that are not bare keys, e.g.
    /// `plans."my plan".storage`.
    public static func format(_ components: [String]) -> String {
        components.map(formatComponent).joined(separator: ".")
    }

    /// One key component, quoted as a TOML basic string when it is not a valid bare key.
    public static func formatComponent(_ component: String) -> String {
        if !component.isEmpty, component.utf8.allSatisfy(isBareKeyByte) { return component }
        return quoted(component)
    }

    /// A TOML basic string literal for `s`, escaping quotes, backslashes and control characters so
    /// the result always fits on one line.
    public static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func isBareKeyByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}

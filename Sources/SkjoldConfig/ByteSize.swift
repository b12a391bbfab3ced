/// Byte sizes as people write them in configuration: `"140MiB"`, `"10GB"`, `"100 MB"`, `"4096"`.
///
/// Units are case-insensitive: B, KB, MB, GB, TB are powers of 1000 and KiB, MiB, GiB, TiB powers of
/// 1024 (IEC 80000-13). A fraction is allowed (`"1.5GiB"`) and rounds down to whole bytes.
public enum ByteSize {
    private static let units: [(name: String, factor: Int64)] = [
        ("b", 1),
        ("kb", 1_000), ("mb", 1_000_000), ("gb", 1_000_000_000), ("tb", 1_000_000_000_000),
        ("kib", 1 << 10), ("mib", 1 << 20), ("gib", 1 << 30), ("tib", 1 << 40),
    ]

    /// The number of bytes, or nil when `s` is not a size, is negative, or exceeds `Int64.max`.
    public static func parse(_ s: String) -> Int64? {
        let text = Array(s.utf8)
        var i = 0
        func skipSpaces() { while i < text.count, text[i] == 0x20 || text[i] == 0x09 { i += 1 } }
        skipSpaces()
        // Whole part: digits, optionally grouped with underscores as in TOML integers.
        var whole: Int64 = 0
        var wholeDigits = 0
        var previousUnderscore = false
        while i < text.count {
            let b = text[i]
            if b >= 0x30, b <= 0x39 {
                let (m, o1) = whole.multipliedReportingOverflow(by: 10)
                let (v, o2) = m.addingReportingOverflow(Int64(b - 0x30))
                if o1 || o2 { return nil }
                whole = v
                wholeDigits += 1
                previousUnderscore = false
            } else if b == 0x5F, wholeDigits > 0, !previousUnderscore {
                previousUnderscore = true
            } else {
                break
            }
            i += 1
        }
        guard wholeDigits > 0, !previousUnderscore else { return nil }
        // Fraction, kept as numerator/denominator so "1.5GiB" is exact.
        var fraction: Int64 = 0
        var denominator: Int64 = 1
        if i < text.count, text[i] == 0x2E {
            i += 1
            var fractionDigits = 0
            while i < text.count, text[i] >= 0x30, text[i] <= 0x39 {
                // Thirteen digits resolve a byte even in TiB (2^40 < 10^13); further digits barely
                // matter, and ignoring them keeps the arithmetic in range.
                if fractionDigits < 13 {
                    fraction = fraction * 10 + Int64(text[i] - 0x30)
                    denominator *= 10
                }
                fractionDigits += 1
                i += 1
            }
            guard fractionDigits > 0 else { return nil }
        }
        skipSpaces()
        let unitStart = i
        while i < text.count, (text[i] | 0x20) >= 0x61, (text[i] | 0x20) <= 0x7A { i += 1 }
        let unitText = String(decoding: text[unitStart..<i], as: UTF8.self).lowercased()
        skipSpaces()
        guard i == text.count else { return nil }
        let factor: Int64
        if unitText.isEmpty {
            factor = 1
        } else if let unit = units.first(where: { $0.name == unitText }) {
            factor = unit.factor
        } else {
            return nil
        }
        let (wholeBytes, overflow) = whole.multipliedReportingOverflow(by: factor)
        if overflow { return nil }
        guard fraction > 0 else { return wholeBytes }
        // fraction/denominator * factor in 128-bit arithmetic, so it cannot overflow.
        let fractionBytes = multiplyDivide(fraction, factor, denominator)
        let (total, overflow2) = wholeBytes.addingReportingOverflow(fractionBytes)
        return overflow2 ? nil : total
    }

    /// A human-readable form: exact when the size is a whole number of some unit ("10 GB",
    /// "140 MiB", 4096 gives "4 KiB"), otherwise rounded to one decimal in binary units ("1.4 GiB").
    public static func format(_ n: Int64) -> String {
        if n < 0 {
            // Int64.min has no positive counterpart; format its magnitude through UInt64 arithmetic.
            return "-" + format(n == .min ? .max : -n)
        }
        if n == 0 { return "0 B" }
        // Among units that divide n exactly, prefer the one giving the smallest number.
        var best: (value: Int64, unit: String)?
        for (name, factor) in units where factor > 1 && n % factor == 0 {
            let value = n / factor
            if value < best?.value ?? .max { best = (value, displayName(name)) }
        }
        if let best { return "\(best.value) \(best.unit)" }
        if n < 1024 { return "\(n) B" }
        let binary: [(String, Int64)] = [("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        for (name, factor) in binary where n >= factor {
            let tenths = (Double(n) / Double(factor) * 10).rounded() / 10
            return "\(tenths) \(name)"
        }
        return "\(n) B"
    }

    private static func displayName(_ unit: String) -> String {
        switch unit {
        case "kb": "KB"
        case "mb": "MB"
        case "gb": "GB"
        case "tb": "TB"
        case "kib": "KiB"
        case "mib": "MiB"
        case "gib": "GiB"
        case "tib": "TiB"
        default: "B"
        }
    }

    /// floor(a * b / c) for non-negative values where a < c, without intermediate overflow.
    private static func multiplyDivide(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 {
        let product = a.multipliedFullWidth(by: b)
        let (quotient, _) = c.dividingFullWidth(product)
        return quotient
    }
}

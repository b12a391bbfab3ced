/// LIST/LSUB mailbox pattern matching (RFC 9051 §6.3.9): `*` matches any characters including the
/// hierarchy delimiter, `%` any characters except it.
struct ListPattern {
    private let pattern: [Character]
    let delimiter: Character

    /// `reference` and `pattern` are joined as RFC 9051 §6.3.9 describes (the reference is a prefix).
    /// A leading `INBOX` component is matched case-insensitively, as INBOX itself is.
    init(reference: String, pattern: String, delimiter: Character = "/") {
        var full = reference + pattern
        if !reference.isEmpty, reference.last == delimiter, pattern.first == delimiter { full = reference + pattern.dropFirst() }
        let parts = full.split(separator: delimiter, maxSplits: 1, omittingEmptySubsequences: false)
        if let first = parts.first, first.uppercased() == "INBOX" {
            full = "INBOX" + (parts.count > 1 ? String(delimiter) + parts[1] : "")
        }
        self.pattern = Array(full)
        self.delimiter = delimiter
    }

    /// Whether `name` matches; O(name × pattern) without backtracking blow-up.
    func matches(_ name: String) -> Bool {
        let s = Array(name)
        // reachable[j]: the pattern prefix of length j matches the name prefix processed so far.
        var reachable = [Bool](repeating: false, count: pattern.count + 1)
        reachable[0] = true
        for j in 0..<pattern.count where pattern[j] == "*" || pattern[j] == "%" {
            if reachable[j] { reachable[j + 1] = true } else { break }
        }
        for c in s {
            var next = [Bool](repeating: false, count: pattern.count + 1)
            for j in 0..<pattern.count {
                let p = pattern[j]
                switch p {
                case "*":
                    if reachable[j + 1] || reachable[j] { next[j + 1] = true }
                case "%":
                    if c != delimiter, reachable[j + 1] || reachable[j] { next[j + 1] = true }
                default:
                    if reachable[j], p == c { next[j + 1] = true }
                }
            }
            // Wildcards may match the empty string after the current position as well.
            for j in 0..<pattern.count where (pattern[j] == "*" || pattern[j] == "%") && next[j] { next[j + 1] = true }
            reachable = next
        }
        return reachable[pattern.count]
    }

    /// True when the pattern could match a name below `name` (for LIST children info and implied parents).
    var isWildcardFree: Bool { !pattern.contains("*") && !pattern.contains("%") }
}

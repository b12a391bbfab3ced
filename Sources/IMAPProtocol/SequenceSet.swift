/// One end of a sequence range: a number or `*`, "the largest number in use" (RFC 9051 §9 seq-number).
public enum SequenceNumber: Hashable, Sendable {
    case number(UInt32)
    /// `*`: the number of messages (sequence numbers) or the highest UID in the mailbox.
    case last

    func resolved(largest: UInt32) -> UInt32 {
        switch self {
        case .number(let n): return n
        case .last: return largest
        }
    }
}

/// `a:b` or a single `a` (then `first == last`); `b:a` means the same as `a:b` (RFC 9051 §9 seq-range).
public struct SequenceRange: Hashable, Sendable {
    public var first: SequenceNumber
    public var last: SequenceNumber

    public init(_ first: SequenceNumber, _ last: SequenceNumber) {
        self.first = first
        self.last = last
    }

    public init(_ single: SequenceNumber) {
        self.init(single, single)
    }

    /// The concrete numbers this range covers in a mailbox whose largest number is `largest` (message
    /// count or highest UID), clipped to `1...largest`; nil when nothing remains.
    ///
    /// `n:*` always includes `largest` even when `n > largest`, as RFC 9051 §6.4.9 requires for UIDs.
    public func resolved(largest: UInt32) -> ClosedRange<UInt32>? {
        guard largest > 0 else { return nil }
        let a = first.resolved(largest: largest), b = last.resolved(largest: largest)
        let low = Swift.max(1, Swift.min(a, b)), high = Swift.min(Swift.max(a, b), largest)
        return low <= high ? low...high : nil
    }
}

/// A sequence set as the client wrote it: ranges that may use `*`, or `$` for the saved search result
/// (RFC 5182). It is never expanded into one element per message: resolve it into a ``NumberSet``.
///
/// ```
/// sequence-set    = (seq-number / seq-range) ["," sequence-set] / seq-last-command
/// seq-range       = seq-number ":" seq-number
/// seq-number      = nz-number / "*"
/// seq-last-command = "$"
/// ```
public enum SequenceSet: Hashable, Sendable {
    /// Explicit ranges (at least one).
    case ranges([SequenceRange])
    /// `$`: the result saved by the last `SEARCH RETURN (SAVE)` (RFC 5182 §2.1).
    case lastSearchResult

    /// Resolves against a mailbox whose largest message number (or UID) is `largest`; `$` resolves to
    /// `savedResult`. The cost is proportional to the number of ranges written, never to their width.
    public func resolved(largest: UInt32, savedResult: NumberSet = NumberSet()) -> NumberSet {
        switch self {
        case .lastSearchResult:
            return savedResult
        case .ranges(let ranges):
            return NumberSet(ranges: ranges.compactMap { $0.resolved(largest: largest) })
        }
    }

    /// The largest explicit number written (ignoring `*`), to detect sequence numbers beyond the message
    /// count, which RFC 9051 §6.4.5 makes an error for message sequence numbers (but not for UIDs).
    public var largestExplicitNumber: UInt32? {
        guard case .ranges(let ranges) = self else { return nil }
        var result: UInt32?
        for r in ranges {
            for end in [r.first, r.last] {
                if case .number(let n) = end { result = Swift.max(result ?? 0, n) }
            }
        }
        return result
    }

    /// A set with one number.
    public static func single(_ n: UInt32) -> SequenceSet { .ranges([SequenceRange(.number(n))]) }
    /// `1:*`
    public static let all = SequenceSet.ranges([SequenceRange(.number(1), .last)])
}

extension GrammarCursor {
    /// sequence-set, including `$` when `allowSaved` (RFC 5182 allows it wherever a sequence-set is).
    mutating func sequenceSet(allowSaved: Bool = true) throws(GrammarError) -> SequenceSet {
        if consume(ASCII.dollar) {
            guard allowSaved else { throw GrammarError("'$' not allowed here") }
            return .lastSearchResult
        }
        var ranges: [SequenceRange] = []
        repeat {
            let first = try seqNumber()
            let last = consume(ASCII.colon) ? try seqNumber() : first
            ranges.append(SequenceRange(first, last))
        } while consume(ASCII.comma)
        return .ranges(ranges)
    }

    private mutating func seqNumber() throws(GrammarError) -> SequenceNumber {
        if consume(ASCII.star) { return .last }
        guard let b = peek(), ASCII.isDigit(b) else { throw GrammarError("invalid sequence set") }
        return .number(try nzNumber())
    }
}

/// A set of concrete message numbers or UIDs, kept as sorted, disjoint, non-adjacent closed ranges, so
/// `1:4294967295` is one element. Used for resolved sequence sets and in responses (COPYUID, APPENDUID,
/// VANISHED, ESEARCH ALL, MODIFIED).
public struct NumberSet: Hashable, Sendable, Sequence {
    /// The ranges, ascending, with gaps between them.
    public private(set) var ranges: [ClosedRange<UInt32>]

    public init() { ranges = [] }

    /// Normalises any ranges (unsorted, overlapping) into the canonical form.
    public init<S: Sequence>(ranges input: S) where S.Element == ClosedRange<UInt32> {
        let sorted = input.sorted { $0.lowerBound < $1.lowerBound }
        var out: [ClosedRange<UInt32>] = []
        out.reserveCapacity(sorted.count)
        for r in sorted {
            if let last = out.last, UInt64(r.lowerBound) <= UInt64(last.upperBound) + 1 {
                if r.upperBound > last.upperBound { out[out.count - 1] = last.lowerBound...r.upperBound }
            } else {
                out.append(r)
            }
        }
        ranges = out
    }

    /// A set of individual numbers (consecutive numbers are merged into ranges).
    public init<S: Sequence>(_ numbers: S) where S.Element == UInt32 {
        self.init(ranges: numbers.map { $0...$0 })
    }

    public var isEmpty: Bool { ranges.isEmpty }
    /// Number of members (64-bit: a full range has 2^32 - 1 members).
    public var count: UInt64 { ranges.reduce(0) { $0 + UInt64($1.upperBound - $1.lowerBound) + 1 } }
    public var min: UInt32? { ranges.first?.lowerBound }
    public var max: UInt32? { ranges.last?.upperBound }

    /// Binary search over the ranges.
    public func contains(_ n: UInt32) -> Bool {
        var low = 0, high = ranges.count - 1
        while low <= high {
            let mid = (low + high) / 2
            let r = ranges[mid]
            if n < r.lowerBound { high = mid - 1 } else if n > r.upperBound { low = mid + 1 } else { return true }
        }
        return false
    }

    /// Adds a range, keeping the canonical form. Appending in ascending order is O(1).
    public mutating func insert(_ range: ClosedRange<UInt32>) {
        if let last = ranges.last, range.lowerBound > last.upperBound {
            if UInt64(range.lowerBound) == UInt64(last.upperBound) + 1 {
                ranges[ranges.count - 1] = last.lowerBound...range.upperBound
            } else {
                ranges.append(range)
            }
            return
        }
        self = NumberSet(ranges: ranges + [range])
    }

    public mutating func insert(_ n: UInt32) { insert(n...n) }

    /// Members in ascending order, lazily.
    public func makeIterator() -> FlattenSequence<[ClosedRange<UInt32>]>.Iterator {
        ranges.joined().makeIterator()
    }

    /// The wire form `1:3,5` (RFC 9051 §9 sequence-set); empty for an empty set, which IMAP cannot
    /// express — callers omit the item instead.
    public var imapString: String {
        ranges.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound):\($0.upperBound)" }
            .joined(separator: ",")
    }
}

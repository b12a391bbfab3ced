import Testing
@testable import IMAPProtocol

@Suite("Sequence sets and number sets")
struct SequenceSetTests {
    func set(_ s: String) -> SequenceSet? {
        guard case .search(let cmd, _)? = parseCommand("a SEARCH UID " + s), case .uid(let set) = cmd.key else { return nil }
        return set
    }

    @Test("parsing ranges, * and $")
    func parsing() {
        #expect(set("1:4294967295") == .ranges([SequenceRange(.number(1), .number(4_294_967_295))]))
        #expect(set("*:4,2,7:*") == .ranges([SequenceRange(.last, .number(4)), SequenceRange(.number(2)), SequenceRange(.number(7), .last)]))
        #expect(set("$") == .lastSearchResult)
        #expect(set("4294967296") == nil)
        #expect(set("0") == nil)
        #expect(set("1:") == nil)
        #expect(set(",1") == nil)
    }

    @Test("1:4294967295 resolves to one range, not four billion elements")
    func hugeRange() {
        let resolved = SequenceSet.ranges([SequenceRange(.number(1), .number(UInt32.max))]).resolved(largest: UInt32.max)
        #expect(resolved.ranges == [1...UInt32.max])
        #expect(resolved.count == UInt64(UInt32.max))
        #expect(resolved.contains(UInt32.max))
        #expect(resolved.imapString == "1:4294967295")
    }

    @Test("resolution against a mailbox (RFC 9051 §6.4.9: n:* includes the last UID)")
    func resolution() {
        let s = SequenceSet.ranges([SequenceRange(.number(5), .number(2)), SequenceRange(.number(3), .number(9)),
                                    SequenceRange(.number(20)), SequenceRange(.number(559), .last)])
        #expect(s.resolved(largest: 100).ranges == [2...9, 20...20, 100...100])
        #expect(s.resolved(largest: 15).ranges == [2...9, 15...15])
        #expect(s.resolved(largest: 0).isEmpty)
        #expect(SequenceSet.all.resolved(largest: 7).ranges == [1...7])
        #expect(SequenceSet.lastSearchResult.resolved(largest: 9, savedResult: NumberSet([3, 4, 8])).ranges == [3...4, 8...8])
        #expect(s.largestExplicitNumber == 559)
        #expect(SequenceSet.ranges([SequenceRange(.last)]).resolved(largest: 42).ranges == [42...42])
    }

    @Test("NumberSet keeps canonical ranges")
    func numberSet() {
        var n = NumberSet([5, 1, 2, 3, 9, 10, 7])
        #expect(n.ranges == [1...3, 5...5, 7...7, 9...10])
        #expect(n.imapString == "1:3,5,7,9:10")
        n.insert(6)
        #expect(n.imapString == "1:3,5:7,9:10")
        n.insert(11...20)
        n.insert(4)
        #expect(n.ranges == [1...7, 9...20])
        #expect(n.count == 19)
        #expect(Array(NumberSet([1, 2, 4])) == [1, 2, 4])
        #expect(!n.contains(8) && n.contains(9) && !n.contains(21) && !n.contains(0))
        var top = NumberSet(ranges: [UInt32.max...UInt32.max])
        top.insert(UInt32.max - 1)
        #expect(top.ranges == [(UInt32.max - 1)...UInt32.max])
        #expect(NumberSet().imapString.isEmpty && NumberSet().min == nil)
    }
}

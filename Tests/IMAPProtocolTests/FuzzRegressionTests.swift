import Testing
@testable import IMAPProtocol

/// Inputs found by the libFuzzer target Fuzz/FuzzIMAPCommand (scripts/fuzz.sh), kept as regression tests.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    /// A line refused as too long reported its tag cut at the end of the partial line when its LF came in a
    /// later read, but whole when the line arrived at once: the reply depended on TCP segmentation.
    @Test("the tag of a too-long line does not depend on how the line was split", arguments: [1, 7, 66, 1000])
    func longLineTagIndependentOfSplit(chunkSize: Int) {
        let limits = IMAPCommandParser.Limits(maximumLineLength: 64)
        let longTag = "t" + String(repeating: "M", count: 80)
        let wire = longTag + " NOOP " + String(repeating: "x", count: 10) + "\r\nb NOOP\r\n"
        let parser = IMAPCommandParser(limits: limits)
        let whole = events(wire, parser: parser)
        #expect(events(wire, chunkSize: chunkSize, parser: parser) == whole)
        #expect(whole == [.error(IMAPParseError(.lineTooLong, tag: nil)), .command(TaggedCommand(tag: "b", command: .noop))])

        // A tag that ends within the limit is still reported, however the line arrives.
        let shortTagLine = "a1 LOGIN " + String(repeating: "y", count: 100) + "\r\n"
        #expect(events(shortTagLine, chunkSize: chunkSize, parser: parser) == [.error(IMAPParseError(.lineTooLong, tag: "a1"))])
    }

    /// A too-long line ending in a non-synchronising literal whose size is not a number loses the framing.
    /// Arriving whole it gave one fatal `lineTooLong`; dropped as it arrived, `lineTooLong` and then a fatal
    /// `literalTooLarge(nil)` once its end came. Both now give the latter pair.
    @Test("a too-long line that loses framing is reported the same whole and split", arguments: [1, 2, 7, 64])
    func longLineLosingFraming(chunkSize: Int) {
        let parser = IMAPCommandParser(limits: IMAPCommandParser.Limits(maximumLineLength: 64))
        let wire = "a NOOP " + String(repeating: "x", count: 70) + " {99999999999999999999999+}\r\nb NOOP\r\n"
        let expected: [IMAPCommandEvent] = [
            .error(IMAPParseError(.lineTooLong, tag: "a")),
            .error(IMAPParseError(.literalTooLarge(nil), tag: nil, isFatal: true)),
            .command(TaggedCommand(tag: "b", command: .noop)),
        ]
        #expect(events(wire, parser: parser) == expected)
        #expect(events(wire, chunkSize: chunkSize, parser: parser) == expected)
    }

    /// The end of a dropped line is examined for a literal announcement. When its CR ended one read and the
    /// LF began the next, one octet fewer of the line was examined, and a CR that belonged to the line was
    /// taken for the line end: the same bytes could announce a literal or not depending on the split.
    @Test("the end of a dropped line is read the same whatever the split around its CR LF")
    func droppedLineEndIndependentOfSplit() {
        let parser = IMAPCommandParser(limits: IMAPCommandParser.Limits(maximumLineLength: 64))
        let long = "a NOOP " + String(repeating: "x", count: 70)
        // "}\r" ends the line's content: no literal is announced, so "b NOOP" is a command.
        let crInLine = bytes(long + " {5+}\r\r\nb NOOP\r\n")
        // A 32-octet announcement, the longest examined, with an unreadable size: framing is lost.
        let longMarker = bytes(long + " {" + String(repeating: "9", count: 29) + "+}\r\nb NOOP\r\n")
        for wire in [crInLine, longMarker] {
            let whole = events(wire, parser: parser)
            for cut in wire.indices where wire[cut] == 13 {
                // One read up to and including a CR, the rest in the next.
                #expect(reads([Array(wire[...cut]), Array(wire[(cut + 1)...])], parser: parser) == whole)
            }
        }
        #expect(events(crInLine, parser: parser) == [.error(IMAPParseError(.lineTooLong, tag: "a")),
                                                     .command(TaggedCommand(tag: "b", command: .noop))])
        #expect(events(longMarker, parser: parser).dropLast() == [
            .error(IMAPParseError(.lineTooLong, tag: "a")),
            .error(IMAPParseError(.literalTooLarge(nil), tag: nil, isFatal: true)),
        ])
    }

    /// Events for input delivered in exactly these reads.
    private func reads(_ chunks: [[UInt8]], parser initial: IMAPCommandParser) -> [IMAPCommandEvent] {
        var parser = initial
        var out: [IMAPCommandEvent] = []
        for chunk in chunks {
            parser.append(chunk)
            while let event = parser.next() { out.append(event) }
        }
        return mergeData(out)
    }
}

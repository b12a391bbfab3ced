import Testing
@testable import SMTPProtocol

/// Reference decoder written straight from RFC 5321 §4.5.2 over the whole input: split into CRLF-terminated
/// lines; the line "." ends the data; a line starting with "." loses it. Returns nil without a terminator.
private func referenceDecode(_ input: [UInt8]) -> (body: [UInt8], consumed: Int)? {
    var body: [UInt8] = []
    var lineStart = 0
    var i = 0
    while i + 1 < input.count {
        if input[i] == 13 && input[i + 1] == 10 {
            let line = Array(input[lineStart..<i])
            if line == [46] { return (body, i + 2) }
            body += line.first == 46 ? Array(line.dropFirst()) : line
            body += [13, 10]
            i += 2
            lineStart = i
        } else {
            i += 1
        }
    }
    return nil
}

/// Feeds `chunks` in order; returns the body, the total number of input bytes consumed as DATA, and the
/// decoder.
private func decodeChunks(_ chunks: [ArraySlice<UInt8>], limit: Int = .max) -> (body: [UInt8], consumed: Int?, decoder: DataDecoder) {
    var decoder = DataDecoder(maximumMessageSize: limit)
    var body: [UInt8] = []
    var offset = 0
    for chunk in chunks {
        switch decoder.decode(chunk, into: &body) {
        case .needMoreData:
            offset += chunk.count
        case .done(let consumed):
            return (body, offset + consumed, decoder)
        }
    }
    return (body, nil, decoder)
}

private func decodeWhole(_ input: [UInt8]) -> (body: [UInt8], consumed: Int?, decoder: DataDecoder) {
    decodeChunks([input[...]])
}

@Suite("DATA decoder")
struct DataDecoderTests {
    @Test("a plain message ends at CRLF.CRLF; the last CRLF belongs to the message")
    func plainMessage() {
        let input = bytes("Subject: hi\r\n\r\nbody line\r\n.\r\n")
        let result = decodeWhole(input)
        #expect(result.body == bytes("Subject: hi\r\n\r\nbody line\r\n"))
        #expect(result.consumed == input.count)
        #expect(result.decoder.isDone)
        #expect(result.decoder.messageSize == result.body.count)
    }

    @Test("a first line of just \".\" is an empty message")
    func emptyMessage() {
        let result = decodeWhole(bytes(".\r\nQUIT\r\n"))
        #expect(result.body == [])
        #expect(result.consumed == 3)
        // "\r\n.\r\n" right at the start is a message made of one empty line.
        let oneEmptyLine = decodeWhole(bytes("\r\n.\r\n"))
        #expect(oneEmptyLine.body == bytes("\r\n"))
        #expect(oneEmptyLine.consumed == 5)
    }

    @Test("pipelined bytes after the terminator are left for the command parser")
    func pipelinedGarbage() {
        let data = bytes("hello\r\n.\r\n")
        let garbage: [UInt8] = bytes("QUIT\r\n") + [0, 0xFF, 13, 10, 46, 13, 10] + bytes("MAIL FROM:<>\r\n")
        let input = data + garbage
        let result = decodeWhole(input)
        #expect(result.body == bytes("hello\r\n"))
        #expect(result.consumed == data.count)
        #expect(Array(input[(result.consumed ?? 0)...]) == garbage)
    }

    @Test("dot-unstuffing is byte-exact")
    func dotUnstuffing() {
        let input = bytes("..hidden\r\n...\r\n.x\r\n..\r\na.b\r\n . \r\n.\r\n")
        #expect(decodeWhole(input).body == bytes(".hidden\r\n..\r\nx\r\n.\r\na.b\r\n . \r\n"))
    }

    @Test("bare LF and bare CR are data: never terminators, never line starts")
    func bareLineEndings() {
        let smuggling = bytes("a\n.\nb\n.\r\nc\r\n.\r\n")
        let result = decodeWhole(smuggling)
        #expect(result.body == bytes("a\n.\nb\n.\r\nc\r\n"))
        #expect(result.decoder.sawBareLineFeed)
        #expect(!result.decoder.sawBareCarriageReturn)

        // "\r\n.\n" is the line ".\n...": its leading dot is removed like any other.
        #expect(decodeWhole(bytes("x\r\n.\ny\r\n.\r\n")).body == bytes("x\r\n\ny\r\n"))
        // "\r.\r" and ".\r" followed by something else.
        let cr = decodeWhole(bytes("a\r.\rb\r\n.\rX\r\n\r\r\n.\r\n"))
        #expect(cr.body == bytes("a\r.\rb\r\n\rX\r\n\r\r\n"))
        #expect(cr.decoder.sawBareCarriageReturn)
        #expect(!cr.decoder.sawBareLineFeed)
        // Without a CRLF.CRLF, nothing ends.
        #expect(decodeWhole(bytes("a\n.\n\r.\r\n.\n")).consumed == nil)
    }

    @Test("8-bit bytes, NUL and lines longer than 998 octets pass through unchanged")
    func eightBitAndLongLines() {
        let allBytes = (0...255).map { UInt8($0) }.filter { $0 != 13 && $0 != 10 }
        let longLine = [UInt8](repeating: UInt8(ascii: "L"), count: 10_000)
        let body = allBytes + [13, 10] + longLine + [13, 10] + [0xC3, 0xA9, 0, 0xFF, 13, 10]
        let result = decodeWhole(body + bytes(".\r\n"))
        #expect(result.body == body)
        #expect(result.decoder.messageSize == body.count)
    }

    @Test("the terminator split at every byte boundary, in two and three chunks and byte by byte")
    func splitEverywhere() {
        let input = bytes("A\r\n..B\r\n.\r\n") + bytes("RSET\r\n")
        let expectedBody = bytes("A\r\n.B\r\n")
        let dataLength = input.count - 6
        for i in 0...input.count {
            let result = decodeChunks([input[..<i], input[i...]])
            #expect(result.body == expectedBody, "split at \(i)")
            #expect(result.consumed == dataLength, "split at \(i)")
            for j in i...input.count {
                let three = decodeChunks([input[..<i], input[i..<j], input[j...]])
                #expect(three.body == expectedBody && three.consumed == dataLength, "split at \(i), \(j)")
            }
        }
        let bytewise = decodeChunks(input.indices.map { input[$0...$0] })
        #expect(bytewise.body == expectedBody && bytewise.consumed == dataLength)
    }

    @Test("randomised inputs with random chunking agree with the reference decoder")
    func randomisedAgainstReference() {
        var rng = SplitMix64(seed: 5321)
        let alphabet: [UInt8] = [46, 13, 10, 97, 0xFF, 0]
        var terminated = 0
        for _ in 0..<3000 {
            let length = Int.random(in: 0...40, using: &rng)
            var input = (0..<length).map { _ in alphabet.randomElement(using: &rng) ?? 0 }
            if Bool.random(using: &rng) { input += bytes("\r\n.\r\n") + (0..<3).map { _ in alphabet.randomElement(using: &rng) ?? 0 } }
            var chunks: [ArraySlice<UInt8>] = []
            var start = 0
            while start < input.count {
                let end = min(input.count, start + Int.random(in: 1...7, using: &rng))
                chunks.append(input[start..<end])
                start = end
            }
            let result = decodeChunks(chunks)
            if let expected = referenceDecode(input) {
                terminated += 1
                #expect(result.body == expected.body, "\(input)")
                #expect(result.consumed == expected.consumed, "\(input)")
            } else {
                #expect(result.consumed == nil, "\(input)")
            }
        }
        #expect(terminated > 1000)
    }

    @Test("size limit: keeps counting and finds the terminator, stops emitting past the limit")
    func sizeLimit() {
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 98) + [13, 10]
        let input = body + bytes(".\r\nQUIT\r\n")
        let over = decodeChunks(stride(from: 0, to: input.count, by: 7).map { input[$0..<min($0 + 7, input.count)] }, limit: 10)
        #expect(over.consumed == body.count + 3)
        #expect(over.decoder.sizeLimitExceeded)
        #expect(over.decoder.messageSize == 100)
        #expect(over.body.count <= 10)

        let exact = decodeChunks([input[...]], limit: 100)
        #expect(!exact.decoder.sizeLimitExceeded)
        #expect(exact.body == body)

        var counter = MessageSizeCounter(limit: 5)
        let withinAtLimit = counter.add(5)
        #expect(withinAtLimit)
        let withinPastLimit = counter.add(1)
        #expect(!withinPastLimit)
        counter.add(Int.max)
        #expect(counter.count == Int.max)  // saturates, never traps
        #expect(counter.isExceeded)
    }

    @Test("after the terminator further input is not consumed")
    func afterDone() {
        var decoder = DataDecoder()
        #expect(decoder.decode(bytes(".\r\n")[...]).status == .done(consumed: 3))
        let again = decoder.decode(bytes("more\r\n.\r\n")[...])
        #expect(again.status == .done(consumed: 0))
        #expect(again.body.isEmpty)
    }

    @Test("a 4 MB message in 64 KB chunks streams with bounded decoder state")
    func largeMessage() {
        var line = [UInt8](repeating: UInt8(ascii: "z"), count: 1022)
        line += [13, 10]
        var decoder = DataDecoder(maximumMessageSize: 8 << 20)
        var total = 0
        var output: [UInt8] = []
        let chunk = Array(Array(repeating: line, count: 64).joined())
        for _ in 0..<64 {
            output.removeAll(keepingCapacity: true)
            #expect(decoder.decode(chunk[...], into: &output) == .needMoreData)
            total += output.count
            #expect(output.count == chunk.count)  // all of a chunk is emitted at once, nothing held back
        }
        #expect(decoder.decode(bytes(".\r\n")[...]).status == .done(consumed: 3))
        #expect(total == 4 << 20)
        #expect(decoder.messageSize == 4 << 20)
    }
}

@Suite("DATA encoder")
struct DataEncoderTests {
    @Test("dot-stuffing and terminator")
    func stuffing() {
        var encoder = DataEncoder()
        #expect(encoder.encode(bytes(".start\r\nmid.dle\r\n.\r\n..\r\n")[...]) == bytes("..start\r\nmid.dle\r\n..\r\n...\r\n"))
        #expect(encoder.finish() == bytes(".\r\n"))
        var unterminated = DataEncoder()
        #expect(unterminated.encode(bytes("no newline")[...]) == bytes("no newline"))
        #expect(unterminated.finish() == bytes("\r\n.\r\n"))
        var empty = DataEncoder()
        #expect(empty.finish() == bytes(".\r\n"))
    }

    @Test("normalisation turns bare CR and LF into CRLF and stuffs after them")
    func normalisation() {
        var encoder = DataEncoder()
        let encoded = encoder.encode(bytes("a\n.b\rc\r\r\nd\r")[...]) + encoder.finish()
        #expect(encoded == bytes("a\r\n..b\r\nc\r\n\r\nd\r\n.\r\n"))
        // Split byte by byte gives the same result.
        var split = DataEncoder()
        var pieces: [UInt8] = []
        for b in bytes("a\n.b\rc\r\r\nd\r") { pieces += split.encode([b][...]) }
        #expect(pieces + split.finish() == encoded)
    }

    @Test("without normalisation, decode(encode(x)) == x for any bytes ending in CRLF")
    func roundTrip() {
        var rng = SplitMix64(seed: 2821)
        let alphabet: [UInt8] = [46, 13, 10, 0x41, 0xFE]
        for _ in 0..<1000 {
            let message = (0..<Int.random(in: 0...30, using: &rng)).map { _ in alphabet.randomElement(using: &rng) ?? 0 } + [13, 10]
            var encoder = DataEncoder(normalizeLineEndings: false)
            let wire = encoder.encode(message[...]) + encoder.finish()
            let decoded = decodeWhole(wire)
            #expect(decoded.body == message, "\(message)")
            #expect(decoded.consumed == wire.count)
        }
    }
}

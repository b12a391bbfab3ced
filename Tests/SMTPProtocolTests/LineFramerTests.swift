import Testing
@testable import SMTPProtocol

/// Runs all of `input` through `framer`, collecting events.
private func frame(_ framer: inout LineFramer, _ input: [UInt8]) -> [LineFramer.Event] {
    var events: [LineFramer.Event] = []
    var rest = input[...]
    while !rest.isEmpty {
        let (event, consumed) = framer.next(from: rest)
        #expect(consumed > 0)
        rest = rest.dropFirst(consumed)
        if let event { events.append(event) }
    }
    return events
}

@Suite("Command line framer")
struct LineFramerTests {
    @Test("one line per step, consumed counts include the line ending")
    func stepByStep() {
        var framer = LineFramer()
        let input = bytes("EHLO x\r\nMAIL FROM:<>\nrest")
        var (event, consumed) = framer.next(from: input[...])
        #expect(event == .line(bytes("EHLO x")))
        #expect(consumed == 8)
        (event, consumed) = framer.next(from: input[8...])
        #expect(event == .line(bytes("MAIL FROM:<>")))  // bare LF ends a command line
        #expect(consumed == 13)
        (event, consumed) = framer.next(from: input[21...])
        #expect(event == nil)
        #expect(consumed == 4)
        #expect(framer.hasPartialLine)
        #expect(framer.next(from: [][...]) == (nil, 0))
    }

    @Test("missing CRLF: the partial line waits; CR and LF may arrive in separate chunks")
    func partialLines() {
        var framer = LineFramer()
        #expect(frame(&framer, bytes("QUI")).isEmpty)
        #expect(frame(&framer, bytes("T\r")).isEmpty)
        #expect(framer.bufferedByteCount == 5)
        #expect(frame(&framer, bytes("\n")) == [.line(bytes("QUIT"))])
        #expect(!framer.hasPartialLine)
        #expect(frame(&framer, bytes("\r\n\n")) == [.line([]), .line([])])
        // Only the CR right before LF is removed; other CRs stay for the parser to refuse.
        #expect(frame(&framer, bytes("A\rB\r\r\n")) == [.line(bytes("A\rB\r"))])
        // NUL bytes are passed through to the parser, which refuses them.
        #expect(frame(&framer, [0x4E, 0, 0x0A]) == [.line([0x4E, 0])])
    }

    @Test("the limit is exact, with or without CR, in one chunk or split")
    func limitBoundaries() {
        let max = 10
        let exact = [UInt8](repeating: 0x61, count: max)
        for ending in [bytes("\r\n"), bytes("\n")] {
            var framer = LineFramer(maximumLineLength: max)
            #expect(frame(&framer, exact + ending) == [.line(exact)])
            #expect(frame(&framer, exact + [0x61] + ending) == [.tooLong])
            #expect(frame(&framer, exact) == [])
            #expect(framer.bufferedByteCount == max)
            #expect(frame(&framer, [13]) == [])
            #expect(framer.bufferedByteCount == max + 1)
            #expect(frame(&framer, [10]) == [.line(exact)])
            #expect(frame(&framer, exact + [0x61]) == [])
            #expect(frame(&framer, ending) == [.tooLong])
        }
    }

    @Test("a 10 MB line without newline never grows the buffer beyond the limit")
    func tenMegabyteLine() {
        var framer = LineFramer()
        let chunk = [UInt8](repeating: 0x41, count: 64 * 1024)
        var fed = 0
        while fed < 10 * 1024 * 1024 {
            let (event, consumed) = framer.next(from: chunk[...])
            #expect(event == nil)
            #expect(consumed == chunk.count)
            #expect(framer.bufferedByteCount <= SMTPCommandParser.maximumLineLength + 1)
            fed += consumed
        }
        #expect(framer.hasPartialLine)
        #expect(framer.bufferedByteCount == 0)
        #expect(frame(&framer, bytes("\r\nNOOP\r\n")) == [.tooLong, .line(bytes("NOOP"))])

        // The same in a single 10 MB chunk.
        var single = LineFramer()
        let huge = [UInt8](repeating: 0x42, count: 10 * 1024 * 1024)
        #expect(single.next(from: huge[...]) == (nil, huge.count))
        #expect(single.bufferedByteCount == 0)
        #expect(frame(&single, bytes("tail\nQUIT\n")) == [.tooLong, .line(bytes("QUIT"))])
    }

    @Test("reset forgets a partial line (STARTTLS)")
    func reset() {
        var framer = LineFramer()
        _ = frame(&framer, bytes("MAIL FROM:<injected@x>"))
        #expect(framer.hasPartialLine)
        framer.reset()
        #expect(!framer.hasPartialLine)
        #expect(frame(&framer, bytes("\r\n")) == [.line([])])
    }
}

@Suite("BDAT chunks and a pipelined session")
struct BDATAndPipeliningTests {
    @Test("BDAT chunk reader takes exactly n bytes")
    func chunkReader() {
        var reader = BDATChunkReader(size: 5)
        #expect(Array(reader.read(bytes("hel")[...])) == bytes("hel"))
        #expect(reader.remaining == 2 && !reader.isComplete)
        let input = bytes("loBDAT 3 LAST\r\n")
        let taken = reader.read(input[...])
        #expect(Array(taken) == bytes("lo"))
        #expect(reader.isComplete)
        #expect(SMTPCommandParser.parse(line: input[taken.count..<(input.count - 2)]) == .success(.bdat(size: 3, last: true)))
        #expect(reader.read(bytes("more")[...]).isEmpty)
        #expect(BDATChunkReader(size: 0).isComplete)
        #expect(BDATChunkReader(size: -4).remaining == 0)
    }

    @Test("a fully pipelined session splits into the right commands and message")
    func pipelinedSession() {
        let wire = bytes("EHLO client.example\r\nMAIL FROM:<a@b.example> SIZE=20\r\nRCPT TO:<c@d.example>\r\nDATA\r\n")
            + bytes("Subject: x\r\n\r\n..dot\r\n.\r\n")
            + bytes("BDAT 4\r\nwxyzBDAT 0 LAST\r\nQUIT\r\n")
        // Deliver in awkward 5-byte packets.
        var framer = LineFramer()
        var commands: [SMTPCommand] = []
        var message: [UInt8] = []
        var chunkData: [UInt8] = []
        enum Mode { case command, data(DataDecoder), bdat(BDATChunkReader) }
        var mode = Mode.command
        for start in stride(from: 0, to: wire.count, by: 5) {
            var input = wire[start..<min(start + 5, wire.count)]
            while !input.isEmpty {
                switch mode {
                case .command:
                    let (event, consumed) = framer.next(from: input)
                    input = input.dropFirst(consumed)
                    guard case .line(let line) = event, let command = try? SMTPCommandParser.parse(line: line).get() else { continue }
                    commands.append(command)
                    if command == .data { mode = .data(DataDecoder()) }
                    if case .bdat(let size, _) = command, size > 0 { mode = .bdat(BDATChunkReader(size: size)) }
                case .data(var decoder):
                    let status = decoder.decode(input, into: &message)
                    switch status {
                    case .needMoreData: input = input.dropFirst(input.count); mode = .data(decoder)
                    case .done(let consumed): input = input.dropFirst(consumed); mode = .command
                    }
                case .bdat(var reader):
                    let taken = reader.read(input)
                    chunkData += taken
                    input = input.dropFirst(taken.count)
                    mode = reader.isComplete ? .command : .bdat(reader)
                }
            }
        }
        let sender = Mailbox(localPart: "a", domain: .name("b.example"))
        let recipient = Mailbox(localPart: "c", domain: .name("d.example"))
        #expect(commands == [
            .ehlo(.name("client.example")),
            .mail(reversePath: .mailbox(sender!), params: MailParameters(size: 20)),
            .rcpt(forwardPath: .mailbox(recipient!), params: RcptParameters()),
            .data, .bdat(size: 4, last: false), .bdat(size: 0, last: true), .quit,
        ])
        #expect(message == bytes("Subject: x\r\n\r\n.dot\r\n"))
        #expect(chunkData == bytes("wxyz"))
    }
}

@Suite("EHLO capabilities")
struct EHLOCapabilitiesTests {
    @Test("stable order; STARTTLS only when available and inactive; AUTH only when allowed")
    func keywords() {
        let plain = EHLOCapabilities(maximumMessageSize: 1000)
        #expect(plain.keywords == ["PIPELINING", "SIZE 1000", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING", "DSN"])
        let offersTLS = EHLOCapabilities(tlsAvailable: true, maximumMessageSize: 1000)
        #expect(offersTLS.keywords.last == "STARTTLS")
        let afterTLS = EHLOCapabilities(tlsActive: true, tlsAvailable: true, authAllowed: true, maximumMessageSize: 1000)
        #expect(afterTLS.keywords == ["PIPELINING", "SIZE 1000", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING", "DSN", "AUTH PLAIN LOGIN"])
        let everything = EHLOCapabilities(tlsAvailable: true, authAllowed: true, authMechanisms: [.plain], binaryMIME: true)
        #expect(everything.keywords == ["PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING", "BINARYMIME", "DSN", "STARTTLS", "AUTH PLAIN"])
        let minimal = EHLOCapabilities(authAllowed: true, authMechanisms: [], pipelining: false, eightBitMIME: false, smtpUTF8: false,
                                       enhancedStatusCodes: false, chunking: false, binaryMIME: true, dsn: false)
        #expect(minimal.keywords == ["SIZE"])
    }
}

@Suite("Byte search")
struct ByteSearchTests {
    @Test("word-at-a-time search agrees with firstIndex on slices at every offset")
    func agreesWithFirstIndex() {
        var rng = SplitMix64(seed: 10)
        for _ in 0..<500 {
            let data = (0..<Int.random(in: 0...40, using: &rng)).map { _ in [10, 13, 0, 0x0B, 0x8A, 0xFF, 0x61].randomElement(using: &rng) ?? 0 } as [UInt8]
            let start = Int.random(in: 0...data.count, using: &rng)
            let end = Int.random(in: start...data.count, using: &rng)
            let slice = data[start..<end]
            for target: UInt8 in [10, 13, 0, 0xFF] {
                #expect(ByteSearch.firstIndex(of: target, in: slice) == slice.firstIndex(of: target))
            }
        }
    }
}

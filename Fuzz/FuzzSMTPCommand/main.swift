// libFuzzer target: the SMTP server's input path (SMTPProtocol).
//
// Input: byte 0 picks the mode (low 2 bits) and the read-split seed (the rest); byte 1 a size limit;
// the remaining bytes are the payload.
//   0 session:  the payload is what a client sends. It is framed by LineFramer and every line parsed by
//               SMTPCommandParser; DATA switches to DataDecoder, BDAT to BDATChunkReader, AUTH to a SASL
//               exchange, exactly as the server drives them. The transcript must not depend on how the
//               bytes are split into reads; parsed commands round-trip through encode(); refusals map to a
//               one-line 500/501/555 reply.
//   1 data:     DATA-phase transparency: DataEncoder then DataDecoder gives the message back (both line
//               ending modes), and decoding raw bytes is independent of the read split.
//   2 replies:  SMTPReplyParser on framed lines; parsed replies re-encode to valid lines that parse back
//               to the same reply.
//   3 codecs:   SASL base64, xtext, PLAIN/LOGIN exchanges, mailbox, domain and enhanced-code parsing, with
//               their round trips.
import FuzzSupport
import SMTPProtocol

/// One step of what the server made of the client's bytes.
enum SessionEvent: Hashable {
    case command(SMTPCommand)
    case refused(SMTPSyntaxError)
    case lineTooLong
    case message(body: [UInt8], size: Int, exceeded: Bool, bareLF: Bool, bareCR: Bool)
    case bdatChunk([UInt8], last: Bool)
    case sasl(SASLStep)
    /// Where the stream stopped: mode, pending partial line, undelivered DATA/BDAT bytes.
    case end(mode: String, partialLine: Bool, buffered: Int, pending: [UInt8])
}

/// The server's input handling, minus I/O: one instance per delivery pattern.
struct Session {
    enum Mode: String { case command, data, bdat, sasl, closed }

    var mode = Mode.command
    var framer = LineFramer()
    /// RFC 4954 §4: SASL responses may be longer than command lines.
    var saslFramer = LineFramer(maximumLineLength: 12_288)
    var decoder = DataDecoder()
    var body: [UInt8] = []
    var reader = BDATChunkReader(size: 0)
    var bdatLast = false
    var exchange: SASLServerExchange?
    let maximumMessageSize: Int
    var events: [SessionEvent] = []

    init(maximumMessageSize: Int) {
        self.maximumMessageSize = maximumMessageSize
    }

    mutating func receive(_ read: ArraySlice<UInt8>) {
        var input = read
        while !input.isEmpty {
            switch mode {
            case .closed:
                return
            case .command:
                let (event, consumed) = framer.next(from: input)
                invariant(consumed > 0 && consumed <= input.count, "framer consumed \(consumed) of \(input.count)")
                invariant(framer.bufferedByteCount <= framer.maximumLineLength + 1, "framer holds \(framer.bufferedByteCount)")
                input = input.dropFirst(consumed)
                switch event {
                case nil: break
                case .tooLong: events.append(.lineTooLong)
                case .line(let line):
                    invariant(line.count <= framer.maximumLineLength, "line of \(line.count) octets")
                    invariant(!framer.hasPartialLine, "framer holds bytes right after a line")
                    handle(line)
                }
            case .data:
                let status = decoder.decode(input, into: &body)
                switch status {
                case .needMoreData:
                    input = input[input.endIndex...]
                case .done(let consumed):
                    invariant(consumed >= 1 && consumed <= input.count, "DATA consumed \(consumed) of \(input.count)")
                    input = input.dropFirst(consumed)
                    invariant(decoder.isDone, "done status but decoder not done")
                    if !decoder.sizeLimitExceeded {
                        invariant(body.count == decoder.messageSize, "body \(body.count) != size \(decoder.messageSize)")
                    } else {
                        invariant(body.count <= maximumMessageSize, "stored \(body.count) past the limit")
                    }
                    // Past the limit the server discards what it stored, so those bytes are not compared.
                    events.append(.message(body: decoder.sizeLimitExceeded ? [] : body, size: decoder.messageSize,
                                           exceeded: decoder.sizeLimitExceeded, bareLF: decoder.sawBareLineFeed,
                                           bareCR: decoder.sawBareCarriageReturn))
                    body = []
                    mode = .command
                }
            case .bdat:
                let taken = reader.read(input)
                invariant(taken.startIndex == input.startIndex && taken.count <= input.count, "BDAT reader took a bad slice")
                body.append(contentsOf: taken)
                input = input.dropFirst(taken.count)
                if reader.isComplete { finishChunk() }
            case .sasl:
                let (event, consumed) = saslFramer.next(from: input)
                invariant(consumed > 0 && consumed <= input.count, "SASL framer consumed \(consumed)")
                input = input.dropFirst(consumed)
                switch event {
                case nil: break
                case .tooLong:
                    events.append(.lineTooLong)
                    exchange = nil
                    mode = .command
                case .line(let line):
                    guard var current = exchange else { return }
                    let step = current.receive(line: line)
                    events.append(.sasl(step))
                    exchange = current
                    if case .challenge = step { continue }
                    exchange = nil
                    mode = .command
                }
            }
        }
    }

    mutating func handle(_ line: [UInt8]) {
        switch SMTPCommandParser.parse(line: line[...]) {
        case .failure(let error):
            let reply = error.reply
            invariant([500, 501, 555].contains(reply.code), "refusal answered \(reply.code)")
            checkReplyWire(reply.encode(), lines: 1)
            events.append(.refused(error))
            if error.requiresConnectionClose { mode = .closed }
        case .success(let command):
            var wire = command.encode()
            invariant(wire.suffix(2) == [13, 10], "encode() must end in CRLF")
            wire.removeLast(2)
            invariant(!wire.contains(10) && !wire.contains(13), "encoded command contains a line break: \(show(wire))")
            let again = SMTPCommandParser.parse(line: wire[...])
            invariant(again == .success(command), "round trip: \(show(line)) -> \(command) -> \(show(wire)) -> \(again)")
            events.append(.command(command))
            switch command {
            case .data:
                decoder = DataDecoder(maximumMessageSize: maximumMessageSize)
                body = []
                mode = .data
            case .bdat(let size, let last):
                invariant(size >= 0, "negative BDAT size")
                reader = BDATChunkReader(size: size)
                bdatLast = last
                body = []
                mode = .bdat
                if reader.isComplete { finishChunk() }
            case .auth(let mechanism, let initialResponse):
                invariant(mechanism == mechanism.uppercased(), "mechanism not upper-cased")
                guard var current = SASLServerExchange(mechanism: mechanism) else { return }
                let step = current.start(initialResponse: initialResponse)
                events.append(.sasl(step))
                if case .challenge = step {
                    exchange = current
                    mode = .sasl
                }
            case .quit:
                mode = .closed
            case .unknown(let verb):
                invariant(verb.utf8.count <= 16 && verb.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E }, "unknown verb \(verb)")
            default:
                break
            }
        }
    }

    mutating func finishChunk() {
        events.append(.bdatChunk(body, last: bdatLast))
        body = []
        mode = .command
    }

    mutating func finish() {
        events.append(.end(mode: mode.rawValue, partialLine: framer.hasPartialLine, buffered: framer.bufferedByteCount,
                           pending: mode == .bdat || (mode == .data && !decoder.sizeLimitExceeded) ? body : []))
    }
}

/// Reply bytes: `lines` lines of printable ASCII, each at most 512 octets with CRLF (RFC 5321 §4.5.3.1.5).
func checkReplyWire(_ wire: [UInt8], lines: Int?) {
    let split = wire.split(separator: 10, omittingEmptySubsequences: false)
    invariant(split.last?.isEmpty == true, "reply does not end in LF: \(show(wire))")
    let replyLines = split.dropLast()
    if let lines { invariant(replyLines.count == lines, "reply has \(replyLines.count) lines: \(show(wire))") }
    for line in replyLines {
        invariant(line.last == 13, "reply line without CR: \(show(wire))")
        invariant(line.count + 1 <= SMTPReply.maximumLineLength, "reply line of \(line.count + 1) octets")
        invariant(line.dropLast().allSatisfy { $0 >= 0x20 && $0 <= 0x7E }, "reply line not printable: \(show(line))")
    }
}

func runSession(_ payload: [UInt8], splitSeed: UInt8, limitByte: UInt8) {
    // A small message limit sometimes, so the 552 path is reached with small inputs.
    let limit = limitByte < 128 ? Int(limitByte) : Int.max
    var whole = Session(maximumMessageSize: limit)
    whole.receive(payload[...])
    whole.finish()
    var split = Session(maximumMessageSize: limit)
    for read in splitIntoReads(payload, seed: splitSeed) { split.receive(read) }
    split.finish()
    invariant(whole.events == split.events,
              "transcript depends on the read split:\n whole: \(whole.events)\n split: \(split.events)")
}

/// RFC 5321 §2.3.8 line ends as DataEncoder(normalizeLineEndings: true) writes them: bare CR and bare LF
/// become CRLF; a non-empty message gets a final CRLF.
func normalizedMessage(_ message: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var i = 0
    while i < message.count {
        let b = message[i]
        if b == 13 {
            out += [13, 10]
            i += (i + 1 < message.count && message[i + 1] == 10) ? 2 : 1
        } else if b == 10 {
            out += [13, 10]
            i += 1
        } else {
            out.append(b)
            i += 1
        }
    }
    if !out.isEmpty && out.suffix(2) != [13, 10] { out += [13, 10] }
    return out
}

/// The message DataEncoder(normalizeLineEndings: false) transmits: unchanged, plus what `finish()` adds
/// to end the last line.
func terminatedMessage(_ message: [UInt8]) -> [UInt8] {
    if message.isEmpty || message.suffix(2) == [13, 10] { return message }
    if message.last == 13 { return message + [10] }
    return message + [13, 10]
}

func decodeAll(_ reads: [ArraySlice<UInt8>], limit: Int = .max) -> (body: [UInt8], consumed: Int?, decoder: DataDecoder) {
    var decoder = DataDecoder(maximumMessageSize: limit)
    var body: [UInt8] = []
    var offset = 0
    for read in reads {
        switch decoder.decode(read, into: &body) {
        case .needMoreData:
            offset += read.count
        case .done(let consumed):
            return (body, offset + consumed, decoder)
        }
    }
    return (body, nil, decoder)
}

func runDataCodec(_ message: [UInt8], splitSeed: UInt8, limitByte: UInt8) {
    for normalize in [false, true] {
        var encoder = DataEncoder(normalizeLineEndings: normalize)
        var wire: [UInt8] = []
        for read in splitIntoReads(message, seed: splitSeed) { encoder.encode(read, into: &wire) }
        wire += encoder.finish()
        let expected = normalize ? normalizedMessage(message) : terminatedMessage(message)
        let trailer: [UInt8] = Array("QUIT\r\n".utf8)
        let (body, consumed, _) = decodeAll(splitIntoReads(wire + trailer, seed: splitSeed &+ 1))
        invariant(consumed == wire.count, "terminator at \(String(describing: consumed)), expected \(wire.count) (normalize \(normalize))")
        invariant(body == expected, "DATA round trip (normalize \(normalize)): \(show(message)) -> \(show(body))")
    }
    // Raw client bytes: same result whatever the read split; the size limit never lets more through.
    let limit = limitByte < 128 ? Int(limitByte) : Int.max
    let whole = decodeAll([message[...]], limit: limit)
    let split = decodeAll(splitIntoReads(message, seed: splitSeed), limit: limit)
    // Past the limit the stored bytes are discarded (552), so only their bound matters then.
    invariant(whole.consumed == split.consumed, "DATA terminator position depends on the read split")
    invariant(whole.decoder.sizeLimitExceeded || whole.body == split.body, "DATA decoding depends on the read split")
    invariant(split.body.count <= limit, "DATA stored \(split.body.count) octets past a limit of \(limit)")
    // RFC 5321 §4.1.1.4: only CRLF "." CRLF ends DATA (or "." CRLF right after the 354); no bare-LF
    // variant may (the "SMTP smuggling" family).
    if let end = whole.consumed {
        let terminator = Array(message[..<end].suffix(5))
        invariant(terminator == Array("\r\n.\r\n".utf8) || (end == 3 && terminator == Array(".\r\n".utf8)),
                  "DATA ended by \(show(terminator))")
    }
    invariant(whole.decoder.sawBareLineFeed == split.decoder.sawBareLineFeed
              && whole.decoder.sawBareCarriageReturn == split.decoder.sawBareCarriageReturn
              && whole.decoder.messageSize == split.decoder.messageSize, "DATA flags depend on the read split")
    invariant(whole.body.count <= limit, "DATA stored \(whole.body.count) octets past a limit of \(limit)")
}

func runReplies(_ payload: [UInt8]) {
    var framer = LineFramer(maximumLineLength: 4096)
    var parser = SMTPReplyParser()
    var input = payload[...]
    var reparsedCount = 0
    // Whether every line of the reply being read is printable ASCII, so that sanitising changes nothing.
    var printable = true
    while !input.isEmpty {
        let (event, consumed) = framer.next(from: input)
        input = input.dropFirst(consumed)
        guard case .line(let line)? = event else { continue }
        printable = printable && line.allSatisfy { $0 >= 0x20 && $0 <= 0x7E }
        let result = parser.parse(line: line[...])
        guard case .success(let parsed) = result, let reply = parsed else {
            if case .failure = result { printable = true }
            continue
        }
        let wasPrintable = printable
        printable = true
        invariant((200...599).contains(reply.code) && !reply.lines.isEmpty, "bad reply \(reply)")
        let wire = reply.encode()
        checkReplyWire(wire, lines: reply.lines.count)
        // Re-parse what we would send; bounded so a long multi-line reply is not re-parsed quadratically.
        // Sanitised text can come to look like an enhanced code ("5<FF>.1.1" becomes "5.1.1"), which a
        // peer would then read as one; only replies that arrived clean must come back unchanged.
        guard wasPrintable, reparsedCount < 16 else { continue }
        reparsedCount += 1
        var reparser = SMTPReplyParser()
        var again: SMTPReply?
        for wireLine in wire.split(separator: 10) {
            switch reparser.parse(line: wireLine.dropLast()) {
            case .success(let r?): again = r
            case .success(nil): break
            case .failure(let e): invariant(false, "encoded reply does not parse (\(e)): \(show(wire))")
            }
        }
        invariant(again == reply, "reply round trip: \(reply) -> \(String(describing: again))")
    }
}

func runCodecs(_ payload: [UInt8], selector: UInt8) {
    let text = String(decoding: payload, as: UTF8.self)
    // Strict base64: whatever decodes is canonical, so it encodes back to the same text.
    if let decoded = SASLBase64.decode(payload) {
        invariant(Array(SASLBase64.encode(decoded).utf8) == payload, "non-canonical base64 accepted: \(show(payload))")
    }
    invariant(SASLBase64.decode(Array(SASLBase64.encode(payload).utf8)) == payload, "base64 round trip")
    invariant(XText.decode(Array(XText.encode(payload).utf8)) == payload, "xtext round trip")
    if let decoded = XText.decode(payload) {
        invariant(XText.decode(Array(XText.encode(decoded).utf8)) == decoded, "xtext re-encoding")
    }
    _ = SASLPlain.decode(payload)
    _ = SASLResponse.decode(line: payload)

    // SASL exchanges fed the payload's lines, with or without an initial response.
    let lines = payload.split(separator: 10, omittingEmptySubsequences: false)
    for mechanism in ["PLAIN", "login"] {
        guard var exchange = SASLServerExchange(mechanism: mechanism) else {
            invariant(false, "\(mechanism) not supported")
            return
        }
        var step = exchange.start(initialResponse: selector & 1 == 0 ? nil : SASLBase64.decode(lines.first ?? []))
        for line in lines.prefix(8) {
            guard case .challenge = step else { break }
            step = exchange.receive(line: line)
        }
        if case .credentials(let credentials) = step {
            invariant(!credentials.authenticationID.isEmpty && !credentials.password.isEmpty, "empty credentials")
            invariant(credentials.description.hasSuffix("password: <redacted>)"), "password not redacted")
        }
    }

    if let mailbox = Mailbox(parsing: text) {
        invariant(Mailbox(parsing: mailbox.description) == mailbox, "mailbox round trip: \(show(payload)) -> \(mailbox)")
    }
    if let domain = MailDomain(parsing: text) {
        invariant(MailDomain(parsing: domain.description) == domain, "domain round trip: \(show(payload)) -> \(domain)")
    }
    if let code = EnhancedStatusCode(parsing: payload) {
        invariant(EnhancedStatusCode(parsing: Array(code.description.utf8)) == code, "enhanced code round trip")
    }
    let sanitized = SMTPReply.sanitizedText(text)
    invariant(sanitized.utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E }, "sanitizedText left \(show(Array(sanitized.utf8)))")
    var counter = MessageSizeCounter(limit: Int(selector))
    for chunk in lines { counter.add(chunk.count) }
    counter.add(Int.max)
    invariant(counter.count == Int.max && counter.isExceeded, "size counter must saturate")
}

let testOneInput: FuzzTestOneInput = { data, size in
    var input = FuzzInput(fuzzBytes(data, size))
    let control = input.byte()
    let extra = input.byte()
    let payload = input.payload
    switch control & 3 {
    case 0: runSession(payload, splitSeed: control >> 2, limitByte: extra)
    case 1: runDataCodec(payload, splitSeed: control >> 2, limitByte: extra)
    case 2: runReplies(payload)
    default: runCodecs(payload, selector: extra)
    }
    return 0
}

runLibFuzzer(testOneInput)

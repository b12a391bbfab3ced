// libFuzzer target: POP3Protocol — the command parser and the byte stuffer that sends messages.
//
// Input: byte 0 picks the mode (low bit) and the read-split seed (the rest), byte 1 a TOP line count; the
// rest is the payload.
//   0 commands: the payload's lines (as the server frames them: LF-terminated, CR dropped) parsed by
//               POP3CommandParser; AUTH initial responses and lines decoded as PLAIN credentials; response
//               builders fed the parsed text must never emit a line break of their own.
//   1 stuffing: the payload is a stored message. Whatever the read split, POP3ByteStuffer's output must
//               be a valid multi-line body: every line CRLF-terminated, no line that is a lone "." before
//               the terminator, and unstuffing it gives back the message with bare LF made CRLF. TOP's
//               output must be a prefix of RETR's.
import FuzzSupport
import POP3Protocol

func runCommands(_ payload: [UInt8]) {
    for rawLine in payload.split(separator: 10, omittingEmptySubsequences: false) {
        let line = rawLine.last == 13 ? rawLine.dropLast() : rawLine
        let result = POP3CommandParser.parse(line: line)
        switch result {
        case .failure(let error):
            checkSingleLine(POP3Response.err(error.description), "-ERR")
        case .success(let command):
            switch command {
            case .unknown(let verb):
                invariant(verb.utf8.count <= 16 && verb.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E }, "unknown verb \(verb)")
                checkSingleLine(POP3Response.err("unknown command \(verb)"), "-ERR")
            case .list(let n), .uidl(let n):
                invariant(n.map { $0 >= 1 && $0 <= 999_999_999 } ?? true, "message number \(String(describing: n))")
            case .retr(let n), .dele(let n):
                invariant(n >= 1 && n <= 999_999_999, "message number \(n)")
            case .top(let n, let lines):
                invariant(n >= 1 && lines >= 0 && n <= 999_999_999 && lines <= 999_999_999, "TOP \(n) \(lines)")
            case .auth(let mechanism, let initialResponse):
                if let mechanism { invariant(mechanism == mechanism.uppercased(), "mechanism not upper-cased") }
                if let initialResponse, let credentials = PlainCredentials(base64: initialResponse) {
                    invariant(!credentials.authenticationID.isEmpty && !credentials.password.isEmpty, "empty credentials")
                    invariant(!credentials.description.contains("password: \(credentials.password)"), "password in description")
                }
            case .user(let name):
                // Echoing client text (as a server might in +OK) must not split the response.
                checkSingleLine(POP3Response.ok("\(name) is welcome"), "+OK")
            case .pass(let password):
                invariant(!password.isEmpty, "empty PASS accepted")
            case .capa, .stls, .stat, .noop, .rset, .quit:
                break
            }
        }
        _ = PlainCredentials(base64: String(decoding: line, as: UTF8.self))
    }
    let text = String(decoding: payload, as: UTF8.self)
    checkSingleLine(POP3Response.ok(text), "+OK")
    checkSingleLine(POP3Response.err(text, code: .sysTemp), "-ERR [SYS/TEMP]")
    let multi = POP3Response.multiline(text, lines: text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
    invariant(multi.suffix(5) == Array("\r\n.\r\n".utf8) || multi.suffix(3) == Array(".\r\n".utf8), "multi-line response not terminated")
    _ = unstuff(Array(multi.drop(while: { $0 != 10 }).dropFirst()))
}

func checkSingleLine(_ response: [UInt8], _ prefix: String) {
    invariant(response.starts(with: Array(prefix.utf8)), "response does not start with \(prefix): \(show(response))")
    invariant(response.suffix(2) == [13, 10], "response not CRLF-terminated: \(show(response))")
    invariant(!response.dropLast(2).contains(13) && !response.dropLast(2).contains(10), "line break inside a response: \(show(response))")
}

/// A client's reading of a multi-line body (RFC 1939 §3): CRLF-terminated lines; a line that is just "."
/// ends it; otherwise a leading "." is removed. Returns the data and the octets after the terminator, or
/// traps when the terminator is missing or a line lacks its CRLF.
func unstuff(_ wire: [UInt8]) -> (data: [UInt8], trailing: Int) {
    var data: [UInt8] = []
    var i = 0
    while i < wire.count {
        // Lines end at CRLF only; a bare CR inside a line is data.
        var j = i
        while j + 1 < wire.count && !(wire[j] == 13 && wire[j + 1] == 10) { j += 1 }
        invariant(j + 1 < wire.count, "line without CRLF at offset \(i): \(show(wire[i...]))")
        let line = wire[i..<j]
        if line.count == 1 && line.first == 0x2E { return (data, wire.count - (j + 2)) }
        data.append(contentsOf: line.first == 0x2E ? line.dropFirst() : line)
        data += [13, 10]
        i = j + 2
    }
    invariant(false, "multi-line body without terminator: \(show(wire))")
    return (data, 0)
}

/// What a client should read back: bare LF becomes CRLF (stored messages may use LF line ends), a CR at
/// the very end gets its LF, and an unterminated last line gets CRLF. `counted` is what the stuffer reports
/// in `messageOctets` after `finish` (everything but that final added CRLF).
func expectedMessage(_ message: [UInt8]) -> (full: [UInt8], counted: Int) {
    var out: [UInt8] = []
    for (index, b) in message.enumerated() {
        if b == 10 && (index == 0 || message[index - 1] != 13) { out.append(13) }
        out.append(b)
    }
    if out.last == 13 { out.append(10) }
    let counted = out.count
    if !out.isEmpty && out.suffix(2) != [13, 10] { out += [13, 10] }
    return (out, counted)
}

func runStuffer(_ message: [UInt8], splitSeed: UInt8, topLines: UInt8) {
    var stuffer = POP3ByteStuffer()
    var wire: [UInt8] = []
    for read in splitIntoReads(message, seed: splitSeed) { stuffer.encode(read, into: &wire) }
    stuffer.finish(into: &wire)
    let octets = stuffer.messageOctets

    var whole = POP3ByteStuffer()
    var wholeWire: [UInt8] = []
    whole.encode(message[...], into: &wholeWire)
    whole.finish(into: &wholeWire)
    invariant(wire == wholeWire, "stuffing depends on the read split")

    let expected = expectedMessage(message)
    let (data, trailing) = unstuff(wire)
    invariant(trailing == 0, "\(trailing) octets after the terminator")
    invariant(data == expected.full, "unstuffing does not give the message back: \(show(message)) -> \(show(data))")
    invariant(octets == expected.counted, "messageOctets \(octets), expected \(expected.counted)")

    // TOP n: the header block and n body lines, a prefix of the full body, still well terminated.
    var top = POP3ByteStuffer()
    var topWire: [UInt8] = []
    for read in splitIntoReads(message, seed: splitSeed &+ 1) {
        guard top.encode(read, bodyLineLimit: Int(topLines), into: &topWire) else { break }
    }
    invariant(wire.starts(with: topWire), "TOP output is not a prefix of RETR output")
    top.finish(into: &topWire)
    _ = unstuff(topWire)
}

let testOneInput: FuzzTestOneInput = { data, size in
    var input = FuzzInput(fuzzBytes(data, size))
    let control = input.byte()
    let topLines = input.byte()
    let payload = input.payload
    if control & 1 == 0 {
        runCommands(payload)
    } else {
        runStuffer(payload, splitSeed: control >> 1, topLines: topLines)
    }
    return 0
}

runLibFuzzer(testOneInput)

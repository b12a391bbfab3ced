import Testing
@testable import SMTPProtocol

@Suite("Command parser under mutated input")
struct ParserFuzzTests {
    /// Valid lines that exercise every production; mutations of them reach the error paths.
    static let seeds = [
        "EHLO [IPv6:2001:db8::1]", "HELO client.example", "MAIL FROM:<> SIZE=10 BODY=8BITMIME",
        "MAIL FROM:<@a.example,@b.example:\"john \\\"q\\\" doe\"@[192.0.2.1]> SMTPUTF8 RET=HDRS ENVID=a+2Bb AUTH=<>",
        "RCPT TO:<Postmaster> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;x+40y.example", "RCPT TO:<用户@例子.广告>",
        "BDAT 100 LAST", "AUTH PLAIN AHRpbQB0YW5zdGFhZg==", "VRFY someone", "DATA", "STARTTLS", "NOOP x",
    ]
    static let interesting: [UInt8] = [0, 9, 10, 13, 32, 34, 43, 44, 46, 58, 59, 60, 61, 62, 64, 91, 92, 93, 0x7F, 0x80, 0xC3, 0xFF, 65, 49]

    @Test("mutated lines never crash; successes round-trip through encode, failures give one 5xx line")
    func mutations() {
        var rng = SplitMix64(seed: 0x5EED)
        var successes = 0, failures = 0
        for _ in 0..<4000 {
            var line = Array((ParserFuzzTests.seeds.randomElement(using: &rng) ?? "").utf8)
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let position = Int.random(in: 0...line.count, using: &rng)
                let byte = ParserFuzzTests.interesting.randomElement(using: &rng) ?? 0
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: line.insert(byte, at: position)
                case 1: if position < line.count { line[position] = byte }
                default: if position < line.count { line.remove(at: position) }
                }
            }
            switch SMTPCommandParser.parse(line: line[...]) {
            case .success(let command):
                successes += 1
                var wire = command.encode()
                wire.removeLast(2)
                #expect(SMTPCommandParser.parse(line: wire[...]) == .success(command), "\(line)")
            case .failure(let error):
                failures += 1
                let reply = error.reply.encode()
                #expect([500, 501, 555].contains(error.reply.code))
                #expect(reply.filter { $0 == 10 || $0 == 13 }.count == 2)
                #expect(reply.allSatisfy { $0 >= 0x20 && $0 < 0x7F || $0 == 10 || $0 == 13 })
            }
        }
        #expect(successes > 200 && failures > 200)
    }
}

@testable import SMTPProtocol

/// Bytes of a string literal, for wire-level expectations.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Parses a command line given as a string (without CRLF).
func parse(_ line: String) -> Result<SMTPCommand, SMTPSyntaxError> {
    SMTPCommandParser.parse(line: bytes(line)[...])
}

/// Parses a command line given as raw bytes (without CRLF).
func parse(_ line: [UInt8]) -> Result<SMTPCommand, SMTPSyntaxError> {
    SMTPCommandParser.parse(line: line[...])
}

extension Result {
    var success: Success? {
        if case .success(let value) = self { return value }
        return nil
    }

    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

/// Deterministic generator so randomised tests are reproducible (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Mailbox from a parsed MAIL command, or nil.
func senderMailbox(_ line: String) -> Mailbox? {
    if case .success(.mail(let path, _)) = parse(line) { return path.mailbox }
    return nil
}

/// Mailbox from a parsed RCPT command, or nil.
func recipientMailbox(_ line: String) -> Mailbox? {
    if case .success(.rcpt(let path, _)) = parse(line) { return path.mailbox }
    return nil
}

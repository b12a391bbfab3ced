import Testing
@testable import IMAPProtocol

/// Feeds `bytes` in chunks of `chunkSize` (all at once when nil), draining events after each chunk, and
/// merges consecutive `.appendData` chunks so results do not depend on the split.
func events(_ bytes: [UInt8], chunkSize: Int? = nil, parser initial: IMAPCommandParser = IMAPCommandParser()) -> [IMAPCommandEvent] {
    var parser = initial
    var out: [IMAPCommandEvent] = []
    let size = max(1, chunkSize ?? max(1, bytes.count))
    var i = 0
    repeat {
        let end = min(bytes.count, i + size)
        parser.append(bytes[i..<end])
        while let e = parser.next() { out.append(e) }
        i = end
    } while i < bytes.count
    return mergeData(out)
}

func events(_ wire: String, chunkSize: Int? = nil, parser: IMAPCommandParser = IMAPCommandParser()) -> [IMAPCommandEvent] {
    events(Array(wire.utf8), chunkSize: chunkSize, parser: parser)
}

func mergeData(_ list: [IMAPCommandEvent]) -> [IMAPCommandEvent] {
    var out: [IMAPCommandEvent] = []
    for e in list {
        if case .appendData(let chunk) = e, case .appendData(let previous)? = out.last {
            out[out.count - 1] = .appendData(ArraySlice(Array(previous) + Array(chunk)))
        } else if case .appendData(let chunk) = e {
            out.append(.appendData(ArraySlice(Array(chunk))))
        } else {
            out.append(e)
        }
    }
    return out
}

/// The single command parsed from one line (CRLF added), or nil.
func parseCommand(_ line: String, utf8: Bool = false) -> Command? {
    let list = events(line + "\r\n", parser: IMAPCommandParser(utf8Enabled: utf8))
    guard list.count == 1, case .command(let tagged) = list[0] else { return nil }
    return tagged.command
}

/// The error produced by one line (CRLF added), or nil.
func parseError(_ line: String, limits: IMAPCommandParser.Limits = .init()) -> IMAPParseError? {
    let list = events(line + "\r\n", parser: IMAPCommandParser(limits: limits))
    guard case .error(let e)? = list.last else { return nil }
    return e
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

func encoded(_ r: Response, utf8: Bool = false) -> String {
    String(decoding: ResponseEncoder(utf8Enabled: utf8).encode(r), as: UTF8.self)
}

/// A tiny deterministic generator for fuzz tests (no global randomness in tests).
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

extension Array where Element == IMAPCommandEvent {
    /// The tag of the last event when it is an error ("" for an untagged error), nil otherwise.
    var errorTag: String? {
        guard case .error(let e)? = last else { return nil }
        return e.tag ?? ""
    }
}

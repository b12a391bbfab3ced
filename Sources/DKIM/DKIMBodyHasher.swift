import Crypto

/// SHA-256 of the "relaxed" canonical body (RFC 6376 §3.4.4, §3.7), fed in chunks of any size.
///
/// Chunk boundaries may fall anywhere: inside a CRLF, inside a run of WSP, inside trailing empty lines
/// (held back as a count until later content shows they were not trailing). Memory stays bounded
/// whatever the body size. Call `finalize()` once, after the last `update`; later updates are ignored.
public struct DKIMBodyHasher: Sendable {
    private var canonicalizer = RelaxedBodyCanonicalizer()
    private var sink: HashingBodySink
    private var digest: [UInt8]?

    public init() {
        self.sink = HashingBodySink(limit: nil)
    }

    /// A hasher that stops hashing after `limit` canonical bytes (the `l=` tag, RFC 6376 §3.5).
    init(limit: Int?) {
        self.sink = HashingBodySink(limit: limit)
    }

    /// Adds the next bytes of the body (the bytes after the empty line that ends the header block).
    public mutating func update(_ chunk: ArraySlice<UInt8>) {
        guard digest == nil else { return }
        canonicalizer.feed(chunk, into: &sink)
    }

    /// Ends the body and returns the 32-byte SHA-256 of its canonical form (the `bh=` value, before base64).
    public mutating func finalize() -> [UInt8] {
        if let digest { return digest }
        canonicalizer.finish(into: &sink)
        let result = sink.finalize()
        digest = result
        return result
    }

    /// Canonical body bytes seen so far, hashed or not (saturating); after `finalize()`, the whole length.
    var canonicalLength: Int { sink.total }
}

/// Where canonical body bytes go: a hash, or an array (`DKIMCanonicalization.relaxedBody`). Receives them in batches.
protocol CanonicalBodySink {
    mutating func append(contentsOf bytes: UnsafeBufferPointer<UInt8>)
}

struct CollectingBodySink: CanonicalBodySink {
    var bytes: [UInt8] = []
    mutating func append(contentsOf bytes: UnsafeBufferPointer<UInt8>) { self.bytes.append(contentsOf: bytes) }
}

/// Hashes canonical bytes, up to an optional `l=` limit, and counts them all.
struct HashingBodySink: CanonicalBodySink, Sendable {
    private var hasher = SHA256()
    /// Canonical bytes still to hash; `Int.max` when there is no `l=` limit.
    private var remaining: Int
    private(set) var total = 0

    init(limit: Int?) {
        self.remaining = limit.map { max(0, $0) } ?? Int.max
    }

    mutating func append(contentsOf bytes: UnsafeBufferPointer<UInt8>) {
        let (sum, overflow) = total.addingReportingOverflow(bytes.count)
        total = overflow ? Int.max : sum
        let count = min(bytes.count, remaining)
        guard count > 0 else { return }
        remaining -= count
        hasher.update(bufferPointer: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[0..<count])))
    }

    func finalize() -> [UInt8] {
        Array(hasher.finalize())
    }
}

/// The "relaxed" body canonicalization as a byte-at-a-time state machine (RFC 6376 §3.4.4):
/// WSP at line ends dropped, other WSP runs become one SP, empty lines at the end dropped, a CRLF
/// ends the last line when missing. An empty body stays empty (only "simple" turns it into CRLF).
///
/// Input is taken in slices of `sliceSize`; each slice's output is built in one temporary buffer and
/// handed to the sink at once, so the per-byte work is plain stores.
struct RelaxedBodyCanonicalizer: Sendable {
    static let sliceSize = 32 * 1024

    /// A CR was the last byte seen; it is a line end only if LF follows.
    private var pendingCR = false
    /// WSP seen since the last content byte of this line; written as one SP if content follows.
    private var pendingSpace = false
    /// The current line has content (so its line end is kept).
    private var lineHasContent = false
    /// Line ends of empty lines not yet written: dropped if the body ends, written if content follows.
    private var heldLineEnds = 0

    mutating func feed<Sink: CanonicalBodySink>(_ chunk: ArraySlice<UInt8>, into sink: inout Sink) {
        var start = chunk.startIndex
        while start < chunk.endIndex {
            let end = chunk.index(start, offsetBy: Self.sliceSize, limitedBy: chunk.endIndex) ?? chunk.endIndex
            feedSlice(chunk[start..<end], into: &sink)
            start = end
        }
    }

    mutating func finish<Sink: CanonicalBodySink>(into sink: inout Sink) {
        if pendingCR {
            // A lone CR at the very end is data: the CR after it makes it lone, the LF ends the line.
            feedSlice([ASCII.cr, ASCII.lf][...], into: &sink)
        } else if lineHasContent {
            // The wire form always ends in CRLF, so an unterminated last line is treated as terminated:
            // its trailing WSP is dropped and a CRLF added.
            feedSlice([ASCII.lf][...], into: &sink)
        }
        pendingSpace = false
        heldLineEnds = 0
    }

    /// One slice: every input byte yields at most two output bytes (a bare LF becomes CRLF), plus at
    /// most two carried over (a pending CR, a pending SP); held line ends go to the sink directly.
    /// The state lives in locals during the loop so the optimizer keeps it in registers.
    private mutating func feedSlice<Sink: CanonicalBodySink>(_ slice: ArraySlice<UInt8>, into sink: inout Sink) {
        var pendingCR = self.pendingCR
        var pendingSpace = self.pendingSpace
        var lineHasContent = self.lineHasContent
        var heldLineEnds = self.heldLineEnds
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: slice.count * 2 + 4) { output in
            var count = 0
            slice.withUnsafeBufferPointer { input in
                var index = 0
                while index < input.count {
                    var byte = input[index]
                    if pendingCR {
                        pendingCR = false
                        if byte == ASCII.lf {
                            index += 1
                            pendingSpace = false
                            if lineHasContent {
                                output[count] = ASCII.cr
                                output[count + 1] = ASCII.lf
                                count += 2
                                lineHasContent = false
                            } else if heldLineEnds < Int.max {
                                heldLineEnds += 1
                            }
                            continue
                        }
                        byte = ASCII.cr  // a lone CR is data; the current byte is looked at again
                    } else {
                        index += 1
                        switch byte {
                        case ASCII.cr:
                            pendingCR = true
                            continue
                        case ASCII.lf:  // bare LF: a line end, hashed as CRLF
                            pendingSpace = false
                            if lineHasContent {
                                output[count] = ASCII.cr
                                output[count + 1] = ASCII.lf
                                count += 2
                                lineHasContent = false
                            } else if heldLineEnds < Int.max {
                                heldLineEnds += 1
                            }
                            continue
                        case ASCII.space, ASCII.tab:
                            pendingSpace = true
                            continue
                        default:
                            break
                        }
                    }
                    // Content: the held empty lines were not trailing, nor was the WSP before it.
                    if heldLineEnds > 0 {
                        sink.append(contentsOf: UnsafeBufferPointer(rebasing: output[0..<count]))
                        count = 0
                        Self.writeLineEnds(heldLineEnds, into: &sink)
                        heldLineEnds = 0
                    }
                    if pendingSpace {
                        output[count] = ASCII.space
                        count += 1
                        pendingSpace = false
                    }
                    output[count] = byte
                    count += 1
                    lineHasContent = true
                }
            }
            sink.append(contentsOf: UnsafeBufferPointer(rebasing: output[0..<count]))
        }
        self.pendingCR = pendingCR
        self.pendingSpace = pendingSpace
        self.lineHasContent = lineHasContent
        self.heldLineEnds = heldLineEnds
    }

    private static func writeLineEnds<Sink: CanonicalBodySink>(_ count: Int, into sink: inout Sink) {
        var remaining = count
        crlfRun.withUnsafeBufferPointer { run in
            while remaining > 0 {
                let lines = min(remaining, run.count / 2)
                sink.append(contentsOf: UnsafeBufferPointer(rebasing: run[0..<(lines * 2)]))
                remaining -= lines
            }
        }
    }

    private static let crlfRun: [UInt8] = Array(repeating: ASCII.crlf, count: 1024).flatMap { $0 }
}

/// Takes the chunk that follows a `BDAT n` command out of the connection's byte stream (RFC 3030 §2).
///
/// BDAT data is not stuffed or terminated: exactly `n` octets follow the command line, and whatever comes
/// after them is the next command. Bytes are handed out as they arrive, never accumulated. Message-size
/// accounting across chunks is the server's, e.g. with one ``MessageSizeCounter`` per transaction.
public struct BDATChunkReader: Sendable, Hashable {
    /// The announced chunk size.
    public let chunkSize: Int
    /// Octets still to read.
    public private(set) var remaining: Int

    public init(size: Int) {
        self.chunkSize = max(0, size)
        self.remaining = max(0, size)
    }

    /// True when the whole chunk has been read (immediately for `BDAT 0`).
    public var isComplete: Bool { remaining == 0 }

    /// Takes the chunk's bytes from the front of `input`; drop `result.count` bytes from your input — the
    /// rest (if any) belongs to the command stream.
    public mutating func read(_ input: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let take = min(remaining, input.count)
        remaining -= take
        return input.prefix(take)
    }
}

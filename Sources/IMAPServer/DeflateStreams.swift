import CompressNIO
import NIOCore

/// The two raw DEFLATE streams of a session after COMPRESS DEFLATE (RFC 4978 §4: RFC 1951 without zlib
/// header, each direction one stream for the rest of the connection). The session compresses what it
/// writes and inflates what it reads itself, so the connection below needs no knowledge of it.
final class DeflateStreams {
    private let compressor: ZlibCompressor
    private let decompressor: ZlibDecompressor
    private let allocator = ByteBufferAllocator()

    /// Compressed input is inflated in pieces of this size; DEFLATE expands at most about 1032:1, so one
    /// piece always fits the output buffer and a hostile stream cannot make a single read balloon.
    static let inputPiece = 256
    private static let outputCapacity = inputPiece * 1040

    /// Largest compressed read, bounding memory per read to about `maximumRead * 1032` bytes.
    static let maximumRead = 4096

    init() throws {
        compressor = try ZlibCompressor(algorithm: .deflate)
        decompressor = try ZlibDecompressor(algorithm: .deflate)
    }

    /// `bytes` compressed and sync-flushed (RFC 4978 §6: the client must be able to decode every response
    /// as soon as it is sent).
    func compress(_ bytes: [UInt8]) throws -> [UInt8] {
        guard !bytes.isEmpty else { return [] }
        var from = allocator.buffer(bytes: bytes)
        var to = allocator.buffer(capacity: compressor.maxSize(from: from))
        try compressor.deflate(from: &from, to: &to, flush: .sync)
        return Array(to.readableBytesView)
    }

    /// The uncompressed bytes of a piece of the client's stream.
    func decompress(_ bytes: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + Self.inputPiece)
            var from = allocator.buffer(bytes: bytes[offset..<end])
            var to = allocator.buffer(capacity: Self.outputCapacity)
            do {
                try decompressor.inflate(from: &from, to: &to)
            } catch let error as CompressNIOError where error == .inputBufferOverflow {
                // All input taken, no output possible yet: the rest comes with the next read.
            }
            out.append(contentsOf: to.readableBytesView)
            offset = end
        }
        return out
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MailStore

/// A stored message mapped read-only into memory, so the MIME layer can work on its bytes (section
/// offsets, header fields) and large bodies can be sent in chunks without ever being copied whole onto
/// the heap: the pages are the file cache's, and the kernel drops them under pressure.
final class MappedMessage {
    private let base: UnsafeMutableRawPointer?
    let count: Int

    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MailStoreError.io("cannot open message file") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw MailStoreError.io("cannot stat message file") }
        let size = Int(info.st_size)
        count = size
        guard size > 0 else {
            base = nil
            return
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw MailStoreError.io("cannot map message file")
        }
        base = mapped
    }

    deinit {
        if let base { munmap(base, count) }
    }

    /// The bytes; valid while `self` is alive.
    var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: base == nil ? 0 : count) }

    /// A copy of `range` (clamped to the file).
    func bytes(_ range: Range<Int>) -> [UInt8] {
        let lo = max(0, min(range.lowerBound, count)), hi = max(lo, min(range.upperBound, count))
        return Array(buffer[lo..<hi])
    }
}

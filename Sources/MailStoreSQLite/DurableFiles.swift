import Foundation
import MailStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Small POSIX helpers for the durability order of STYLE.md: write the bytes, fsync the file, fsync the
/// directory that names it, and only then commit the index.
enum DurableFiles {
    static func errnoText(_ what: String, _ path: String) -> MailStoreError {
        MailStoreError.io("\(what) \(path): \(String(cString: strerror(errno)))")
    }

    /// Creates a directory (and parents) with mode 0700 if missing; returns true when it had to create it.
    @discardableResult
    static func ensureDirectory(_ path: String) throws -> Bool {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            if isDir.boolValue { return false }
            throw MailStoreError.io("\(path) exists and is not a directory")
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        return true
    }

    static func fsyncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw errnoText("open directory", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw errnoText("fsync directory", path) }
    }

    /// Writes `prefix` followed by the source into a new file at `path` (which must not exist), fsyncs it,
    /// and returns its size. Copies in 1 MiB chunks so large messages never sit whole in memory.
    static func writeNewFile(at path: String, source: MessageSource) throws -> Int64 {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw errnoText("create", path) }
        var ok = false
        defer {
            close(fd)
            if !ok { unlink(path) }
        }
        var written: Int64 = 0
        func writeAll(_ buffer: UnsafeRawBufferPointer) throws {
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, base + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw errnoText("write", path)
                }
                offset += n
            }
            written += Int64(buffer.count)
        }
        switch source {
        case .bytes(let bytes):
            try bytes.withUnsafeBytes { if $0.count > 0 { try writeAll($0) } }
        case .file(let sourcePath, let prefix):
            try prefix.withUnsafeBytes { if $0.count > 0 { try writeAll($0) } }
            let input = open(sourcePath, O_RDONLY | O_CLOEXEC)
            guard input >= 0 else { throw errnoText("open", sourcePath) }
            defer { close(input) }
            let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
            defer { chunk.deallocate() }
            while true {
                let n = read(input, chunk.baseAddress!, chunk.count)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw errnoText("read", sourcePath)
                }
                if n == 0 { break }
                try writeAll(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
            }
        }
        guard fsync(fd) == 0 else { throw errnoText("fsync", path) }
        ok = true
        return written
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MailStoreError.io("cannot read \(path)")
        }
        return [UInt8](data)
    }

    /// Removes a file; a missing file is fine (idempotent cleanup).
    static func remove(_ path: String) {
        unlink(path)
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// File operations for backup and restore: copies are written under a temporary name, fsync'd and renamed,
/// so a file with a final name is always complete (an interrupted run leaves only `.partial` files).
enum DurableCopy {
    static func failure(_ what: String, _ path: String) -> AdminError {
        .io("\(what) \(path): \(String(cString: strerror(errno)))")
    }

    /// Size of a regular file, nil if there is none.
    static func size(_ path: String) -> Int64? {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(info.st_size)
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Creates a directory (and parents) with mode 0700 if missing.
    static func ensureDirectory(_ path: String) throws {
        if isDirectory(path) { return }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw AdminError.io("cannot create \(path): \(error.localizedDescription)")
        }
    }

    static func fsyncPath(_ path: String, directory: Bool) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0))
        guard fd >= 0 else { throw failure("open", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("fsync", path) }
    }

    /// Copies `source` to `destination` through `destination.partial`; returns the bytes copied, or nil when
    /// the source does not exist (a blob or queue file deleted meanwhile). Does not fsync the directory.
    static func copyFile(_ source: String, to destination: String) throws -> Int64? {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        if input < 0 {
            if errno == ENOENT { return nil }
            throw failure("open", source)
        }
        defer { close(input) }
        let temporary = destination + ".partial"
        unlink(temporary)
        let output = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw failure("create", temporary) }
        var done = false
        defer {
            close(output)
            if !done { unlink(temporary) }
        }
        let copied = try pump(from: input, source: source, to: output, destination: temporary)
        guard fsync(output) == 0 else { throw failure("fsync", temporary) }
        guard rename(temporary, destination) == 0 else { throw failure("rename", temporary) }
        done = true
        return copied
    }

    /// Copies everything from one descriptor to another in 1 MiB chunks (messages never sit whole in memory).
    static func pump(from input: Int32, source: String, to output: Int32, destination: String) throws -> Int64 {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        guard let base = chunk.baseAddress else { return 0 }
        var total: Int64 = 0
        while true {
            let n = read(input, base, chunk.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("read", source)
            }
            if n == 0 { return total }
            try writeAll(output, UnsafeRawBufferPointer(start: base, count: n), path: destination)
            total &+= Int64(n)
        }
    }

    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            let n = write(fd, base + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("write", path)
            }
            offset += n
        }
    }

    /// Writes `bytes` to `path` atomically (temporary file, fsync, rename).
    static func writeFile(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".partial"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("create", temporary) }
        var done = false
        defer {
            close(fd)
            if !done { unlink(temporary) }
        }
        try bytes.withUnsafeBytes { try writeAll(fd, $0, path: temporary) }
        guard fsync(fd) == 0 else { throw failure("fsync", temporary) }
        guard rename(temporary, path) == 0 else { throw failure("rename", temporary) }
        done = true
    }

    /// Names in a directory (empty if it does not exist).
    static func entries(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    static func remove(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw AdminError.io("cannot remove \(path): \(error.localizedDescription)")
        }
    }

    /// The path with symlinks and `..` resolved (the path itself if it does not exist yet).
    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// Whether `inner` is `outer` or lies inside it.
    static func contains(_ outer: String, _ inner: String) -> Bool {
        let o = canonical(outer), i = canonical(inner)
        return i == o || i.hasPrefix(o.hasSuffix("/") ? o : o + "/")
    }
}

/// An exclusive advisory lock on a file, held until `release` (or process exit).
final class FileLock {
    private let fd: Int32

    /// Nil when another process holds the lock.
    init?(path: String) throws {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DurableCopy.failure("open", path) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

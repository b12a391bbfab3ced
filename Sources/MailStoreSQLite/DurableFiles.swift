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

    /// A new file whose bytes are written but not yet fsync'd; its descriptor is still open.
    struct NewFile: Sendable {
        let path: String
        let descriptor: Int32
        let size: Int64

        /// Fsyncs and closes the file; on failure the file is closed and removed.
        func syncAndClose() throws -> Int64 {
            defer { close(descriptor) }
            guard fsync(descriptor) == 0 else {
                let error = DurableFiles.errnoText("fsync", path)
                unlink(path)
                throw error
            }
            return size
        }
    }

    /// Writes `prefix` followed by the source into a new file at `path` (which must not exist), fsyncs it,
    /// and returns its size.
    static func writeNewFile(at path: String, source: MessageSource) throws -> Int64 {
        try createFile(at: path, source: source).syncAndClose()
    }

    /// Writes the source into a new file at `path` (which must not exist) and leaves it open for the fsync.
    /// Copies in 1 MiB chunks so large messages never sit whole in memory. On failure nothing is left.
    static func createFile(at path: String, source: MessageSource) throws -> NewFile {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw errnoText("create", path) }
        var ok = false
        defer {
            if !ok {
                close(fd)
                unlink(path)
            }
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
        ok = true
        return NewFile(path: path, descriptor: fd, size: written)
    }

    /// Writes a new file and makes both its bytes and its entry in `directory` durable before returning the
    /// size. The two fsyncs run concurrently (both start after the file exists, which is all either needs),
    /// so they share one ext4 journal commit instead of waiting for two in a row; the directory fsync is
    /// shared with the other files created there meanwhile. `prepare` runs first, on the same thread (say,
    /// creating the directory). On failure the file is removed.
    static func writeNewFileDurably(at path: String, directory: String, source: MessageSource, syncer: DirectorySyncer,
                                    prepare: @escaping @Sendable () throws -> Void = {}) async throws -> Int64 {
        let file = try await DurableIO.run {
            try prepare()
            return try createFile(at: path, source: source)
        }
        async let data = DurableIO.run { try file.syncAndClose() }
        let entry: Result<Void, any Error>
        do {
            try await syncer.sync(directory)
            entry = .success(())
        } catch {
            entry = .failure(error)
        }
        let size: Result<Int64, any Error>
        do {
            size = .success(try await data)
        } catch {
            size = .failure(error)
        }
        do {
            try entry.get()
            return try size.get()
        } catch {
            remove(path)
            throw error
        }
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


/// Directory fsyncs shared between concurrent callers: `sync` returns after an fsync of the directory that
/// began after the call did (so it covers every entry the caller created before), and one fsync serves all
/// the callers that asked meanwhile (group commit, as for the index).
final class DirectorySyncer: Sendable {
    private let group: GroupCommit<String, Void>

    init() {
        group = GroupCommit(maxBatch: 4096) { directories in await Self.fsync(directories) }
    }

    func sync(_ directory: String) async throws {
        try await group.submit(directory)
    }

    private static func fsync(_ directories: [String]) async -> [Result<Void, any Error>] {
        do {
            let failures = try await DurableIO.run { () -> [String: any Error] in
                var failures: [String: any Error] = [:]
                for directory in Set(directories) {
                    do { try DurableFiles.fsyncDirectory(directory) } catch { failures[directory] = error }
                }
                return failures
            }
            return directories.map { failures[$0].map { .failure($0) } ?? .success(()) }
        } catch {
            return directories.map { _ in .failure(error) }
        }
    }
}

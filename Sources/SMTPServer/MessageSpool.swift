import Foundation
import MailStore

/// Holds the bytes of one message while it is received: in memory while small, in a temporary file in the
/// spool folder once it passes `inMemoryLimit`, so a 100 MiB message never sits in memory whole.
///
/// The spool is not the durable copy (the store's delivery is); the file is unlinked by `discard()`.
/// Bytes beyond `maximumSize` are counted but not kept: the transaction then fails with 552.
final class MessageSpool {
    private let directory: String
    private let inMemoryLimit: Int
    let maximumSize: Int
    private var memory: [UInt8] = []
    private var file: FileHandle?
    private(set) var path: String?
    /// Bytes offered so far (also past the maximum).
    private(set) var size = 0
    private(set) var failed = false

    init(directory: String, inMemoryLimit: Int, maximumSize: Int) {
        self.directory = directory
        self.inMemoryLimit = inMemoryLimit
        self.maximumSize = maximumSize
    }

    deinit { discard() }

    var sizeLimitExceeded: Bool { size > maximumSize }

    /// Appends message bytes; a write error is remembered and reported by `source()`.
    func append(_ bytes: ArraySlice<UInt8>) {
        guard !bytes.isEmpty else { return }
        let (newSize, overflow) = size.addingReportingOverflow(bytes.count)
        size = overflow ? Int.max : newSize
        guard !sizeLimitExceeded, !failed else { return }
        if file == nil && memory.count + bytes.count <= inMemoryLimit {
            memory.append(contentsOf: bytes)
            return
        }
        do {
            if file == nil { try moveToFile() }
            try file?.write(contentsOf: bytes)
        } catch {
            failed = true
        }
    }

    func append(_ bytes: [UInt8]) { append(bytes[...]) }

    private func moveToFile() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let path = directory + "/" + RandomID.make() + ".eml"
        // open(2), not FileManager.createFile: that one writes a temporary file and renames it, and a crash
        // in between leaves a stray file that the start-up sweep would not recognise.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        self.path = path
        self.file = handle
        try handle.write(contentsOf: memory)
        memory = []
    }

    /// The received bytes as a store source, with `prefix` (trace headers) in front. Nil if spooling failed.
    func source(prefix: [UInt8]) -> MessageSource? {
        guard !failed else { return nil }
        // Writes went straight to the file (no user-space buffer), so the store's reader sees them all;
        // no fsync here: the store fsyncs its own copy before anything is acknowledged.
        if let path { return .file(path: path, prefix: prefix) }
        return .bytes(prefix + memory)
    }

    /// Frees memory and removes the temporary file. Idempotent.
    func discard() {
        try? file?.close()
        file = nil
        if let path { unlink(path) }
        path = nil
        memory = []
    }
}

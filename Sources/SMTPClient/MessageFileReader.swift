import Foundation
import NIOPosix

/// Reads a spooled message file block by block on NIO's blocking-I/O thread pool, so that neither an
/// event loop nor the cooperative pool waits on the disk and the file is never held in memory whole.
final class MessageFileReader: Sendable {
    private let handle: FileHandle
    private let threadPool: NIOThreadPool

    private init(handle: FileHandle, threadPool: NIOThreadPool) {
        self.handle = handle
        self.threadPool = threadPool
    }

    static func open(path: String, threadPool: NIOThreadPool = .singleton) async throws(SMTPClientError) -> MessageFileReader {
        do {
            let handle = try await threadPool.runIfActive {
                guard let handle = FileHandle(forReadingAtPath: path) else {
                    throw SMTPClientError.messageUnreadable("cannot open the message file")
                }
                return handle
            }
            return MessageFileReader(handle: handle, threadPool: threadPool)
        } catch let error as SMTPClientError {
            throw error
        } catch {
            throw .messageUnreadable(String(describing: error))
        }
    }

    /// The next block of at most `count` octets; empty at the end of the file.
    func read(upTo count: Int) async throws(SMTPClientError) -> [UInt8] {
        do {
            return try await threadPool.runIfActive { [handle] in
                guard let data = try handle.read(upToCount: count) else { return [] }
                return [UInt8](data)
            }
        } catch {
            throw .messageUnreadable(String(describing: error))
        }
    }

    func close() {
        try? handle.close()
    }
}

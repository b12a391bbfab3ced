import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking loopback client for exact protocol tests: raw bytes out, lines and whole SMTP-style replies in.
/// Use it inside `blocking { }`: it blocks its thread.
public final class RawClient: @unchecked Sendable {
    private let fd: Int32
    private var buffer: [UInt8] = []

    public init(port: Int, timeoutSeconds: Int = 15) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { close(fd); throw POSIXError(.ECONNREFUSED) }
    }

    deinit { close(fd) }

    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw POSIXError(.EPIPE) }
            offset += n
        }
    }

    /// Reads one complete (possibly multi-line) reply; returns its lines, e.g. ["250-x", "250 y"].
    public func reply() throws -> [String] {
        var lines: [String] = []
        while true {
            let line = try readLine()
            lines.append(line)
            let bytes = Array(line.utf8)
            if bytes.count < 4 || bytes[3] != UInt8(ascii: "-") { return lines }
        }
    }

    /// One line without its CRLF.
    public func readLine() throws -> String {
        while true {
            if let index = buffer.firstIndex(of: 10) {
                var line = Array(buffer[..<index])
                buffer.removeFirst(index + 1)
                if line.last == 13 { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard try fill() else { throw POSIXError(.ECONNRESET) }
        }
    }

    /// Reads exactly `count` bytes (after what is buffered).
    public func read(count: Int) throws -> [UInt8] {
        while buffer.count < count { guard try fill() else { throw POSIXError(.ECONNRESET) } }
        let result = Array(buffer[..<count])
        buffer.removeFirst(count)
        return result
    }

    /// True if more bytes arrived, false at end of stream.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { throw POSIXError(.ETIMEDOUT) }
        if n == 0 { return false }
        buffer.append(contentsOf: chunk[..<n])
        return true
    }

    /// True when the server closed the connection (after reading anything still pending).
    public func isClosed() -> Bool {
        buffer.removeAll()
        return (try? fill()) != true
    }
}


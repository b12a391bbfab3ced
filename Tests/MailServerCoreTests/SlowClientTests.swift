import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import Testing

@testable import MailServerCore

/// Slow-client defences (Robustness issue): command-line and transfer deadlines on top of the idle
/// timeout, the STARTTLS handshake timeout, and the bound on refusals in progress.
@Suite("slow clients and refusal floods")
struct SlowClientTests {
    /// Like `EchoSession`, plus `DATA n`: `+GO`, then n bytes read as a declared transfer, `+GOT n`.
    static func transferSession(_ connection: MailConnection) async {
        do {
            try await connection.write("+READY\r\n", flush: true)
            while true {
                guard case .line(let bytes) = try await connection.readLine(maxLength: 1000) else { return }
                let text = String(decoding: bytes, as: UTF8.self)
                if text.hasPrefix("DATA "), let count = Int(text.dropFirst(5)) {
                    try await connection.write("+GO\r\n", flush: true)
                    connection.beginTransfer()
                    var remaining = count
                    while remaining > 0 {
                        guard let chunk = try await connection.readBytes(max: remaining) else { return }
                        remaining -= chunk.count
                    }
                    connection.endTransfer()
                    try await connection.write("+GOT \(count)\r\n")
                } else {
                    try await connection.write("+ECHO \(text)\r\n")
                }
            }
        } catch MailConnectionError.timeout {
            try? await connection.write("-TIMEOUT\r\n", flush: true)
        } catch {
        }
    }

    /// Sends `bytes` one at a time, `every` apart, until done, cancelled or the connection fails.
    static func trickle(_ bytes: [UInt8], every interval: Duration,
                        to outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) -> Task<Void, Never> {
        Task {
            for byte in bytes {
                do {
                    try await outbound.write(ByteBuffer(bytes: [byte]))
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
            }
        }
    }

    /// A listener with short deadlines on 127.0.0.1, shut down after `body`.
    func withDeadlines(
        commandTimeout: Duration,
        minimumDataRate: Int = 500,
        idleTimeout: Duration = .seconds(5),
        handshakeTimeout: Duration = .seconds(5),
        startTLS: ServerTLS? = nil,
        handler: @escaping @Sendable (MailConnection) async -> Void = SlowClientTests.transferSession,
        _ body: @escaping @Sendable (Int) async throws -> Void
    ) async throws {
        let listener = MailListener(
            name: "test", host: "127.0.0.1", port: 0, implicitTLS: nil, startTLS: startTLS,
            maxConnections: 16, maxConnectionsPerAddress: 16, idleTimeout: idleTimeout,
            handshakeTimeout: handshakeTimeout, commandTimeout: commandTimeout, minimumDataRate: minimumDataRate,
            shutdownGracePeriod: .seconds(2), handler: handler)
        let port = try await listener.bind()
        try await withTimeout(.seconds(15)) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await listener.run() }
                do {
                    try await body(port)
                } catch {
                    listener.triggerGracefulShutdown()
                    try? await group.waitForAll()
                    throw error
                }
                listener.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
    }

    @Test("a line trickled one byte at a time is cut at the command deadline, though each byte resets the idle timer")
    func trickledLineIsCut() async throws {
        // Idle 5 s, a byte every 100 ms for 12 s: the idle timer alone would not fire before 17 s.
        try await withDeadlines(commandTimeout: .seconds(1), idleTimeout: .seconds(5)) { port in
            try await withClient(port: port) { client in
                #expect(try await client.readLine() == "+READY")
                let start = ContinuousClock.now
                let trickle = Self.trickle([UInt8](repeating: 0x41, count: 120), every: .milliseconds(100), to: client.outbound)
                defer { trickle.cancel() }
                let reply = try await client.readLine()
                let elapsed = ContinuousClock.now - start
                #expect(reply == "-TIMEOUT")
                #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(5), "cut after \(elapsed)")
            }
        }
    }

    @Test("silence between commands is the idle timeout's business: the command deadline starts at the first byte")
    func idleBetweenCommandsIsNotCut() async throws {
        try await withDeadlines(commandTimeout: .seconds(2), idleTimeout: .seconds(10)) { port in
            try await withClient(port: port) { client in
                #expect(try await client.readLine() == "+READY")
                try await Task.sleep(for: .milliseconds(2500))
                try await client.send("hel")
                try await Task.sleep(for: .milliseconds(100))
                try await client.send("lo\r\nsecond\r\n")
                #expect(try await client.readLine() == "+ECHO hello")
                #expect(try await client.readLine() == "+ECHO second")
                try await Task.sleep(for: .milliseconds(2500))
                try await client.send("third\r\n")
                #expect(try await client.readLine() == "+ECHO third")
            }
        }
    }

    @Test("a transfer that keeps up the minimum rate may last longer than the command timeout")
    func steadyTransferPasses() async throws {
        // 3 s + 10 µs per byte: 50,000 bytes (0.5 s more) every 450 ms stays 3 s ahead of its allowance
        // (slack for a loaded machine), and the whole transfer takes longer than the 3 s.
        try await withDeadlines(commandTimeout: .seconds(3), minimumDataRate: 100_000, idleTimeout: .seconds(10)) { port in
            try await withClient(port: port) { client in
                #expect(try await client.readLine() == "+READY")
                try await client.send("DATA 400000\r\n")
                #expect(try await client.readLine() == "+GO")
                let start = ContinuousClock.now
                for _ in 0..<8 {
                    try await client.send(bytes: [UInt8](repeating: 0x61, count: 50_000))
                    try await Task.sleep(for: .milliseconds(450))
                }
                // The line after the data has its own, fresh deadline.
                try await client.send("after\r\n")
                #expect(try await client.readLine() == "+GOT 400000")
                #expect(ContinuousClock.now - start > .seconds(3))
                #expect(try await client.readLine() == "+ECHO after")
            }
        }
    }

    @Test("a trickled transfer is cut once it falls behind the minimum rate")
    func trickledTransferIsCut() async throws {
        try await withDeadlines(commandTimeout: .milliseconds(500), minimumDataRate: 1000) { port in
            try await withClient(port: port) { client in
                #expect(try await client.readLine() == "+READY")
                try await client.send("DATA 1000\r\n")
                #expect(try await client.readLine() == "+GO")
                let start = ContinuousClock.now
                // 20 bytes/s against 1000 required: the allowance grows by 1 ms per byte, time by 50 ms.
                let trickle = Self.trickle([UInt8](repeating: 0x62, count: 60), every: .milliseconds(50), to: client.outbound)
                defer { trickle.cancel() }
                #expect(try await client.readLine() == "-TIMEOUT")
                #expect(ContinuousClock.now - start < .seconds(4), "the 5 s idle timeout would have come later")
            }
        }
    }

    @Test("STARTTLS: a client that never sends its ClientHello is dropped after the handshake timeout")
    func startTLSHandshakeTimeout() async throws {
        let tls = try TestCertificate.serverTLS()
        try await withDeadlines(commandTimeout: .seconds(5), handshakeTimeout: .milliseconds(300), startTLS: tls,
                                handler: EchoSession.run) { port in
            try await withClient(port: port) { client in
                #expect(try await client.readLine() == "+READY")
                try await client.send("STARTTLS\r\n")
                #expect(try await client.readLine() == "+GO")
                let start = ContinuousClock.now
                // The server closes without a word: nothing it could say would be TLS.
                #expect(try await client.readToEnd() == "")
                #expect(ContinuousClock.now - start < .seconds(8), "closed by the 300 ms handshake timeout, not left open")
            }
        }
    }

    @Test("over the caps: refusals in progress are bounded, the rest is closed without a word")
    func refusalBudget() async throws {
        // Implicit TLS: a refusal waits for a handshake these clients never start, so refusals pile up.
        let tls = try TestCertificate.serverTLS()
        let listener = MailListener(
            name: "test", host: "127.0.0.1", port: 0, implicitTLS: tls, maxConnections: 1, maxConnectionsPerAddress: 1,
            idleTimeout: .seconds(5), handshakeTimeout: .seconds(30), shutdownGracePeriod: .seconds(1),
            refusal: { _ in Array("-FULL\r\n".utf8) }, handler: EchoSession.run)
        let port = try await listener.bind()
        let refusing = 64  // ConnectionRegistry's budget: max(64, maxConnections)
        try await withTimeout(.seconds(40)) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await listener.run() }
                // Blocking socket calls run off the cooperative pool (two threads here, shared with every test).
                let sockets = try await RawSocket.offPool {
                    // One admitted, `refusing` held in refusal, 6 over budget.
                    try (0..<(1 + refusing + 6)).map { _ in try RawSocket.connect(port: port) }
                }
                defer { for fd in sockets { close(fd) } }
                // Admission order follows channel set-up, which runs on several event loops: which sockets
                // are over budget is not known, how many is. Count the closed ones until 6 (bounded), then
                // check that no more follow while the refusals are still in progress.
                let deadline = ContinuousClock.now + .seconds(10)
                var closed = 0
                while closed < 6 && ContinuousClock.now < deadline {
                    closed = try await RawSocket.offPool { sockets.filter { RawSocket.receive($0, timeout: .zero) == .endOfStream }.count }
                    try await Task.sleep(for: .milliseconds(100))
                }
                try await Task.sleep(for: .milliseconds(500))
                closed = try await RawSocket.offPool { sockets.filter { RawSocket.receive($0, timeout: .zero) == .endOfStream }.count }
                #expect(closed == 6, "over budget: closed without a word; the rest (1 session, \(refusing) refusals) still waiting")
                listener.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
    }
}

/// Blocking loopback sockets for tests that need many plain connections.
enum RawSocket {
    enum Received: Equatable {
        case bytes(Int)
        case endOfStream
        case nothingYet
        case failed(Int32)
    }

    /// Runs blocking code on a Dispatch thread.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }

    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        return fd
    }

    /// Waits up to `timeout` for bytes or the end of the stream (`.zero`: only looks).
    static func receive(_ fd: Int32, timeout: Duration) -> Received {
        let (seconds, attoseconds) = timeout.components
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 256)
        // SO_RCVTIMEO 0 would mean "forever": a zero timeout is a non-blocking look instead.
        let flags = timeout == .zero ? Int32(MSG_DONTWAIT) : 0
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, flags) }
        if count > 0 { return .bytes(count) }
        if count == 0 { return .endOfStream }
        if errno == EAGAIN || errno == EWOULDBLOCK { return .nothingYet }
        if errno == ECONNRESET { return .endOfStream }
        return .failed(errno)
    }
}

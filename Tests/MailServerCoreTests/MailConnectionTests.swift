import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import MailServerCore

@Suite("MailConnection over loopback")
struct MailConnectionTests {
    @Test("lines: CRLF, bare LF, empty, pipelined in one write, split across writes")
    func lines() async throws {
        try await withListener { _, port in
            let replies = try await withClient(port: port) { client -> [String?] in
                var replies: [String?] = [try await client.readLine()]
                try await client.send("HELLO world\r\nbare\n\r\nPI")
                try await Task.sleep(for: .milliseconds(50))
                try await client.send("NG\r")
                try await Task.sleep(for: .milliseconds(50))
                try await client.send("\nQUIT\r\n")
                for _ in 0..<5 { replies.append(try await client.readLine()) }
                replies.append(try await client.readLine())
                return replies
            }
            #expect(replies == ["+READY", "+ECHO HELLO world", "+ECHO bare", "+ECHO ", "+ECHO PING", "+BYE", nil])
        }
    }

    @Test("wake ends a wakeable read without losing a partial line; a wake before the read is kept for it")
    func wakeableReads() async throws {
        try await withListener { _, port in
            let replies = try await withClient(port: port) { client -> [String?] in
                var replies: [String?] = [try await client.readLine()]
                // Half a line arrives before the wake: the read is woken, the half stays buffered.
                try await client.send("WAIT\r\npar")
                replies.append(try await client.readLine())
                try await client.send("tial\r\n")
                replies.append(try await client.readLine())
                // A plain read is not woken; the wake waits for the next wakeable read.
                try await client.send("WAKEFIRST\r\n")
                try await Task.sleep(for: .milliseconds(100))
                try await client.send("plain line\r\n")
                replies.append(try await client.readLine())
                replies.append(try await client.readLine())
                try await client.send("QUIT\r\n")
                replies.append(try await client.readLine())
                return replies
            }
            #expect(replies == ["+READY", "+WOKEN", "+LINE partial", "+PLAIN plain line", "+WOKEN", "+BYE"])
        }
    }

    @Test("a 10 MB line without newline is reported tooLong and never buffered whole")
    func tooLongLineIsBounded() async throws {
        try await withListener { _, port in
            let replies = try await withClient(port: port) { client -> [String?] in
                _ = try await client.readLine()
                let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
                for _ in 0..<10 { try await client.send(bytes: chunk) }
                // Exactly at the limit is still a line; one more byte is not.
                let atLimit = String(repeating: "y", count: EchoSession.maxLineLength)
                try await client.send("\r\n\(atLimit)\r\n\(atLimit)z\r\nPEAK\r\nQUIT\r\n")
                return [
                    try await client.readLine(), try await client.readLine(), try await client.readLine(),
                    try await client.readLine(), try await client.readLine(),
                ]
            }
            #expect(replies[0] == "-TOOLONG")
            #expect(replies[1] == "+ECHO " + String(repeating: "y", count: EchoSession.maxLineLength))
            #expect(replies[2] == "-TOOLONG")
            let peak = replies[3].flatMap { Int($0.dropFirst("+PEAK ".count)) }
            // The line limit plus what the event loop may have read ahead (up to two 64 KiB socket reads: one
            // being consumed, one delivered behind it while the session task was busy), not 10 MB.
            #expect(peak != nil)
            #expect((peak ?? .max) <= EchoSession.maxLineLength + 1 + 2 * 64 * 1024)
            #expect(replies[4] == "+BYE")
        }
    }

    @Test("readBytes streams a 1 MB body; unread returns the pipelined command after it")
    func readBytesAndUnread() async throws {
        try await withListener { _, port in
            var body = [UInt8](repeating: 0, count: 1 << 20)
            for index in body.indices { body[index] = UInt8(truncatingIfNeeded: index &* 31 &+ index >> 8) }
            var expected = FNV1a()
            expected.update(body)
            let expectedHash = expected.value
            let payload = body
            let replies = try await withClient(port: port) { client -> [String?] in
                _ = try await client.readLine()
                try await client.send("BYTES \(payload.count)\r\n")
                try await client.send(bytes: payload)
                // Small body and the next command in the same segment: the server reads past the
                // body and must push the rest back.
                try await client.send("BYTES 5\r\nhelloPIPELINED\r\nQUIT\r\n")
                return [
                    try await client.readLine(), try await client.readLine(),
                    try await client.readLine(), try await client.readLine(),
                ]
            }
            var small = FNV1a()
            small.update(Array("hello".utf8))
            #expect(replies == [
                "+GOT \(payload.count) \(expectedHash)", "+GOT 5 \(small.value)", "+ECHO PIPELINED", "+BYE",
            ])
        }
    }

    @Test("idle timeout fires when the client sends nothing, and is reset by each byte")
    func idleTimeout() async throws {
        // Margins wide enough for a loaded 2-core machine: gaps of 350 ms against a 1 s timeout.
        try await withListener(idleTimeout: .seconds(1)) { _, port in
            let started = ContinuousClock.now
            let (echo, tail) = try await withClient(port: port) { client -> (String?, String) in
                _ = try await client.readLine()
                // 1.05 s for one line, but never 1 s without a byte.
                for piece in ["PI", "N", "G\r\n"] {
                    try await client.send(piece)
                    try await Task.sleep(for: .milliseconds(350))
                }
                let echo = try await client.readLine()
                return (echo, try await client.readToEnd())
            }
            #expect(echo == "+ECHO PING")
            #expect(tail == "-TIMEOUT\r\n")
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    @Test("connections over the global cap get the refusal and are closed")
    func globalCap() async throws {
        try await withListener(maxConnections: 1) { _, port in
            try await withClient(port: port) { first in
                #expect(try await first.readLine() == "+READY")
                let refused = try await withClient(port: port) { second in try await second.readToEnd() }
                #expect(refused == "-FULL global\r\n")
                try await first.send("QUIT\r\n")
                #expect(try await first.readLine() == "+BYE")
            }
            // The slot is free again once the first session has ended.
            let admitted = try await eventually {
                try await withClient(port: port) { client in try await client.readLine() == "+READY" }
            }
            #expect(admitted)
        }
    }

    @Test("connections over the per-address cap get their own refusal")
    func perAddressCap() async throws {
        try await withListener(maxConnections: 10, maxConnectionsPerAddress: 2) { _, port in
            try await withClient(port: port) { first in
                #expect(try await first.readLine() == "+READY")
                try await withClient(port: port) { second in
                    #expect(try await second.readLine() == "+READY")
                    let refused = try await withClient(port: port) { third in try await third.readToEnd() }
                    #expect(refused == "-FULL address\r\n")
                }
            }
        }
    }

    @Test("graceful shutdown: a waiting session gets shuttingDown, a busy one finishes its command first")
    func gracefulShutdown() async throws {
        let listener = MailListener(
            name: "test", host: "127.0.0.1", port: 0, implicitTLS: nil,
            maxConnections: 8, maxConnectionsPerAddress: 8, idleTimeout: .seconds(30),
            shutdownGracePeriod: .seconds(5), handler: EchoSession.run
        )
        let port = try await listener.bind()
        #expect(listener.boundPort == port)
        try await withTimeout {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await listener.run() }
                let (idle, busy) = try await withClient(port: port) { idleClient -> (String, String) in
                    try await withClient(port: port) { busyClient -> (String, String) in
                        #expect(try await idleClient.readLine() == "+READY")
                        #expect(try await busyClient.readLine() == "+READY")
                        try await busyClient.send("SLOW\r\n")
                        #expect(try await busyClient.readLine() == "+WORKING")
                        listener.triggerGracefulShutdown()
                        return (try await idleClient.readToEnd(), try await busyClient.readToEnd())
                    }
                }
                #expect(idle == "-SHUTDOWN\r\n")
                #expect(busy == "+DONE\r\n-SHUTDOWN\r\n")
                try await group.waitForAll()  // run() returned
            }
        }
        // Not accepting any more.
        await #expect(throws: (any Error).self) {
            try await withClient(port: port) { client in try await client.readLine() }
        }
    }

    @Test("shutdown is bounded: sessions that ignore it are closed after the grace period")
    func shutdownGraceIsBounded() async throws {
        let listener = MailListener(
            name: "test", host: "127.0.0.1", port: 0, implicitTLS: nil,
            maxConnections: 8, maxConnectionsPerAddress: 8, idleTimeout: .seconds(30),
            shutdownGracePeriod: .milliseconds(300),
            handler: { connection in
                try? await connection.write("+READY\r\n", flush: true)
                // Busy "forever" without reading: only cancellation/closing ends this.
                try? await Task.sleep(for: .seconds(60))
            }
        )
        let port = try await listener.bind()
        try await withTimeout(.seconds(5)) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await listener.run() }
                try await withClient(port: port) { client in
                    #expect(try await client.readLine() == "+READY")
                    let started = ContinuousClock.now
                    listener.triggerGracefulShutdown()
                    try await group.waitForAll()
                    #expect(ContinuousClock.now - started < .seconds(3))
                    #expect(try await client.readToEnd() == "")
                }
            }
        }
    }

    @Test("shutdown requested before run(): run returns at once without binding")
    func shutdownBeforeRun() async throws {
        let listener = MailListener(
            name: "test", host: "127.0.0.1", port: 0, implicitTLS: nil,
            maxConnections: 1, maxConnectionsPerAddress: 1, idleTimeout: .seconds(1),
            handler: { _ in }
        )
        listener.triggerGracefulShutdown()
        try await withTimeout(.seconds(2)) { try await listener.run() }
        #expect(listener.boundPort == nil)
    }

    @Test("a non-interruptible readLine (inside a command) still gets its line during shutdown")
    func nonInterruptibleRead() async throws {
        let listener = MailListener(
            name: "test", host: "127.0.0.1", port: 0, implicitTLS: nil,
            maxConnections: 4, maxConnectionsPerAddress: 4, idleTimeout: .seconds(10),
            handler: { connection in
                do {
                    guard case .line = try await connection.readLine(maxLength: 100) else { return }
                    try await connection.write("+CONTINUE\r\n", flush: true)
                    // e.g. the rest of an IMAP command after a literal
                    guard case .line(let rest) = try await connection.readLine(maxLength: 100, interruptible: false)
                    else { return }
                    try await connection.write("+REST \(String(decoding: rest, as: UTF8.self))\r\n")
                    _ = try await connection.readLine(maxLength: 100)
                } catch MailConnectionError.shuttingDown {
                    try? await connection.write("-SHUTDOWN\r\n", flush: true)
                } catch {}
            }
        )
        let port = try await listener.bind()
        try await withTimeout {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await listener.run() }
                let received = try await withClient(port: port) { client -> [String?] in
                    try await client.send("APPEND {3}\r\n")
                    let first = try await client.readLine()
                    listener.triggerGracefulShutdown()
                    try await Task.sleep(for: .milliseconds(200))
                    try await client.send("abc\r\n")
                    return [first, try await client.readLine(), try await client.readLine(), try await client.readLine()]
                }
                #expect(received == ["+CONTINUE", "+REST abc", "-SHUTDOWN", nil])
                try await group.waitForAll()
            }
        }
    }

    @Test("a client that does not read cannot make the server buffer output without bound")
    func writeBackpressure() async throws {
        let outcome = LockedBox<(written: Int, error: MailConnectionError?)>((0, nil))
        let chunk = [UInt8](repeating: UInt8(ascii: "o"), count: 64 * 1024)
        let total = 256 * chunk.count  // 16 MiB, more than loopback socket buffers hold
        try await withListener(idleTimeout: .milliseconds(300), handler: { connection in
            do {
                while outcome.withLock({ $0.written }) < total {
                    try await connection.write(chunk)
                    outcome.withLock { $0.written += chunk.count }
                }
            } catch let error as MailConnectionError {
                outcome.withLock { $0.error = error }
            } catch {}
        }) { _, port in
            try await withClient(port: port) { _ in
                // Connected, never reading, until the server gives up.
                _ = try await eventually(.seconds(5)) { outcome.withLock { $0.error != nil } }
            }
        }
        let (written, error) = outcome.withLock { $0 }
        #expect(error == .timeout)
        #expect(written < total)
    }

    @Test("a client that sends faster than the session reads is not read from beyond the high watermark")
    func readBackpressure() async throws {
        try await withListener(handler: { connection in
            do {
                try await connection.write("+READY\r\n", flush: true)
                // Busy, not reading, while the client floods.
                try await Task.sleep(for: .milliseconds(500))
                try await connection.write("+PEAK \(try await connection.peakBufferedBytes())\r\n", flush: true)
            } catch {}
        }) { _, port in
            let reply = try await withClient(port: port) { client -> String? in
                #expect(try await client.readLine() == "+READY")
                let outbound = client.outbound
                let flood = Task {
                    try? await outbound.write(ByteBuffer(repeating: UInt8(ascii: "x"), count: 16 << 20))
                }
                defer { flood.cancel() }
                return try await client.readLine()
            }
            let peak = reply.flatMap { Int($0.dropFirst("+PEAK ".count)) }
            #expect(peak != nil)
            // High watermark (64 KiB) plus at most one socket read.
            #expect((peak ?? .max) <= 2 * 64 * 1024)
        }
    }

    @Test("two reads at once on one connection: the second fails with concurrentRead")
    func concurrentRead() async throws {
        let second = LockedBox<MailConnectionError?>(nil)
        try await withListener(handler: { connection in
            async let first = connection.readLine(maxLength: 100)
            try? await Task.sleep(for: .milliseconds(100))
            do {
                _ = try await connection.readLine(maxLength: 100)
            } catch let error as MailConnectionError {
                second.withLock { $0 = error }
            } catch {}
            try? await connection.write("+CHECKED\r\n", flush: true)
            _ = try? await first
        }) { _, port in
            let reply = try await withClient(port: port) { client -> String? in
                let reply = try await client.readLine()
                try await client.send("done\r\n")
                return reply
            }
            #expect(reply == "+CHECKED")
        }
        #expect(second.withLock { $0 } == .concurrentRead)
    }

    @Test("IPv6 loopback works and the remote address is reported as text")
    func ipv6AndRemoteAddress() async throws {
        let addresses = LockedBox<[String]>([])
        let listener = MailListener(
            name: "test6", host: "::1", port: 0, implicitTLS: nil,
            maxConnections: 4, maxConnectionsPerAddress: 4, idleTimeout: .seconds(5),
            handler: { connection in
                addresses.withLock { $0.append("\(connection.remoteAddress ?? "nil") \(connection.localPort)") }
                try? await connection.write("+READY\r\n", flush: true)
            }
        )
        let port: Int
        do {
            port = try await listener.bind()
        } catch {
            // No IPv6 on this machine: nothing to test.
            return
        }
        try await withTimeout {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await listener.run() }
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connect(host: "::1", port: port) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                        }
                    }
                let greeting = try await channel.executeThenClose { inbound, _ -> String in
                    var text = ""
                    for try await chunk in inbound { text += String(buffer: chunk) }
                    return text
                }
                #expect(greeting == "+READY\r\n")
                listener.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        #expect(addresses.withLock { $0 } == ["::1 \(port)"])
    }

    @Test("peer addresses: IPv4-mapped IPv6 is shown as IPv4; IPv6 limits apply per /64")
    func peerAddressKeys() throws {
        let v4 = PeerAddress(try SocketAddress(ipAddress: "192.0.2.7", port: 1))
        #expect(v4.text == "192.0.2.7")
        #expect(v4.limitKey == "192.0.2.7")
        let mapped = PeerAddress(try SocketAddress(ipAddress: "::ffff:192.0.2.7", port: 1))
        #expect(mapped.text == "192.0.2.7")
        #expect(mapped.limitKey == "192.0.2.7")
        let a = PeerAddress(try SocketAddress(ipAddress: "2001:db8:1:2::1", port: 1))
        let b = PeerAddress(try SocketAddress(ipAddress: "2001:db8:1:2:ffff::9", port: 1))
        let c = PeerAddress(try SocketAddress(ipAddress: "2001:db8:1:3::1", port: 1))
        #expect(a.text == "2001:db8:1:2::1")
        #expect(a.limitKey == b.limitKey)
        #expect(a.limitKey != c.limitKey)
    }
}

import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Testing

@testable import MailServerCore

struct TestTimedOut: Error {}

/// Fails instead of hanging: every network test runs under this.
func withTimeout<T: Sendable>(
    _ duration: Duration = .seconds(10),
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: duration)
            throw TestTimedOut()
        }
        defer { group.cancelAll() }
        guard let result = try await group.next() else { throw TestTimedOut() }
        return result
    }
}

/// A throwaway directory under the system temp dir.
func makeTemporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "mailservercore-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// One development certificate for "localhost" shared by the TLS tests (generated once per run).
enum TestCertificate {
    static let directory: String = NSTemporaryDirectory() + "mailservercore-tls-" + UUID().uuidString

    /// Generated once (a static `let` is initialised exactly once, even with tests running in parallel).
    private static let shared: Result<ServerTLS, any Error> = Result {
        try ServerTLS.selfSigned(hostname: "localhost", directory: directory)
    }

    static func serverTLS() throws -> ServerTLS {
        try shared.get()
    }

    /// A client that trusts exactly our certificate and checks it is valid for "localhost".
    static func clientConfiguration(
        minimum: TLSVersion = .tlsv12,
        maximum: TLSVersion? = nil
    ) throws -> TLSConfiguration {
        _ = try serverTLS()
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(directory + "/cert.pem"))
        configuration.certificateVerification = .fullVerification
        configuration.minimumTLSVersion = minimum
        configuration.maximumTLSVersion = maximum
        return configuration
    }
}

/// 64-bit FNV-1a, to compare streamed bytes on both ends.
struct FNV1a: Sendable {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        for byte in bytes {
            value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
    }
}

/// A tiny line protocol over MailConnection, the way SMTP/IMAP/POP3 sessions will use it.
///
/// Greeting `+READY`. Commands: `QUIT`, `STARTTLS`, `TLSINFO`, `BYTES n` (then n raw bytes, read with
/// `readBytes` and the surplus pushed back with `unread`), `SLOW` (replies `+WORKING`, works 500 ms,
/// then `+DONE`), `PEAK` (largest input buffer), anything else is echoed as `+ECHO <line>`.
/// `WAIT` and `WAKEFIRST` exercise wakeable reads (see the tests).
/// Errors: `-TOOLONG`, `-TIMEOUT`, `-SHUTDOWN`.
enum EchoSession {
    static let maxLineLength = 1000

    static func run(_ connection: MailConnection) async {
        do {
            try await connection.write("+READY\r\n", flush: true)
            while true {
                let line: [UInt8]
                do {
                    switch try await connection.readLine(maxLength: maxLineLength) {
                    case .line(let bytes): line = bytes
                    case .tooLong:
                        try await connection.write("-TOOLONG\r\n")
                        continue
                    case .eof:
                        return
                    }
                } catch MailConnectionError.timeout {
                    try await connection.write("-TIMEOUT\r\n", flush: true)
                    return
                } catch MailConnectionError.shuttingDown {
                    try await connection.write("-SHUTDOWN\r\n", flush: true)
                    return
                }
                let text = String(decoding: line, as: UTF8.self)
                let words = text.split(separator: " ", maxSplits: 1)
                switch words.first.map(String.init) ?? "" {
                case "QUIT":
                    try await connection.write("+BYE\r\n", flush: true)
                    return
                case "STARTTLS":
                    try await connection.write("+GO\r\n")
                    try await connection.startTLS()
                case "TLSINFO":
                    if let info = connection.tlsInfo {
                        try await connection.write("+TLS \(info.version) \(info.cipher)\r\n")
                    } else {
                        try await connection.write("+PLAIN\r\n")
                    }
                case "BYTES":
                    let count = words.count == 2 ? Int(words[1]) ?? 0 : 0
                    var remaining = count
                    var hash = FNV1a()
                    while remaining > 0 {
                        guard let chunk = try await connection.readBytes(max: 4096) else { return }
                        if chunk.count > remaining {
                            connection.unread(Array(chunk[remaining...]))
                            hash.update(chunk[..<remaining])
                            remaining = 0
                        } else {
                            hash.update(chunk)
                            remaining -= chunk.count
                        }
                    }
                    try await connection.write("+GOT \(count) \(hash.value)\r\n")
                case "SLOW":
                    try await connection.write("+WORKING\r\n", flush: true)
                    try await Task.sleep(for: .milliseconds(500))
                    try await connection.write("+DONE\r\n")
                case "WAIT":
                    // Wakes itself after 150 ms; reports what ended each wakeable read until a line came.
                    Task {
                        try? await Task.sleep(for: .milliseconds(150))
                        connection.wake()
                    }
                    var line: MailConnection.WakeableRead = .woken
                    while line == .woken {
                        line = try await connection.readLineOrWake(maxLength: maxLineLength)
                        try await connection.write(line == .woken ? "+WOKEN\r\n" : "+LINE \(Self.text(line))\r\n", flush: true)
                    }
                case "WAKEFIRST":
                    // A wake before the read is not lost; a plain read ignores it and leaves it for the next
                    // wakeable read.
                    connection.wake()
                    let plain = try await connection.readLine(maxLength: maxLineLength)
                    try await connection.write("+PLAIN \(Self.text(.line(plain)))\r\n", flush: true)
                    let next = try await connection.readLineOrWake(maxLength: maxLineLength)
                    try await connection.write(next == .woken ? "+WOKEN\r\n" : "+LINE \(Self.text(next))\r\n", flush: true)
                case "PEAK":
                    try await connection.write("+PEAK \(try await connection.peakBufferedBytes())\r\n")
                default:
                    try await connection.write("+ECHO \(text)\r\n")
                }
            }
        } catch {
            // The client went away or TLS failed: nothing to say to anyone.
        }
    }
}

extension EchoSession {
    static func text(_ read: MailConnection.WakeableRead) -> String {
        switch read {
        case .line(.line(let bytes)): return String(decoding: bytes, as: UTF8.self)
        case .line(.tooLong): return "(too long)"
        case .line(.eof), .bytes(nil): return "(eof)"
        case .bytes(let bytes?): return String(decoding: bytes, as: UTF8.self)
        case .woken: return "(woken)"
        }
    }
}

/// Runs `body` against a listener on 127.0.0.1 (free port), then shuts the listener down gracefully
/// and checks that `run()` returned.
func withListener(
    implicitTLS: ServerTLS? = nil,
    startTLS: ServerTLS? = nil,
    maxConnections: Int = 64,
    maxConnectionsPerAddress: Int = 64,
    idleTimeout: Duration = .seconds(10),
    shutdownGracePeriod: Duration = .seconds(5),
    handler: @escaping @Sendable (MailConnection) async -> Void = EchoSession.run,
    _ body: @escaping @Sendable (MailListener, Int) async throws -> Void
) async throws {
    let listener = MailListener(
        name: "test",
        host: "127.0.0.1",
        port: 0,
        implicitTLS: implicitTLS,
        startTLS: startTLS,
        maxConnections: maxConnections,
        maxConnectionsPerAddress: maxConnectionsPerAddress,
        idleTimeout: idleTimeout,
        handshakeTimeout: .seconds(5),
        shutdownGracePeriod: shutdownGracePeriod,
        refusal: { reason in
            switch reason {
            case .tooManyConnections: return Array("-FULL global\r\n".utf8)
            case .tooManyFromAddress: return Array("-FULL address\r\n".utf8)
            }
        },
        handler: handler
    )
    let port = try await listener.bind()
    try await withTimeout(.seconds(15)) {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await listener.run() }
            do {
                try await body(listener, port)
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

/// A scripted client: send text, read CRLF lines, optionally switch to TLS mid-stream.
struct LineClient {
    let channel: any Channel
    var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    var buffer: [UInt8] = []

    func send(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    func send(bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// The next line without CRLF, or nil at end of stream.
    mutating func readLine() async throws -> String? {
        while true {
            if let lf = buffer.firstIndex(of: 10) {
                var line = Array(buffer[..<lf])
                buffer.removeSubrange(...lf)
                if line.last == 13 { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard let chunk = try await iterator.next() else { return nil }
            buffer.append(contentsOf: chunk.readableBytesView)
        }
    }

    /// Everything until the server closes.
    mutating func readToEnd() async throws -> String {
        while let chunk = try await iterator.next() {
            buffer.append(contentsOf: chunk.readableBytesView)
        }
        defer { buffer = [] }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Puts a TLS client handler in front, as a STARTTLS client does after the go-ahead.
    func startTLS(_ configuration: TLSConfiguration) async throws {
        let context = try NIOSSLContext(configuration: configuration)
        let channel = self.channel
        try await channel.eventLoop.submit {
            let handler = try NIOSSLClientHandler(context: context, serverHostname: "localhost")
            try channel.pipeline.syncOperations.addHandler(handler, position: .first)
        }.get()
    }
}

/// Connects to 127.0.0.1:`port` (with TLS from the first byte if `tls` is given) and runs `body`.
func withClient<Result: Sendable>(
    port: Int,
    tls: TLSConfiguration? = nil,
    _ body: (inout LineClient) async throws -> Result
) async throws -> Result {
    let sslContext = try tls.map { try NIOSSLContext(configuration: $0) }
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                if let sslContext {
                    let handler = try NIOSSLClientHandler(context: sslContext, serverHostname: "localhost")
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
                return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    return try await channel.executeThenClose { inbound, outbound in
        var client = LineClient(channel: channel.channel, iterator: inbound.makeAsyncIterator(), outbound: outbound)
        return try await body(&client)
    }
}

/// Polls `condition` (bounded) for state that settles asynchronously, e.g. a closed session.
func eventually(_ timeout: Duration = .seconds(5), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

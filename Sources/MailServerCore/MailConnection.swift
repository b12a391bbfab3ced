import NIOCore
import NIOSSL

/// Result of `MailConnection.readLine(maxLength:interruptible:)`.
public enum LineRead: Sendable, Equatable {
    /// One line, without its CRLF (or bare LF).
    case line([UInt8])
    /// The line exceeded `maxLength`. Its bytes were discarded up to and including the newline and were
    /// never buffered beyond the limit; the next read starts at the following line.
    case tooLong
    /// The client closed the connection (a partial last line without newline is dropped).
    case eof
}

/// One accepted client connection, used by exactly one session task.
///
/// The session is a plain loop: `readLine` for commands, `readBytes` to stream message bodies,
/// literals and chunks into its own decoders (`unread` gives back what a decoder did not consume),
/// `write` + `flush` for replies, `startTLS` for STARTTLS/STLS.
///
/// - Reads wait at most `idleTimeout` for the next byte, then throw `MailConnectionError.timeout`.
/// - Slow clients: a command line must be complete within the listener's command timeout of its first
///   byte (plus one second per minimum-data-rate bytes), and a transfer declared with `beginTransfer()`
///   must keep up the minimum data rate; otherwise the read throws `MailConnectionError.timeout` too.
/// - A read that has to wait for the client first flushes any output written but not yet flushed,
///   so a forgotten `flush()` cannot deadlock a session.
/// - On graceful shutdown, an interruptible `readLine` that finds no buffered input throws
///   `MailConnectionError.shuttingDown` (the session then sends its goodbye); a session busy with a
///   command finishes it first, and pipelined commands already received are still returned.
/// - Writes are queued in the channel and sent on `flush()` (or `write(_:flush: true)`); when the
///   client stops reading and the outbound buffer passes its high watermark, `write` waits (up to
///   `idleTimeout`) instead of buffering without bound.
///
/// Privacy: this type never logs. `remoteAddress` is given to the session, which decides.
///
/// ```swift
/// try await connection.write("220 mail.example.org ESMTP\r\n", flush: true)
/// loop: while true {
///     let line: [UInt8]
///     do {
///         switch try await connection.readLine(maxLength: 512) {  // RFC 5321 §4.5.3.1.4
///         case .line(let bytes): line = bytes
///         case .tooLong: try await connection.write("500 5.5.2 Line too long\r\n"); continue
///         case .eof: break loop
///         }
///     } catch MailConnectionError.timeout {
///         try? await connection.write("421 4.4.2 Idle timeout\r\n", flush: true); break
///     } catch MailConnectionError.shuttingDown {
///         try? await connection.write("421 4.3.2 Shutting down\r\n", flush: true); break
///     }
///     // ... parse and handle `line`; replies via connection.write(_:) ...
/// }
/// await connection.close()
/// ```
public final class MailConnection: Sendable {
    /// Lock-protected state read by synchronous getters from any thread.
    struct SharedState {
        var idleTimeout: Duration
        var tlsInfo: TLSInfo?
        var isShuttingDown = false
        var nextReadID: UInt64 = 0
        var inTransfer = false
    }

    /// What the listener hands every connection.
    struct Configuration: Sendable {
        var idleTimeout: Duration
        var handshakeTimeout: Duration
        var implicitTLS: ServerTLS?
        var startTLS: ServerTLS?
        var commandTimeout: Duration = ClientDeadlines().commandTimeout
        var minimumDataRate: Int = ClientDeadlines().minimumDataRate
    }

    /// The client's IP address as text (`"192.0.2.1"`, `"2001:db8::1"`; IPv4-mapped IPv6 addresses are
    /// shown as IPv4), or nil if unknown. For the session to use under its own logging policy.
    public let remoteAddress: String?
    /// The local port the client connected to (e.g. 25, 587, 465).
    public let localPort: Int

    /// Key for per-address connection limits: the IPv4 address, or the /64 prefix of an IPv6 address
    /// (one IPv6 host usually owns a whole /64 and can rotate addresses inside it).
    public let limitKey: String

    private let channel: any Channel
    private let handler: NIOLoopBound<MailConnectionHandler>
    private let shared: LockedBox<SharedState>
    private let startTLSConfiguration: ServerTLS?
    private let handshakeTimeout: Duration
    private let implicitHandshake: EventLoopFuture<TLSInfo>?

    private init(
        channel: any Channel,
        handler: NIOLoopBound<MailConnectionHandler>,
        shared: LockedBox<SharedState>,
        configuration: Configuration,
        implicitHandshake: EventLoopFuture<TLSInfo>?
    ) {
        self.channel = channel
        self.handler = handler
        self.shared = shared
        self.startTLSConfiguration = configuration.startTLS
        self.handshakeTimeout = configuration.handshakeTimeout
        self.implicitHandshake = implicitHandshake
        let address = PeerAddress(channel.remoteAddress)
        self.remoteAddress = address.text
        self.limitKey = address.limitKey
        self.localPort = channel.localAddress?.port ?? 0
    }

    /// Sets up the pipeline of a freshly accepted channel. Must run on the channel's event loop.
    static func install(
        on channel: any Channel,
        configuration: Configuration,
        limits: MailConnectionHandler.Limits = .init()
    ) throws -> MailConnection {
        let shared = LockedBox(SharedState(idleTimeout: configuration.idleTimeout))
        var limits = limits
        limits.commandTimeout = TimeAmount(max(.milliseconds(1), min(configuration.commandTimeout, .seconds(366 * 24 * 3600))))
        limits.nanosecondsPerByte = 1_000_000_000 / Int64(max(1, configuration.minimumDataRate))
        let handler = MailConnectionHandler(eventLoop: channel.eventLoop, shared: shared, limits: limits)
        let pipeline = channel.pipeline.syncOperations
        var handshake: EventLoopFuture<TLSInfo>?
        if let tls = configuration.implicitTLS {
            // Socket side first: observer (sees the ServerHello), TLS, then the connection handler.
            let observer = ServerHelloObserver()
            let ssl = NIOSSLServerHandler(context: tls.sslContext)
            try pipeline.addHandler(observer)
            try pipeline.addHandler(ssl)
            try pipeline.addHandler(handler)
            handshake = handler.beginHandshake(
                ssl: ssl,
                observer: observer,
                timeout: TimeAmount(configuration.handshakeTimeout)
            )
        } else {
            try pipeline.addHandler(handler)
        }
        return MailConnection(
            channel: channel,
            handler: NIOLoopBound(handler, eventLoop: channel.eventLoop),
            shared: shared,
            configuration: configuration,
            implicitHandshake: handshake
        )
    }

    // MARK: State

    /// How long a read waits for the next byte (and a write for the client to read). Settable per
    /// session and per phase: e.g. 5 minutes for SMTP (RFC 5321 §4.5.3.2), 30 for IMAP (RFC 9051 §5.4).
    public var idleTimeout: Duration {
        get { shared.withLock { $0.idleTimeout } }
        set { shared.withLock { $0.idleTimeout = newValue } }
    }

    /// Whether TLS is established (implicit TLS, or after `startTLS()`).
    public var isTLS: Bool { tlsInfo != nil }

    /// Negotiated version and cipher, once TLS is established.
    public var tlsInfo: TLSInfo? { shared.withLock { $0.tlsInfo } }

    /// Whether STARTTLS may be offered: a certificate is configured and TLS is not active yet.
    public var offersStartTLS: Bool { startTLSConfiguration != nil && !isTLS }

    /// Whether the server is shutting down gracefully (the session should not start long work).
    public var isShuttingDown: Bool { shared.withLock { $0.isShuttingDown } }

    // MARK: Reading

    /// Reads one line of at most `maxLength` bytes (excluding CRLF).
    ///
    /// - Parameter interruptible: whether graceful shutdown may end this read with
    ///   `MailConnectionError.shuttingDown` when no input is buffered. Pass `false` for a read inside a
    ///   command (e.g. an IMAP command line continuing after a literal).
    /// - Throws: `MailConnectionError.timeout`, `.shuttingDown`, `.concurrentRead`, `CancellationError`.
    public func readLine(maxLength: Int, interruptible: Bool = true) async throws -> LineRead {
        while true {
            switch try await read(.line(maxLength: maxLength, interruptible: interruptible)) {
            case .line(let bytes): return .line(bytes)
            case .tooLong: return .tooLong
            case .bytes(let bytes): return .line(bytes)
            case .eof: return .eof
            case .woken: continue  // only wakeable reads are woken
            }
        }
    }

    /// What ``readLineOrWake(maxLength:idleTimeout:)`` and ``readBytesOrWake(max:idleTimeout:)`` return.
    public enum WakeableRead: Sendable, Equatable {
        case line(LineRead)
        /// Raw input; nil at end of input.
        case bytes([UInt8]?)
        /// ``wake()`` was called (before or during the read) and no complete input was there.
        case woken
    }

    /// ``readLine(maxLength:interruptible:)`` that ``wake()`` also ends: one read waits for the client and
    /// for an event at once, with no second task (an IMAP session in IDLE waits for DONE and for mailbox
    /// changes this way: thousands of idling sessions each hold one pending read, nothing more).
    /// Interruptible by graceful shutdown. `idleTimeout` overrides the connection's for this read.
    public func readLineOrWake(maxLength: Int, idleTimeout: Duration? = nil) async throws -> WakeableRead {
        switch try await read(.line(maxLength: maxLength, interruptible: true), wakeable: true, idleTimeout: idleTimeout) {
        case .line(let bytes), .bytes(let bytes): return .line(.line(bytes))
        case .tooLong: return .line(.tooLong)
        case .eof: return .line(.eof)
        case .woken: return .woken
        }
    }

    /// ``readBytes(max:)`` that ``wake()`` also ends (see ``readLineOrWake(maxLength:idleTimeout:)``).
    public func readBytesOrWake(max: Int, idleTimeout: Duration? = nil) async throws -> WakeableRead {
        switch try await read(.bytes(max: max), wakeable: true, idleTimeout: idleTimeout) {
        case .bytes(let bytes), .line(let bytes): return .bytes(bytes)
        case .tooLong: return .bytes([])
        case .eof: return .bytes(nil)
        case .woken: return .woken
        }
    }

    /// Ends the pending wakeable read with `.woken`, or the next one if none is pending (a wake is never
    /// lost between two reads). Thread-safe; costs one hop to the connection's event loop.
    public func wake() {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.wake() }
    }

    /// Returns the buffered input (waiting for some if there is none), at most `max` bytes; nil at end of
    /// input. Never interrupted by graceful shutdown: it is used inside a command (message data).
    public func readBytes(max: Int) async throws -> [UInt8]? {
        while true {
            switch try await read(.bytes(max: max)) {
            case .bytes(let bytes), .line(let bytes): return bytes
            case .tooLong: return []
            case .eof: return nil
            case .woken: continue  // only wakeable reads are woken
            }
        }
    }

    /// Puts `bytes` back in front of the unread input, to be returned by the next read: for a decoder
    /// that read past the end of its part (e.g. commands pipelined after the end of DATA).
    /// Takes effect before any read started after this call.
    public func unread(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        let handler = self.handler
        channel.eventLoop.execute { handler.value.unread(bytes) }
    }

    /// Declares a bulk transfer inside a command (SMTP DATA or BDAT data, an IMAP literal): until
    /// `endTransfer()`, reads fail with `MailConnectionError.timeout` unless the client keeps up the
    /// listener's minimum data rate — the transfer of n bytes may take the command timeout plus
    /// n / minimum rate seconds. Without it, a client sending one byte just before each idle timeout
    /// could hold the session forever. Idempotent.
    public func beginTransfer() {
        let changed = shared.withLock { state -> Bool in
            defer { state.inTransfer = true }
            return !state.inTransfer
        }
        guard changed else { return }
        let handler = self.handler
        channel.eventLoop.execute { handler.value.beginTransfer() }
    }

    /// Ends the transfer begun with `beginTransfer()`; back to per-line deadlines. Idempotent.
    public func endTransfer() {
        let changed = shared.withLock { state -> Bool in
            defer { state.inTransfer = false }
            return state.inTransfer
        }
        guard changed else { return }
        let handler = self.handler
        channel.eventLoop.execute { handler.value.endTransfer() }
    }

    private func read(_ request: MailConnectionHandler.ReadRequest, wakeable: Bool = false,
                      idleTimeout: Duration? = nil) async throws -> MailConnectionHandler.ReadResult {
        let (id, timeout) = shared.withLock { state -> (UInt64, Duration) in
            state.nextReadID &+= 1
            return (state.nextReadID, idleTimeout ?? state.idleTimeout)
        }
        let idle = Self.timeAmount(timeout)
        let handler = self.handler
        let eventLoop = channel.eventLoop
        let future = eventLoop.flatSubmit { handler.value.startRead(request, id: id, idleTimeout: idle, wakeable: wakeable) }
        return try await withTaskCancellationHandler {
            try await future.get()
        } onCancel: {
            eventLoop.execute { handler.value.cancelRead(id: id) }
        }
    }

    // MARK: Writing

    /// Queues `bytes` for sending; sent on `flush()` or when `flush` is true. Waits while the client is
    /// not reading and too much output is pending. Throws `MailConnectionError.closed`, `.timeout`.
    public func write(_ bytes: [UInt8], flush: Bool = false) async throws {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        try await write(buffer, flush: flush)
    }

    /// `write` for text (sent as UTF-8), e.g. `"250 OK\r\n"`.
    public func write(_ text: String, flush: Bool = false) async throws {
        try await write(ByteBuffer(string: text), flush: flush)
    }

    /// `write` for a `ByteBuffer` (no copy).
    public func write(_ buffer: ByteBuffer, flush: Bool = false) async throws {
        let handler = self.handler
        let idle = Self.timeAmount(idleTimeout)
        try await channel.eventLoop.flatSubmit {
            handler.value.write(buffer, flush: flush, idleTimeout: idle)
        }.get()
    }

    /// Sends everything written so far.
    public func flush() async throws {
        let handler = self.handler
        try await channel.eventLoop.flatSubmit { handler.value.flush() }.get()
    }

    // MARK: TLS

    /// Upgrades to TLS after a STARTTLS/STLS command (RFC 3207, RFC 2595).
    ///
    /// Write the protocol's go-ahead (`220 2.0.0 Ready to start TLS`, `OK Begin TLS`, `+OK`) first; it
    /// is flushed in plaintext here. Input the client sent after its command is discarded (command
    /// injection, CVE-2011-0411). Returns once the handshake is complete.
    /// - Throws: `.startTLSUnavailable`, `.tlsAlreadyActive`, `.tlsHandshakeFailed`,
    ///   `.tlsHandshakeTimeout`, `.closed`. After a failure the connection is closed.
    @discardableResult
    public func startTLS() async throws -> TLSInfo {
        guard let serverTLS = startTLSConfiguration else { throw MailConnectionError.startTLSUnavailable }
        let handler = self.handler
        let timeout = Self.timeAmount(handshakeTimeout)
        return try await channel.eventLoop.flatSubmit {
            handler.value.startTLS(serverTLS, handshakeTimeout: timeout)
        }.get()
    }

    /// Waits for the handshake of an implicit-TLS connection (done by the listener before the session).
    func completeImplicitHandshake() async throws {
        if let implicitHandshake {
            _ = try await implicitHandshake.get()
        }
    }

    // MARK: Closing

    /// Flushes pending output, lets it drain (up to a few seconds), and closes. Idempotent.
    public func close() async {
        let handler = self.handler
        _ = try? await channel.eventLoop.flatSubmit { handler.value.close() }.get()
    }

    /// Tells a waiting read that the server is going down (see the type's documentation).
    func beginShutdown() {
        shared.withLock { $0.isShuttingDown = true }
        let handler = self.handler
        channel.eventLoop.execute { handler.value.beginShutdown() }
    }

    /// Closes immediately, dropping unsent output.
    func abort() {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.abort() }
    }

    /// Largest amount of unread client input buffered at once (tests check the memory bound).
    func peakBufferedBytes() async throws -> Int {
        let handler = self.handler
        return try await channel.eventLoop.submit { handler.value.peakBufferedBytes }.get()
    }

    /// Clamped so that absurd settings cannot overflow NIO's nanosecond arithmetic.
    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        let year = Duration.seconds(366 * 24 * 3600)
        if duration <= .zero { return .zero }
        return TimeAmount(min(duration, year))
    }
}

/// The peer's address, reduced to what sessions and limits need.
struct PeerAddress {
    var text: String?
    var limitKey: String

    init(_ address: SocketAddress?) {
        switch address {
        case .v4(let v4)?:
            var raw = v4.address.sin_addr
            let bytes = withUnsafeBytes(of: &raw) { Array($0) }
            let text = bytes.map(String.init).joined(separator: ".")
            self.text = text
            self.limitKey = text
        case .v6(let v6)?:
            var raw = v6.address.sin6_addr
            let bytes = withUnsafeBytes(of: &raw) { Array($0) }
            if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
                // ::ffff:a.b.c.d from a dual-stack socket is an IPv4 client.
                let text = bytes[12...].map(String.init).joined(separator: ".")
                self.text = text
                self.limitKey = text
            } else {
                self.text = address?.ipAddress
                let prefix = bytes.prefix(8).map { byte -> String in
                    let hex = String(byte, radix: 16)
                    return hex.count == 1 ? "0" + hex : hex
                }
                self.limitKey = prefix.joined() + "/64"
            }
        default:
            self.text = nil
            self.limitKey = "local"
        }
    }
}

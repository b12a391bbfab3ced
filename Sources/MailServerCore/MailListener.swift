import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Errors of the listener's own lifecycle (socket errors from binding are thrown as NIO reports them).
public enum MailListenerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `bind()`/`run()` called in a state that does not allow it (e.g. `run()` twice).
    case invalidState(String)

    public var description: String {
        switch self {
        case .invalidState(let detail): return "listener: \(detail)"
        }
    }
}

/// Deadlines that stop slow clients from holding sessions (slowloris), on top of the idle timeout
/// that every read has. See `MailConnection.beginTransfer()`.
public struct ClientDeadlines: Sendable, Equatable {
    /// Limit for a TLS handshake, implicit or after STARTTLS.
    public var handshakeTimeout: Duration
    /// How long a command line may take from its first byte to its end (plus the data-rate allowance
    /// for long lines), and the base allowance of a transfer.
    public var commandTimeout: Duration
    /// Bytes per second a transfer (message data, literals) must average beyond `commandTimeout`:
    /// n bytes may take `commandTimeout + n / minimumDataRate` seconds. At least 1.
    public var minimumDataRate: Int

    /// 15 s for a handshake (a slow phone link completes TLS 1.3 in well under that), 60 s per command
    /// line, 500 bytes/s (Postfix's `smtpd_min_data_rate`: a 25 MB message may take 14 hours).
    public init(handshakeTimeout: Duration = .seconds(15), commandTimeout: Duration = .seconds(60), minimumDataRate: Int = 500) {
        self.handshakeTimeout = handshakeTimeout
        self.commandTimeout = commandTimeout
        self.minimumDataRate = max(1, minimumDataRate)
    }
}

/// A TCP listener for one mail port (SMTP, submission, IMAP, POP3, with or without implicit TLS),
/// run as a ServiceLifecycle `Service`.
///
/// Each accepted connection becomes a `MailConnection` handed to `handler` in its own child task of a
/// discarding task group; the handler cannot throw into the server. With `implicitTLS` the handshake
/// is completed (within `handshakeTimeout`) before the handler sees the connection.
///
/// Connection caps: past `maxConnections` open sessions, or `maxConnectionsPerAddress` from one
/// address (IPv6: one /64), a connection is accepted, sent `refusal(reason)` (over TLS on an
/// implicit-TLS port) and closed. Refusals in progress are bounded too (`maxConnections` of them,
/// at least 64); past that a connection is closed without a word, and during a TLS handshake without
/// waiting for a TLS goodbye.
///
/// Slow clients: besides the idle timeout, every command line and declared transfer has a deadline
/// (`commandTimeout`, `minimumDataRate`; see `ClientDeadlines`).
///
/// Graceful shutdown (ServiceLifecycle, or `triggerGracefulShutdown()`): stop accepting, signal every
/// connection (a session waiting for a command gets `MailConnectionError.shuttingDown`; one busy with a
/// command finishes it first), wait up to `shutdownGracePeriod` for sessions to end, then close what
/// is left and return. Task cancellation skips the wait.
///
/// Logging: start/stop and aggregate counts only — never client addresses, never payload.
///
/// ```swift
/// let smtp = MailListener(
///     name: "smtp", host: "::", port: 25, implicitTLS: nil, startTLS: tls,
///     maxConnections: 500, maxConnectionsPerAddress: 20, idleTimeout: .seconds(300),
///     logger: logger,
///     refusal: { _ in Array("421 4.7.0 Too many connections, try later\r\n".utf8) }
/// ) { connection in
///     await SMTPSession(connection: connection /* , ... */).run()
/// }
/// try await smtp.bind()  // all listeners bound before any runs
/// let group = ServiceGroup(services: [smtp /* , imap, pop3, web */], logger: logger)
/// try await group.run()
/// ```
public final class MailListener: Service, Sendable {
    /// Listener name for logs, e.g. `"smtp"`, `"submissions"`, `"imaps"`.
    public let name: String
    /// The configured bind address.
    public let host: String
    /// The configured port (0 = any free port; see `boundPort`).
    public let port: Int

    private let connectionConfiguration: MailConnection.Configuration
    private let shutdownGracePeriod: Duration
    private let refusal: @Sendable (ConnectionRefusal) -> [UInt8]
    private let handler: @Sendable (MailConnection) async -> Void
    private let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    private let registry: ConnectionRegistry
    private let state = LockedBox(ListenerState.idle)

    private typealias ServerChannel = NIOAsyncChannel<MailConnection, Never>

    private enum ListenerState {
        case idle
        case binding
        case bound(ServerChannel, port: Int)
        case running(ServerChannel, port: Int)
        /// Graceful shutdown was requested (before or while running).
        case shuttingDown(port: Int?)
        case finished

        var label: String {
            switch self {
            case .idle: return "idle"
            case .binding: return "binding"
            case .bound: return "bound"
            case .running: return "running"
            case .shuttingDown: return "shutting down"
            case .finished: return "finished"
            }
        }
    }

    /// - Parameters:
    ///   - name: For logs.
    ///   - host: Address to bind: `"0.0.0.0"`, `"::"` (on Linux also accepts IPv4), `"127.0.0.1"`, ...
    ///   - port: Port to bind; 0 picks a free one (`boundPort` tells which).
    ///   - implicitTLS: Certificate for implicit TLS (ports 465, 993, 995: RFC 8314), or nil.
    ///   - startTLS: Certificate for `MailConnection.startTLS()` (ports 25/587, 143, 110), or nil.
    ///   - maxConnections: Open sessions allowed at once (≥ 1).
    ///   - maxConnectionsPerAddress: Open sessions allowed from one address or IPv6 /64 (≥ 1).
    ///   - idleTimeout: Initial `MailConnection.idleTimeout`.
    ///   - handshakeTimeout: Limit for a TLS handshake (implicit and STARTTLS).
    ///   - commandTimeout: Limit for one command line from its first byte (see `ClientDeadlines`).
    ///   - minimumDataRate: Bytes per second a transfer must average (see `ClientDeadlines`).
    ///   - shutdownGracePeriod: How long graceful shutdown waits for sessions before closing them.
    ///   - eventLoopGroup: Defaults to the process-wide NIO singleton.
    ///   - logger: Listener events only.
    ///   - refusal: Bytes to send to a connection over a cap, e.g. `"421 4.7.0 Too many connections\r\n"`.
    ///   - handler: The protocol session. It owns the connection until it returns; the listener closes
    ///     the connection afterwards if the handler did not.
    public init(
        name: String,
        host: String,
        port: Int,
        implicitTLS: ServerTLS?,
        startTLS: ServerTLS? = nil,
        maxConnections: Int,
        maxConnectionsPerAddress: Int,
        idleTimeout: Duration,
        handshakeTimeout: Duration = .seconds(10),
        commandTimeout: Duration = .seconds(60),
        minimumDataRate: Int = 500,
        shutdownGracePeriod: Duration = .seconds(10),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "skjold.listener"),
        refusal: @escaping @Sendable (ConnectionRefusal) -> [UInt8] = { _ in [] },
        handler: @escaping @Sendable (MailConnection) async -> Void
    ) {
        precondition(maxConnections >= 1 && maxConnectionsPerAddress >= 1, "connection caps must be at least 1")
        self.name = name
        self.host = host
        self.port = port
        self.connectionConfiguration = MailConnection.Configuration(
            idleTimeout: idleTimeout,
            handshakeTimeout: handshakeTimeout,
            implicitTLS: implicitTLS,
            startTLS: startTLS,
            commandTimeout: commandTimeout,
            minimumDataRate: max(1, minimumDataRate)
        )
        self.shutdownGracePeriod = shutdownGracePeriod
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.refusal = refusal
        self.handler = handler
        self.registry = ConnectionRegistry(
            maxConnections: maxConnections,
            maxConnectionsPerAddress: maxConnectionsPerAddress
        )
    }

    /// The port actually bound, once `bind()` (or `run()`) has bound it.
    public var boundPort: Int? {
        state.withLock { state -> Int? in
            switch state {
            case .bound(_, let port), .running(_, let port): return port
            case .shuttingDown(let port): return port
            case .idle, .binding, .finished: return nil
            }
        }
    }

    /// Binds the socket without accepting yet, so a composition root can bind every listener (and fail
    /// early, e.g. on a port in use) before starting any. Returns the bound port. `run()` binds by
    /// itself if this was not called.
    @discardableResult
    public func bind() async throws -> Int {
        try state.withLock { state in
            guard case .idle = state else { throw MailListenerError.invalidState("bind() called twice") }
            state = .binding
        }
        let channel: ServerChannel
        do {
            let configuration = connectionConfiguration
            channel = try await ServerBootstrap(group: eventLoopGroup)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 256)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelOption(.socketOption(.so_keepalive), value: 1)
                // Each connection keeps its receive buffer between reads: start it small (a command line),
                // it grows with reads that fill it (message data, TLS records). NIO's default starts at 2 KiB,
                // which thousands of idle connections would each hold.
                .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536))
                // No remote half-closure: with it, NIOSSL does not finish a close once the peer's
                // close_notify arrives and every TLS close would wait for its shutdown timeout.
                .bind(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try MailConnection.install(on: channel, configuration: configuration)
                    }
                }
        } catch {
            state.withLock { $0 = .idle }
            throw error
        }
        let boundPort = channel.channel.localAddress?.port ?? port
        let keep = state.withLock { state -> Bool in
            if case .binding = state {
                state = .bound(channel, port: boundPort)
                return true
            }
            return false  // shut down while binding
        }
        if !keep {
            try? await channel.channel.close()
            throw MailListenerError.invalidState("shut down while binding")
        }
        return boundPort
    }

    /// Accepts connections until graceful shutdown or cancellation (see the type's documentation).
    public func run() async throws {
        if case .idle = state.withLock({ $0 }) {
            try await bind()
        }
        let claimed = try state.withLock { state -> (ServerChannel, Int)? in
            switch state {
            case .bound(let channel, let port):
                state = .running(channel, port: port)
                return (channel, port)
            case .shuttingDown, .finished:
                return nil
            case .idle, .binding, .running:
                throw MailListenerError.invalidState("run() called while \(state.label)")
            }
        }
        guard let (server, boundPort) = claimed else {
            state.withLock { $0 = .finished }
            return
        }
        let tlsMode = connectionConfiguration.implicitTLS != nil ? "implicit" : (connectionConfiguration.startTLS != nil ? "starttls" : "none")
        logger.info(
            "listener started",
            metadata: ["listener": "\(name)", "port": "\(boundPort)", "tls": "\(tlsMode)"]
        )

        var acceptError: (any Error)?
        await withDiscardingTaskGroup { group in
            do {
                try await withGracefulShutdownHandler {
                    try await server.executeThenClose { inbound in
                        for try await connection in inbound {
                            switch registry.admit(connection) {
                            case .admitted:
                                group.addTask { await self.serve(connection) }
                            case .refused(let reason):
                                group.addTask { await self.refuse(connection, reason: reason) }
                            case .dropped:
                                connection.abort()
                                registry.remove(connection, admission: .dropped)
                            }
                        }
                    }
                } onGracefulShutdown: {
                    self.triggerGracefulShutdown()
                }
            } catch is CancellationError {
            } catch {
                acceptError = error
            }
            // Not accepting any more: let the sessions finish, within bounds.
            registry.beginShutdown()
            if await !registry.waitUntilEmpty(timeout: shutdownGracePeriod) {
                registry.abortAll()
                group.cancelAll()
            }
        }
        state.withLock { $0 = .finished }

        let statistics = registry.statistics
        let metadata: Logger.Metadata = [
            "listener": "\(name)",
            "accepted": "\(statistics.accepted)",
            "refused": "\(statistics.refused)",
            "tlsHandshakeFailures": "\(statistics.handshakeFailures)",
            "forcedCloses": "\(statistics.forcedCloses)",
        ]
        if let acceptError {
            logger.error("listener stopped after an accept error: \(acceptError)", metadata: metadata)
            throw acceptError
        }
        logger.info("listener stopped", metadata: metadata)
    }

    /// Starts graceful shutdown: stop accepting and signal every connection; `run()` returns once the
    /// sessions have ended (or the grace period is over). Safe to call at any time, more than once.
    public func triggerGracefulShutdown() {
        let server = state.withLock { state -> ServerChannel? in
            switch state {
            case .bound(let channel, let port), .running(let channel, let port):
                state = .shuttingDown(port: port)
                return channel
            case .idle, .binding:
                state = .shuttingDown(port: nil)
                return nil
            case .shuttingDown, .finished:
                return nil
            }
        }
        server?.channel.close(promise: nil)
        registry.beginShutdown()
    }

    private func serve(_ connection: MailConnection) async {
        if connectionConfiguration.implicitTLS != nil {
            do {
                try await connection.completeImplicitHandshake()
            } catch {
                registry.countHandshakeFailure()
                await connection.close()
                registry.remove(connection, admission: .admitted)
                return
            }
        }
        await handler(connection)
        await connection.close()
        registry.remove(connection, admission: .admitted)
    }

    private func refuse(_ connection: MailConnection, reason: ConnectionRefusal) async {
        do {
            if connectionConfiguration.implicitTLS != nil {
                try await connection.completeImplicitHandshake()
            }
            let bytes = refusal(reason)
            if !bytes.isEmpty {
                try await connection.write(bytes, flush: true)
            }
        } catch {
            if connectionConfiguration.implicitTLS != nil { registry.countHandshakeFailure() }
        }
        await connection.close()
        registry.remove(connection, admission: .refused(reason))
    }
}

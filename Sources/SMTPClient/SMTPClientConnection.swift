import MailServerCore
import NIOCore
import NIOPosix
import NIOSSL
import SMTPProtocol

/// One outbound SMTP connection (RFC 5321 client side): to a recipient domain's MX host or to a smarthost.
///
/// ``connect(host:port:settings:eventLoopGroup:)`` does the whole opening — greeting, EHLO (HELO when EHLO
/// is refused), STARTTLS as ``SMTPClientSettings/tls`` says and EHLO again, AUTH PLAIN when credentials are
/// set — and ``send(_:)`` runs one mail transaction at a time on it; ``quit()`` ends it. Calls may come from
/// any task; transactions are serialised in arrival order. Nothing of a message's content or of the
/// credentials is logged or kept.
public final class SMTPClientConnection: Sendable {
    /// What TLS negotiated; nil when the connection is plaintext.
    public let tls: TLSInfo?
    /// The server's 220 greeting.
    public let greeting: SMTPClientReply
    /// The reply to the last EHLO (or HELO): the one after STARTTLS when TLS is active.
    public let helloReply: SMTPClientReply
    /// True when AUTH succeeded.
    public let isAuthenticated: Bool
    let serverExtensions: ServerExtensions
    private let transport: SMTPClientTransport
    private let settings: SMTPClientSettings
    private let gate = TransactionGate()

    /// Block size for reading and writing message content.
    static let blockSize = 64 * 1024

    /// EHLO keywords, upper-cased, mapped to their parameters (`"SIZE"` → `"35882577"`, `"PIPELINING"` → `""`);
    /// empty after a HELO fallback.
    public var extensions: [String: String] { serverExtensions.keywords }

    /// The server's SIZE limit (RFC 1870), nil when it declared none.
    public var maxMessageSize: Int64? { serverExtensions.maximumMessageSize }

    /// False once the connection has closed (after an error, a timeout, QUIT, or the server hanging up).
    public var isActive: Bool { transport.channel.isActive }

    private init(
        transport: SMTPClientTransport,
        settings: SMTPClientSettings,
        greeting: SMTPClientReply,
        helloReply: SMTPClientReply,
        extensions: ServerExtensions,
        tls: TLSInfo?,
        isAuthenticated: Bool
    ) {
        self.transport = transport
        self.settings = settings
        self.greeting = greeting
        self.helloReply = helloReply
        self.serverExtensions = extensions
        self.tls = tls
        self.isAuthenticated = isAuthenticated
    }

    deinit {
        transport.channel.close(promise: nil)
    }

    // MARK: Opening

    /// Connects to `host` (a name, resolved by the system, or an IP literal, optionally in brackets) on
    /// `port`, then reads the greeting, says EHLO (HELO when EHLO gets a 5xx, RFC 5321 §3.2), upgrades with
    /// STARTTLS per ``SMTPClientSettings/tls`` and says EHLO again (RFC 3207 §4.2), and authenticates when
    /// credentials are set. On failure the connection is closed (with a QUIT when the server refused
    /// something) before the error is thrown.
    public static func connect(
        host: String,
        port: Int,
        settings: SMTPClientSettings,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(SMTPClientError) -> SMTPClientConnection {
        try checkHeloName(settings.heloName)
        guard (1...65535).contains(port) else { throw .invalidArgument("port \(port) out of range") }
        if let credentials = settings.credentials { try checkCredentials(credentials) }
        let address = host.hasPrefix("[") && host.hasSuffix("]") && host.count > 2
            ? String(host.dropFirst().dropLast()) : host

        let transport = try await open(host: address, port: port, settings: settings, group: eventLoopGroup)
        do {
            return try await openSession(transport: transport, host: address, settings: settings)
        } catch {
            await transport.quitAndClose()
            throw error
        }
    }

    private static func open(
        host: String,
        port: Int,
        settings: SMTPClientSettings,
        group: any EventLoopGroup
    ) async throws(SMTPClientError) -> SMTPClientTransport {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(settings.connectTimeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SMTPClientChannelHandler(eventLoop: channel.eventLoop))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch ChannelError.connectTimeout {
            throw .timeout("connecting to \(host) port \(port)")
        } catch {
            throw .connectFailed(String(describing: error))
        }
        do {
            let handler = try await channel.eventLoop.submit {
                NIOLoopBound(try channel.pipeline.syncOperations.handler(type: SMTPClientChannelHandler.self),
                             eventLoop: channel.eventLoop)
            }.get()
            return SMTPClientTransport(channel: channel, handler: handler)
        } catch {
            channel.close(promise: nil)
            throw .connectionClosed(String(describing: error))
        }
    }

    private static func openSession(
        transport: SMTPClientTransport,
        host: String,
        settings: SMTPClientSettings
    ) async throws(SMTPClientError) -> SMTPClientConnection {
        // RFC 5321 §3.1, §4.5.3.2.1.
        let greeting = try await transport.reply(timeout: settings.greetingTimeout, what: "greeting")
        guard greeting.code == 220 else { throw .greetingRefused(greeting) }

        var (helloReply, extensions) = try await hello(transport: transport, settings: settings)

        var tls: TLSInfo?
        if settings.tls != .disabled {
            if extensions.startTLS {
                let reply = try await transport.command("STARTTLS", timeout: settings.commandTimeout, what: "STARTTLS")
                if reply.code == 220 {
                    let sslContext = try makeSSLContext(settings)
                    tls = try await transport.startTLS(
                        sslContext: sslContext,
                        serverHostname: serverNameIndication(host),
                        timeout: settings.commandTimeout
                    )
                    // RFC 3207 §4.2: forget what was learnt before TLS and ask again.
                    (helloReply, extensions) = try await hello(transport: transport, settings: settings)
                } else if settings.tls == .required {
                    throw .startTLSRefused(reply)
                }
                // Opportunistic: a refused STARTTLS leaves the session as it was (RFC 3207 §4.1); go on in plaintext.
            } else if settings.tls == .required {
                throw .tlsUnavailable
            }
        }

        var isAuthenticated = false
        if let credentials = settings.credentials {
            try await authenticate(credentials, transport: transport, extensions: extensions, tls: tls,
                                   timeout: settings.commandTimeout)
            isAuthenticated = true
        }
        return SMTPClientConnection(
            transport: transport,
            settings: settings,
            greeting: greeting,
            helloReply: helloReply,
            extensions: extensions,
            tls: tls,
            isAuthenticated: isAuthenticated
        )
    }

    /// EHLO, or HELO when EHLO gets a permanent failure (RFC 5321 §3.2: a server that does not know EHLO).
    private static func hello(
        transport: SMTPClientTransport,
        settings: SMTPClientSettings
    ) async throws(SMTPClientError) -> (SMTPClientReply, ServerExtensions) {
        let ehlo = try await transport.command("EHLO \(settings.heloName)", timeout: settings.commandTimeout, what: "EHLO")
        if ehlo.code / 100 == 2 { return (ehlo, ServerExtensions(ehloReply: ehlo)) }
        guard ehlo.isPermanent else { throw .heloRefused(ehlo) }
        let helo = try await transport.command("HELO \(settings.heloName)", timeout: settings.commandTimeout, what: "HELO")
        guard helo.code / 100 == 2 else { throw .heloRefused(helo) }
        return (helo, ServerExtensions())
    }

    /// AUTH PLAIN with an initial response (RFC 4954 §4, RFC 4616 §2), only inside TLS.
    private static func authenticate(
        _ credentials: SMTPClientCredentials,
        transport: SMTPClientTransport,
        extensions: ServerExtensions,
        tls: TLSInfo?,
        timeout: Duration
    ) async throws(SMTPClientError) {
        guard tls != nil else {
            throw .authenticationUnavailable("credentials are sent only over TLS, and this connection is plaintext")
        }
        guard extensions.authMechanisms.contains("PLAIN") else {
            throw .authenticationUnavailable("the server does not offer AUTH PLAIN")
        }
        let message = [0] + Array(credentials.username.utf8) + [0] + Array(credentials.password.utf8)
        let reply = try await transport.command("AUTH PLAIN " + SASLBase64.encode(message), timeout: timeout, what: "AUTH")
        switch reply.code {
        case 235:
            return
        case 334:
            // The initial response was the whole exchange; a challenge means the server did not take it.
            // RFC 4954 §4: "*" cancels.
            _ = try await transport.command("*", timeout: timeout, what: "AUTH cancel")
            throw .protocolViolation("AUTH PLAIN answered with a challenge after the initial response")
        default:
            throw .authenticationFailed(reply)
        }
    }

    private static func makeSSLContext(_ settings: SMTPClientSettings) throws(SMTPClientError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.renegotiationSupport = .none
        configuration.certificateVerification = .none
        if settings.tls == .required {
            switch settings.certificateVerification {
            case .none:
                break
            case .systemTrustRoots:
                configuration.certificateVerification = .fullVerification
                configuration.trustRoots = .default
            case .trustRoots(let pemFile):
                configuration.certificateVerification = .fullVerification
                configuration.trustRoots = .file(pemFile)
            }
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw .tlsHandshakeFailed("TLS configuration: \(error)")
        }
    }

    /// SNI carries a host name, never an IP literal (RFC 6066 §3); no trailing dot.
    static func serverNameIndication(_ host: String) -> String? {
        if (try? SocketAddress(ipAddress: host, port: 0)) != nil { return nil }
        let name = host.hasSuffix(".") ? String(host.dropLast()) : host
        return name.isEmpty ? nil : name
    }

    private static func checkHeloName(_ name: String) throws(SMTPClientError) {
        guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .invalidArgument("the HELO name must be a domain or an address literal")
        }
    }

    private static func checkCredentials(_ credentials: SMTPClientCredentials) throws(SMTPClientError) {
        // RFC 4616 §2: NUL separates the fields, so neither may contain one (or be empty).
        guard !credentials.username.isEmpty, !credentials.password.isEmpty,
              !credentials.username.utf8.contains(0), !credentials.password.utf8.contains(0) else {
            throw .invalidArgument("username and password must be non-empty and contain no NUL")
        }
    }

    // MARK: Transactions

    /// Runs one mail transaction (RFC 5321 §3.3).
    ///
    /// Refused before anything is sent: a message needing SMTPUTF8 when the server does not offer it
    /// (``SMTPClientError/smtpUTF8NotSupported``), one above the server's SIZE
    /// (``SMTPClientError/messageTooLarge(limit:)``), an unopenable file, invalid envelope values. Then RSET
    /// (except for the first transaction), MAIL, every RCPT and DATA — in one write when the server offers
    /// PIPELINING (RFC 2920 §3.1), else one command at a time — and, when a recipient was accepted, the
    /// content: prefix then body, dot-stuffed with bare CR/LF made CRLF, in 64 KiB blocks with at most two
    /// in flight, ended by CRLF.CRLF (a CRLF added when the body lacks one).
    public func send(_ message: SMTPOutgoingMessage) async throws(SMTPClientError) -> SMTPTransactionResult {
        await gate.acquire()
        defer { gate.release() }

        if TransactionCommands.needsSMTPUTF8(message) && !serverExtensions.smtpUTF8 { throw .smtpUTF8NotSupported }
        if let limit = maxMessageSize, message.size > limit { throw .messageTooLarge(limit: limit) }
        let commands = try TransactionCommands(message: message, extensions: serverExtensions)

        switch message.body {
        case .bytes:
            return try await transaction(message, commands: commands, file: nil)
        case .file(let path):
            let file = try await MessageFileReader.open(path: path)
            defer { file.close() }
            return try await transaction(message, commands: commands, file: file)
        }
    }

    private func transaction(
        _ message: SMTPOutgoingMessage,
        commands: TransactionCommands,
        file: MessageFileReader?
    ) async throws(SMTPClientError) -> SMTPTransactionResult {
        let timeout = settings.commandTimeout
        if !gate.beginTransaction() {
            // RFC 5321 §4.1.1.5: start from a clean state whatever the last transaction left.
            let reset = try await transport.command("RSET", timeout: timeout, what: "RSET")
            guard reset.code / 100 == 2 else {
                let error = SMTPClientError.protocolViolation("RSET answered \(reset)")
                transport.abort(error)
                throw error
            }
        }

        let mail: SMTPClientReply
        var recipients: [SMTPClientReply] = []
        recipients.reserveCapacity(commands.recipients.count)
        let dataReply: SMTPClientReply
        if serverExtensions.pipelining {
            // RFC 2920 §3.1: MAIL, all RCPT and DATA as one group, DATA last; then the replies in order.
            // Replies are read while the group is still being written, so that a long group cannot fill
            // both directions and stall.
            let group = commands.mail + commands.recipients.joined() + "DATA\r\n"
            let written = transport.startWrite(ByteBuffer(string: group), timeout: timeout, what: "MAIL")
            mail = try await transport.reply(timeout: timeout, what: "MAIL")
            for _ in commands.recipients {
                recipients.append(try await transport.reply(timeout: timeout, what: "RCPT"))
            }
            dataReply = try await transport.reply(timeout: timeout, what: "DATA")
            try await transport.wait(written)
        } else {
            try await transport.send(commands.mail, timeout: timeout, what: "MAIL")
            mail = try await transport.reply(timeout: timeout, what: "MAIL")
            guard Self.isCompletion(mail) else {
                return SMTPTransactionResult(
                    mailFrom: mail, recipients: Array(repeating: mail, count: commands.recipients.count), data: nil)
            }
            for line in commands.recipients {
                try await transport.send(line, timeout: timeout, what: "RCPT")
                recipients.append(try await transport.reply(timeout: timeout, what: "RCPT"))
            }
            guard recipients.contains(where: Self.isCompletion) else {
                return SMTPTransactionResult(mailFrom: mail, recipients: recipients, data: nil)
            }
            try await transport.send("DATA\r\n", timeout: timeout, what: "DATA")
            dataReply = try await transport.reply(timeout: timeout, what: "DATA")
        }

        let accepted = Self.isCompletion(mail) && recipients.contains(where: Self.isCompletion)
        guard dataReply.code == 354 else {
            return SMTPTransactionResult(mailFrom: mail, recipients: recipients, data: accepted ? dataReply : nil)
        }
        guard accepted else {
            // RFC 2920 §3.1: a server that takes DATA with no valid recipient gets an empty message ended at
            // once; its reply does not matter (nothing can be delivered).
            try await transport.send(".\r\n", timeout: settings.dataBlockTimeout, what: "end of data")
            _ = try await transport.reply(timeout: settings.dataTerminationTimeout, what: "end of data")
            return SMTPTransactionResult(mailFrom: mail, recipients: recipients, data: nil)
        }

        try await sendContent(message, file: file)
        // RFC 5321 §4.5.3.2.6.
        let final = try await transport.reply(timeout: settings.dataTerminationTimeout, what: "end of data")
        return SMTPTransactionResult(mailFrom: mail, recipients: recipients, data: final)
    }

    private func sendContent(_ message: SMTPOutgoingMessage, file: MessageFileReader?) async throws(SMTPClientError) {
        var writer = ContentWriter(transport: transport, timeout: settings.dataBlockTimeout)
        try await writer.write(message.prefix[...])
        switch message.body {
        case .bytes(let bytes):
            try await writer.write(bytes[...])
        case .file:
            guard let file else { throw .messageUnreadable("no file") }
            while true {
                let block: [UInt8]
                do {
                    block = try await file.read(upTo: Self.blockSize)
                } catch {
                    // DATA cannot be cancelled: only closing the connection keeps a truncated message from
                    // being delivered (RFC 5321 §4.1.1.4 — no final "." was sent).
                    transport.abort(error)
                    throw error
                }
                if block.isEmpty { break }
                try await writer.write(block[...])
            }
        }
        try await writer.finish()
    }

    /// 2xx: MAIL or RCPT accepted (RFC 5321 §4.2.5: 250 and 251 for RCPT, 252 cannot occur here).
    private static func isCompletion(_ reply: SMTPClientReply) -> Bool { reply.code / 100 == 2 }

    // MARK: Closing

    /// QUIT (waiting briefly for its reply) and close; errors are ignored. Waits for a transaction in
    /// progress to end first.
    public func quit() async {
        await gate.acquire()
        defer { gate.release() }
        _ = try? await transport.command("QUIT", timeout: min(settings.commandTimeout, .seconds(30)), what: "QUIT")
        await transport.close()
    }
}

/// Dot-stuffs content (RFC 5321 §4.5.2) with ``DataEncoder`` and writes it in blocks, waiting for a block to
/// be taken by the network before a third is queued: memory stays at two blocks whatever the message size.
private struct ContentWriter {
    let transport: SMTPClientTransport
    let timeout: Duration
    private var encoder = DataEncoder()
    private var inFlight: EventLoopFuture<Void>?

    init(transport: SMTPClientTransport, timeout: Duration) {
        self.transport = transport
        self.timeout = timeout
    }

    mutating func write(_ content: ArraySlice<UInt8>) async throws(SMTPClientError) {
        var start = content.startIndex
        while start < content.endIndex {
            let end = start + min(SMTPClientConnection.blockSize, content.endIndex - start)
            var encoded: [UInt8] = []
            encoded.reserveCapacity(end - start + 256)
            encoder.encode(content[start..<end], into: &encoded)
            try await emit(encoded)
            start = end
        }
    }

    /// The terminator, and waits until everything has been handed to the network.
    mutating func finish() async throws(SMTPClientError) {
        try await emit(encoder.finish())
        if let inFlight {
            self.inFlight = nil
            try await transport.wait(inFlight)
        }
    }

    private mutating func emit(_ bytes: [UInt8]) async throws(SMTPClientError) {
        guard !bytes.isEmpty else { return }
        if let inFlight {
            self.inFlight = nil
            try await transport.wait(inFlight)
        }
        inFlight = transport.startWrite(ByteBuffer(bytes: bytes), timeout: timeout, what: "DATA block")
    }
}

import DNSWire
import NIOCore
import NIOPosix

/// What a reply must match to be taken as the answer to our query (RFC 5452 §9.1, §4.3): the ID, the QR
/// bit, a standard-query opcode and the question echoed back. The source address is checked by the UDP
/// handler; TCP gets it from the connection.
struct DNSReplyMatcher: Sendable {
    let id: UInt16
    let question: DNSQuestion

    enum Verdict {
        case accepted(DNSMessage)
        /// Someone else's datagram, or a forgery: ignore it and keep waiting.
        case foreign
        /// Our ID, but not a decodable response.
        case malformed(String)
    }

    func judge(_ bytes: [UInt8]) -> Verdict {
        // The ID first: a datagram with another ID is no evidence that our server misbehaves.
        guard bytes.count >= 2, UInt16(bytes[0]) << 8 | UInt16(bytes[1]) == id else { return .foreign }
        let message: DNSMessage
        do {
            message = try DNSMessage(parsing: bytes)
        } catch {
            return .malformed("\(error)")
        }
        guard message.isResponse, message.opcode == 0 else { return .foreign }
        if message.questions.isEmpty {
            // Some servers drop the question from FORMERR/NOTIMP/REFUSED replies. An error RCODE only
            // makes us move on, so accepting it hands a forger nothing; an answer needs the echo.
            let isError = message.responseCode != .noError && message.responseCode != .nameError
            return isError ? .accepted(message) : .foreign
        }
        guard message.questions.count == 1, message.questions[0] == question else { return .foreign }
        return .accepted(message)
    }
}

/// Waits for the one datagram that answers our query, from the server's address and port (RFC 5452 §9.1),
/// ignoring everything else until the timeout.
final class DNSUDPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let server: SocketAddress
    private let matcher: DNSReplyMatcher
    private let promise: EventLoopPromise<DNSMessage>
    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?
    /// Set when the server's address sent our ID in an undecodable message: reported if nothing better comes.
    private var malformedReason: String?

    init(server: SocketAddress, matcher: DNSReplyMatcher, promise: EventLoopPromise<DNSMessage>,
         timeout: TimeAmount) {
        self.server = server
        self.matcher = matcher
        self.promise = promise
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            self.expire()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        // No-op after success; otherwise the socket went away under us.
        promise.fail(DNSError.serverFailure("UDP socket closed before a reply"))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.remoteAddress == server else { return }
        switch matcher.judge(Array(envelope.data.readableBytesView)) {
        case .accepted(let message):
            timer?.cancel()
            promise.succeed(message)
        case .foreign:
            break
        case .malformed(let reason):
            malformedReason = reason
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A stray ICMP error or an oversized datagram says nothing certain about our reply: keep waiting.
    }

    private func expire() {
        if let malformedReason {
            promise.fail(DNSError.malformedResponse(malformedReason))
        } else {
            promise.fail(DNSError.timeout)
        }
    }
}

/// Reads one length-prefixed reply from a TCP connection (RFC 1035 §4.2.2, RFC 7766 §8).
final class DNSTCPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let matcher: DNSReplyMatcher
    private let promise: EventLoopPromise<DNSMessage>
    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?
    private var buffer = ByteBuffer()

    init(matcher: DNSReplyMatcher, promise: EventLoopPromise<DNSMessage>, timeout: TimeAmount) {
        self.matcher = matcher
        self.promise = promise
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let promise = self.promise
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            promise.fail(DNSError.timeout)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        promise.fail(DNSError.serverFailure("TCP connection closed before a reply"))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        // The length prefix caps what we hold at 2 + 65535 octets.
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
              let frame = buffer.getBytes(at: buffer.readerIndex + 2, length: Int(length))
        else { return }
        timer?.cancel()
        switch matcher.judge(frame) {
        case .accepted(let message):
            promise.succeed(message)
        case .foreign:
            // Over TCP nobody else can inject: a non-matching reply means the server is broken.
            promise.fail(DNSError.malformedResponse("TCP reply does not match the query"))
        case .malformed(let reason):
            promise.fail(DNSError.malformedResponse(reason))
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(DNSError.serverFailure("TCP connection closed before a reply"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(DNSError.serverFailure("TCP error: \(error)"))
        context.close(promise: nil)
    }
}

/// One query/response exchange with one server over UDP or TCP.
enum DNSTransport {
    /// Sends `query` from a fresh socket on an ephemeral port the kernel picks at random (RFC 5452 §9.2)
    /// and waits for the matching reply.
    static func udp(query: [UInt8], matcher: DNSReplyMatcher, server: SocketAddress, timeout: TimeAmount,
                    group: any EventLoopGroup) async throws -> DNSMessage {
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: DNSMessage.self)
        let channel: any Channel
        do {
            let local = try SocketAddress(ipAddress: server.protocol == .inet6 ? "::" : "0.0.0.0", port: 0)
            channel = try await DatagramBootstrap(group: eventLoop)
                // EDNS peers may send up to what we advertise; the cap keeps an oversized reply whole
                // so it fails to match instead of arriving cut.
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            DNSUDPReplyHandler(server: server, matcher: matcher, promise: promise,
                                               timeout: timeout))
                    }
                }
                .bind(to: local).get()
        } catch {
            let failure = DNSError.serverFailure("cannot open a UDP socket: \(error)")
            promise.fail(failure)
            throw failure
        }
        return try await exchange(channel: channel, promise: promise) {
            try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: server, data: ByteBuffer(bytes: query)))
        }
    }

    /// Sends `query` over a new TCP connection with its 2-octet length prefix (RFC 1035 §4.2.2) and reads
    /// one reply; the connection is closed afterwards (RFC 7766 §6.2.1 allows either side to close).
    static func tcp(query: [UInt8], matcher: DNSReplyMatcher, server: SocketAddress, timeout: TimeAmount,
                    group: any EventLoopGroup) async throws -> DNSMessage {
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: DNSMessage.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            DNSTCPReplyHandler(matcher: matcher, promise: promise, timeout: timeout))
                    }
                }
                .connect(to: server).get()
        } catch {
            let failure: DNSError
            if case ChannelError.connectTimeout = error {
                failure = .timeout
            } else {
                failure = .serverFailure("TCP connection to \(server) failed: \(error)")
            }
            promise.fail(failure)
            throw failure
        }
        var framed = ByteBuffer()
        framed.writeInteger(UInt16(query.count))
        framed.writeBytes(query)
        return try await exchange(channel: channel, promise: promise) { [framed] in
            try await channel.writeAndFlush(framed)
        }
    }

    /// Sends, waits for the handler's verdict (or cancellation), and always closes the channel.
    private static func exchange(channel: any Channel, promise: EventLoopPromise<DNSMessage>,
                                 send: () async throws -> Void) async throws -> DNSMessage {
        do {
            try await send()
            let reply = try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                promise.fail(CancellationError())
            }
            try? await channel.close()
            return reply
        } catch {
            promise.fail(error)
            try? await channel.close()
            if error is DNSError || error is CancellationError { throw error }
            throw DNSError.serverFailure("cannot send to the server: \(error)")
        }
    }
}

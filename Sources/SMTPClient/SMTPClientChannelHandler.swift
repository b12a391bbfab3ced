import MailServerCore
import NIOCore
import NIOSSL
import NIOTLS
import SMTPProtocol

/// The NIO side of an outbound connection: buffers what the server sends, cuts it into replies on demand,
/// arms the timer of every wait, and performs the STARTTLS switch. Everything runs on the channel's event
/// loop; ``SMTPClientTransport`` is the async face.
///
/// Replies are parsed only when one is awaited, so the bytes the server sent after its STARTTLS 220 are
/// still raw in ``input`` when the TLS handler goes in, and are thrown away: they came before TLS and could
/// have been injected by anyone on the path (RFC 3207 §4.2, §6; the client side of CVE-2011-0411).
/// Reading pauses while ``inputHighWater`` unparsed octets are held, which bounds memory against a server
/// that floods replies.
final class SMTPClientChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Longest reply line accepted, CRLF excluded (RFC 5321 §4.5.3.1.5 says 512; real servers exceed it a little).
    static let maximumLineLength = 4096
    /// Unparsed input held before reading pauses.
    static let inputHighWater = 64 * 1024

    private struct ReplyWaiter {
        var promise: EventLoopPromise<SMTPClientReply>
        var timer: Scheduled<Void>
    }

    private struct Handshake {
        var promise: EventLoopPromise<TLSInfo>
        var ssl: NIOSSLClientHandler
        var observer: ClientTLSObserver
        var timer: Scheduled<Void>
    }

    private let eventLoop: any EventLoop
    private var context: ChannelHandlerContext?
    private var input = ByteBuffer()
    private var parser = SMTPReplyParser()
    private var waiter: ReplyWaiter?
    private var handshake: Handshake?
    /// Set when we gave up on the connection (timeout, protocol violation, failed handshake).
    private var failure: SMTPClientError?
    /// Set when the transport went away; replies already buffered can still be read.
    private var closeReason: String?
    private var readHeldBack = false

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard failure == nil else { return }
        var bytes = unwrapInboundIn(data)
        if input.readableBytes == 0 {
            input = bytes
        } else {
            input.writeBuffer(&bytes)
        }
        deliver()
    }

    func read(context: ChannelHandlerContext) {
        if input.readableBytes >= Self.inputHighWater && waiter == nil {
            readHeldBack = true
        } else {
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event, let handshake {
            self.handshake = nil
            handshake.timer.cancel()
            handshake.promise.succeed(handshake.observer.tlsInfo(negotiatedBy: handshake.ssl))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Resets, TLS alerts, bad records: the connection cannot go on either way.
        if handshake != nil {
            fail(.tlsHandshakeFailed(String(describing: error)))
        } else {
            transportClosed(String(describing: error))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if handshake != nil {
            fail(.tlsHandshakeFailed("connection closed during the handshake"))
        }
        transportClosed("connection closed by the server")
        context.fireChannelInactive()
    }

    private func transportClosed(_ reason: String) {
        if closeReason == nil { closeReason = reason }
        deliver()
        if let waiter {
            self.waiter = nil
            waiter.timer.cancel()
            waiter.promise.fail(SMTPClientError.connectionClosed(reason))
        }
    }

    // MARK: Requests (event loop only)

    /// The next complete reply, or a failure after `timeout` (which also closes the connection).
    func nextReply(timeout: TimeAmount, what: String) -> EventLoopFuture<SMTPClientReply> {
        if let failure { return eventLoop.makeFailedFuture(Self.afterFailure(failure)) }
        guard waiter == nil else {
            return eventLoop.makeFailedFuture(SMTPClientError.protocolViolation("concurrent reply wait"))
        }
        switch parseReply() {
        case .success(let reply)?: return eventLoop.makeSucceededFuture(reply)
        case .failure(let error)?: return eventLoop.makeFailedFuture(error)
        case nil: break
        }
        if let closeReason { return eventLoop.makeFailedFuture(SMTPClientError.connectionClosed(closeReason)) }
        let promise = eventLoop.makePromise(of: SMTPClientReply.self)
        let timer = eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            self.fail(.timeout(what))
        }
        waiter = ReplyWaiter(promise: promise, timer: timer)
        resumeReading()
        return promise.futureResult
    }

    /// Writes and flushes; with a timeout, a write the network has not taken by then closes the connection
    /// (RFC 5321 §4.5.3.2.5, for DATA blocks).
    func write(_ buffer: ByteBuffer, timeout: TimeAmount?, what: String) -> EventLoopFuture<Void> {
        if let failure { return eventLoop.makeFailedFuture(Self.afterFailure(failure)) }
        guard let context, closeReason == nil else {
            return eventLoop.makeFailedFuture(SMTPClientError.connectionClosed(closeReason ?? "connection closed"))
        }
        let promise = eventLoop.makePromise(of: Void.self)
        let timer = timeout.map { timeout in
            eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in self.fail(.timeout(what)) }
        }
        context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { [self] result in
            timer?.cancel()
            switch result {
            case .success:
                promise.succeed(())
            case .failure(let error):
                promise.fail(self.failure ?? .connectionClosed(self.closeReason ?? String(describing: error)))
            }
        }
        return promise.futureResult
    }

    /// STARTTLS after the server's 220: drops every byte received so far (sent before TLS), puts the TLS
    /// handler and the cipher observer in front, in this one event-loop step, and waits for the handshake.
    func startTLS(sslContext: NIOSSLContext, serverHostname: String?, timeout: TimeAmount) -> EventLoopFuture<TLSInfo> {
        if let failure { return eventLoop.makeFailedFuture(Self.afterFailure(failure)) }
        guard let context, closeReason == nil else {
            return eventLoop.makeFailedFuture(SMTPClientError.connectionClosed(closeReason ?? "connection closed"))
        }
        // RFC 3207 §4.2: nothing obtained before TLS is trusted after it; a reply the server (or an
        // attacker) queued behind the 220 must not answer the first command sent inside TLS.
        input.clear()
        parser = SMTPReplyParser()

        let ssl: NIOSSLClientHandler
        let observer = ClientTLSObserver()
        do {
            ssl = try NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname)
            try context.pipeline.syncOperations.addHandler(ssl, position: .first)
            try context.pipeline.syncOperations.addHandler(observer, position: .first)
        } catch {
            fail(.tlsHandshakeFailed(String(describing: error)))
            return eventLoop.makeFailedFuture(SMTPClientError.tlsHandshakeFailed(String(describing: error)))
        }
        let promise = eventLoop.makePromise(of: TLSInfo.self)
        let timer = eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            self.fail(.timeout("TLS handshake"))
        }
        handshake = Handshake(promise: promise, ssl: ssl, observer: observer, timer: timer)
        resumeReading()
        return promise.futureResult
    }

    /// Gives up on the connection: fails what is waiting and closes.
    func fail(_ error: SMTPClientError) {
        if failure == nil { failure = error }
        input.clear()
        if let waiter {
            self.waiter = nil
            waiter.timer.cancel()
            waiter.promise.fail(error)
        }
        if let handshake {
            self.handshake = nil
            handshake.timer.cancel()
            handshake.promise.fail(error)
        }
        context?.close(promise: nil)
    }

    // MARK: Parsing

    private func deliver() {
        while let current = waiter {
            // Taken out while parsing: a violation closes the channel, and channelInactive, re-entered from
            // that close, must not complete the same promise.
            waiter = nil
            guard let result = parseReply() else {
                waiter = current
                break
            }
            current.timer.cancel()
            switch result {
            case .success(let reply): current.promise.succeed(reply)
            case .failure(let error): current.promise.fail(error)
            }
        }
        if waiter != nil { resumeReading() }
    }

    /// One reply from the buffered input, nil when more bytes are needed. A grammar or bound violation
    /// fails the connection and is returned as the failure.
    private func parseReply() -> Result<SMTPClientReply, SMTPClientError>? {
        guard failure == nil else { return nil }
        while true {
            let view = input.readableBytesView
            guard let lf = view.firstIndex(of: 0x0A) else {
                if view.count > Self.maximumLineLength + 1 {
                    return violation("reply line longer than \(Self.maximumLineLength) octets")
                }
                if input.readableBytes == 0 { input.clear() }
                return nil
            }
            let lineLength = lf - view.startIndex
            guard var line = input.readBytes(length: lineLength + 1)?.dropLast() else { return nil }
            if line.last == 0x0D { line = line.dropLast() }
            guard line.count <= Self.maximumLineLength else {
                return violation("reply line longer than \(Self.maximumLineLength) octets")
            }
            if input.readerIndex >= Self.inputHighWater { input.discardReadBytes() }
            switch parser.parse(line: line) {
            case .failure(.malformedLine): return violation("malformed reply line")
            case .failure(.inconsistentCode): return violation("reply lines with different codes")
            case .failure(.tooManyLines): return violation("more than \(SMTPReplyParser.maximumLines) lines in one reply")
            case .success(nil): continue
            case .success(let reply?): return .success(SMTPClientReply(reply))
            }
        }
    }

    private func violation(_ reason: String) -> Result<SMTPClientReply, SMTPClientError> {
        // The waiter, if any, gets the error from parseReply's caller.
        let error = SMTPClientError.protocolViolation(reason)
        if failure == nil { failure = error }
        input.clear()
        context?.close(promise: nil)
        return .failure(error)
    }

    private func resumeReading() {
        guard readHeldBack, let context else { return }
        readHeldBack = false
        context.read()
    }

    private static func afterFailure(_ failure: SMTPClientError) -> SMTPClientError {
        .connectionClosed("connection abandoned after: \(failure)")
    }
}

@available(*, unavailable)
extension SMTPClientChannelHandler: Sendable {}

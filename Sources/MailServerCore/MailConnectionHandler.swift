import NIOCore
import NIOSSL
import NIOTLS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The event-loop half of a `MailConnection`: the inbound buffer and line framing, read backpressure,
/// the idle timer, write backpressure, the graceful-shutdown signal and the TLS handshake.
///
/// Everything here runs on the channel's event loop; `MailConnection` reaches it through
/// `NIOLoopBound`. It is the last handler of the pipeline, so nothing is fired past it.
final class MailConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum ReadRequest {
        case line(maxLength: Int, interruptible: Bool)
        case bytes(max: Int)
    }

    enum ReadResult: Sendable {
        case line([UInt8])
        case tooLong
        case bytes([UInt8])
        case eof
        /// A wakeable read ended by `wake()` before input completed it.
        case woken
    }

    struct Limits {
        /// Stop reading from the socket once this much unread input is buffered and no read waits.
        var highWatermark = 64 * 1024
        /// Start reading again below this.
        var lowWatermark = 16 * 1024
        /// How long `close()` lets already written output drain before closing anyway.
        var closeDrainTimeout: TimeAmount = .seconds(5)
        /// Slow-client deadline: a request (command line or transfer) may take this long from its first
        /// byte, plus `nanosecondsPerByte` for each byte it has sent.
        var commandTimeout: TimeAmount = .seconds(60)
        /// 10^9 / the minimum data rate in bytes per second.
        var nanosecondsPerByte: Int64 = 2_000_000
    }

    /// The clock of the request in progress: a command line from its first byte to its line feed, or a
    /// transfer the session declared with `beginTransfer()` (message data, literals).
    private struct RequestClock {
        var start: NIODeadline
        var bytes: Int
        var explicit: Bool
    }

    private struct PendingRead {
        var id: UInt64
        var request: ReadRequest
        var promise: EventLoopPromise<ReadResult>
        var idleTimeout: TimeAmount
        /// Moves forward whenever a byte arrives.
        var deadline: NIODeadline
        var timer: Scheduled<Void>?
        /// When `timer` fires.
        var timerDeadline: NIODeadline = .distantFuture
        /// When the session asked: a command line's clock does not count time the session was busy.
        var startedAt: NIODeadline = .now()
        /// `wake()` may end this read (see ``ReadResult/woken``).
        var wakeable = false
    }

    private struct WritabilityWaiter {
        var id: UInt64
        var promise: EventLoopPromise<Void>
        var timer: Scheduled<Void>?
    }

    private enum TLSPhase {
        case plaintext
        case handshaking(
            ssl: NIOSSLServerHandler,
            observer: ServerHelloObserver,
            promise: EventLoopPromise<TLSInfo>,
            timer: Scheduled<Void>?
        )
        case established(TLSInfo)
        case failed
    }

    private let limits: Limits
    private let eventLoop: any EventLoop
    private let shared: LockedBox<MailConnection.SharedState>
    private var context: ChannelHandlerContext?

    private var buffer: ByteBuffer
    /// Bytes after the reader index already searched for LF without success.
    private var scanOffset = 0
    /// A line went over its limit: drop input up to and including the next LF, then report `.tooLong`.
    private var discardingLongLine = false
    private var pending: PendingRead?
    /// The request being received, if any of its bytes have arrived (or a transfer was declared).
    private var request: RequestClock?

    private var inputClosed = false
    private var channelClosed = false
    private var closeRequested = false
    private var shuttingDown = false
    /// A `read()` from the channel was held back because enough input is buffered.
    private var readSuppressed = false

    private var hasUnflushedOutput = false
    private var lastWrite: EventLoopFuture<Void>?
    private var writabilityWaiters: [WritabilityWaiter] = []
    private var nextWaiterID: UInt64 = 0

    private var tls: TLSPhase = .plaintext
    /// `wake()` was called and no wakeable read has returned `.woken` since.
    private var wakeRequested = false

    /// Largest amount of unread input held at once (for tests of the memory bound).
    private(set) var peakBufferedBytes = 0

    init(eventLoop: any EventLoop, shared: LockedBox<MailConnection.SharedState>, limits: Limits = Limits()) {
        self.eventLoop = eventLoop
        self.shared = shared
        self.limits = limits
        self.buffer = ByteBuffer()
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if buffer.readableBytes == 0 {
            buffer.clear()
        }
        let count = incoming.readableBytes
        buffer.writeBuffer(&incoming)
        peakBufferedBytes = max(peakBufferedBytes, buffer.readableBytes)
        if request == nil {
            request = RequestClock(start: .now(), bytes: 0, explicit: false)
        }
        request?.bytes &+= count
        if var read = pending {
            read.deadline = .now() + read.idleTimeout
            pending = read
        }
        serve()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Last handler: nothing to forward to.
    }

    func read(context: ChannelHandlerContext) {
        // Backpressure: a client that sends faster than the session consumes stops being read from.
        if pending != nil || inputClosed || buffer.readableBytes < limits.highWatermark {
            context.read()
        } else {
            readSuppressed = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            let waiters = writabilityWaiters
            writabilityWaiters = []
            for waiter in waiters {
                waiter.timer?.cancel()
                waiter.promise.succeed(())
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent {
            if case .handshakeCompleted = event { handshakeCompleted() }
            return
        }
        if let event = event as? ChannelEvent, case .inputClosed = event {
            // Only with remote half-closure enabled (the listener leaves it off): what is buffered is
            // still served, then reads see EOF.
            inputClosed = true
            serve()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Resets, TLS alerts, bad records: the session cannot continue either way. Errors are not
        // logged per connection (privacy); pending reads then see EOF, writes `.closed`.
        if case .handshaking = tls {
            handshakeFailed(.tlsHandshakeFailed(reason: String(describing: error)))
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        channelClosed = true
        inputClosed = true
        if case .handshaking = tls {
            handshakeFailed(.closed)
        }
        let waiters = writabilityWaiters
        writabilityWaiters = []
        for waiter in waiters {
            waiter.timer?.cancel()
            waiter.promise.fail(MailConnectionError.closed)
        }
        serve()
    }

    // MARK: Reading

    func startRead(_ request: ReadRequest, id: UInt64, idleTimeout: TimeAmount, wakeable: Bool = false) -> EventLoopFuture<ReadResult> {
        guard let context else {
            return eventLoop.makeFailedFuture(MailConnectionError.closed)
        }
        guard pending == nil else {
            return context.eventLoop.makeFailedFuture(MailConnectionError.concurrentRead)
        }
        let promise = context.eventLoop.makePromise(of: ReadResult.self)
        pending = PendingRead(
            id: id,
            request: request,
            promise: promise,
            idleTimeout: idleTimeout,
            deadline: .now() + idleTimeout,
            timer: nil,
            wakeable: wakeable
        )
        serve()
        return promise.futureResult
    }

    /// The session task was cancelled while waiting.
    func cancelRead(id: UInt64) {
        guard let read = pending, read.id == id else { return }
        finishPending(with: .failure(CancellationError()))
    }

    /// Puts bytes back in front of the input (a decoder read past the end of its part).
    func unread(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        var merged = ByteBuffer()
        merged.reserveCapacity(bytes.count + buffer.readableBytes)
        merged.writeBytes(bytes)
        merged.writeBuffer(&buffer)
        buffer = merged
        scanOffset = 0
        discardingLongLine = false
        if request == nil {
            request = RequestClock(start: .now(), bytes: bytes.count, explicit: false)
        }
        serve()
    }

    /// From now until `endTransfer()`, reads must keep up the minimum data rate (see `Limits`).
    func beginTransfer() {
        request = RequestClock(start: .now(), bytes: buffer.readableBytes, explicit: true)
        serve()
    }

    func endTransfer() {
        guard request?.explicit == true else { return }
        restartRequestClock()
        serve()
    }

    /// After input was consumed outside a transfer: what is still buffered is the start of the next
    /// request, which starts its clock now.
    private func restartRequestClock() {
        request = buffer.readableBytes > 0 ? RequestClock(start: .now(), bytes: buffer.readableBytes, explicit: false) : nil
    }

    func beginShutdown() {
        shuttingDown = true
        serve()
    }

    /// Ends the pending wakeable read with `.woken` if input has not completed it, or the next one if none
    /// is pending. Nothing is consumed: a partial line stays buffered for the next read.
    func wake() {
        wakeRequested = true
        serve()
    }

    /// Answers `.woken` to a wakeable read that input cannot complete now.
    private func finishIfWoken(_ read: PendingRead) -> Bool {
        guard read.wakeable, wakeRequested else { return false }
        wakeRequested = false
        finishPending(with: .success(.woken))
        return true
    }

    /// Completes the pending read if the buffer (or the connection state) allows; otherwise makes sure
    /// more input will come and the idle timer runs.
    private func serve() {
        guard let read = pending else { return }
        switch read.request {
        case .line(let maxLength, let interruptible):
            if let result = extractLine(maxLength: max(0, maxLength)) {
                if request?.explicit != true { restartRequestClock() }
                finishPending(with: .success(result))
                return
            }
            if inputClosed {
                // A partial line at end of input is not a command.
                finishPending(with: .success(.eof))
                return
            }
            // Only between commands: nothing of the next command has arrived yet.
            if shuttingDown && interruptible && buffer.readableBytes == 0 && !discardingLongLine {
                finishPending(with: .failure(MailConnectionError.shuttingDown))
                return
            }
            if finishIfWoken(read) { return }
        case .bytes(let maximum):
            discardingLongLine = false
            if buffer.readableBytes > 0 {
                let count = min(max(1, maximum), buffer.readableBytes)
                let bytes = buffer.readBytes(length: count) ?? []
                scanOffset = 0
                if request?.explicit != true { restartRequestClock() }
                finishPending(with: .success(.bytes(bytes)))
                return
            }
            if inputClosed {
                finishPending(with: .success(.eof))
                return
            }
            if finishIfWoken(read) { return }
        }
        waitForInput()
    }

    private func waitForInput() {
        guard let context, var read = pending else { return }
        // A client waiting for our reply must get it before we wait for the client.
        if hasUnflushedOutput {
            flushOutput()
        }
        if readSuppressed {
            readSuppressed = false
            context.read()
        }
        // The timer may fire early (the idle deadline moves with every byte: it then re-arms), never
        // late: a request that just started can bring the deadline forward.
        let deadline = effectiveDeadline(read)
        if read.timer == nil || read.timerDeadline > deadline {
            read.timer?.cancel()
            let id = read.id
            read.timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
                self.idleTimerFired(id: id)
            }
            read.timerDeadline = deadline
            pending = read
        }
    }

    /// The earlier of the idle deadline and the slow-client deadline of the request in progress, which
    /// applies to command lines and declared transfers (a client trickling one byte at a time resets the
    /// idle timer forever, but not this one).
    private func effectiveDeadline(_ read: PendingRead) -> NIODeadline {
        guard let request else { return read.deadline }
        if case .bytes = read.request, !request.explicit { return read.deadline }
        let (allowance, overflow) = Int64(request.bytes).multipliedReportingOverflow(by: limits.nanosecondsPerByte)
        // Beyond a year the allowance no longer matters (and NIO's arithmetic must not overflow).
        let capped = overflow ? Int64(366 * 24 * 3600) * 1_000_000_000 : min(allowance, Int64(366 * 24 * 3600) * 1_000_000_000)
        let start = request.explicit ? request.start : max(request.start, read.startedAt)
        return min(read.deadline, start + limits.commandTimeout + .nanoseconds(capped))
    }

    private func idleTimerFired(id: UInt64) {
        guard var read = pending, read.id == id else { return }
        read.timer = nil
        read.timerDeadline = .distantFuture
        pending = read
        if NIODeadline.now() >= effectiveDeadline(read) {
            finishPending(with: .failure(MailConnectionError.timeout))
        } else {
            waitForInput()  // bytes arrived meanwhile: re-arm for the moved deadline
        }
    }

    private func finishPending(with result: Result<ReadResult, Error>) {
        guard let read = pending else { return }
        pending = nil
        read.timer?.cancel()
        compactBuffer()
        if readSuppressed, buffer.readableBytes < limits.lowWatermark, let context {
            readSuppressed = false
            context.read()
        }
        read.promise.completeWith(result)
    }

    /// Line framing. Lines end in LF; a CR before it is stripped. A line longer than `maxLength` is
    /// never buffered beyond the limit: once the limit is passed without LF, input is dropped up to and
    /// including the next LF and the read reports `.tooLong`.
    private func extractLine(maxLength: Int) -> ReadResult? {
        if discardingLongLine {
            guard let lf = firstLineFeed(from: 0) else {
                buffer.moveReaderIndex(to: buffer.writerIndex)
                scanOffset = 0
                return nil
            }
            buffer.moveReaderIndex(forwardBy: lf + 1)
            discardingLongLine = false
            scanOffset = 0
            return .tooLong
        }
        if let lf = firstLineFeed(from: scanOffset) {
            scanOffset = 0
            let endsWithCR = lf > 0 && buffer.getInteger(at: buffer.readerIndex + lf - 1, as: UInt8.self) == 13
            let contentLength = endsWithCR ? lf - 1 : lf
            if contentLength > maxLength {
                buffer.moveReaderIndex(forwardBy: lf + 1)
                return .tooLong
            }
            let line = buffer.readBytes(length: contentLength) ?? []
            buffer.moveReaderIndex(forwardBy: lf + 1 - contentLength)
            return .line(line)
        }
        scanOffset = buffer.readableBytes
        // maxLength content bytes plus a CR may still be followed by LF; anything longer cannot be.
        if buffer.readableBytes - 1 > maxLength {
            discardingLongLine = true
            buffer.moveReaderIndex(to: buffer.writerIndex)
            scanOffset = 0
        }
        return nil
    }

    /// Offset (from the reader index) of the first LF at or after `offset`.
    private func firstLineFeed(from offset: Int) -> Int? {
        buffer.withUnsafeReadableBytes { raw -> Int? in
            guard offset < raw.count, let base = raw.baseAddress else { return nil }
            guard let hit = memchr(base + offset, 10, raw.count - offset) else { return nil }
            return base.distance(to: UnsafeRawPointer(hit))
        }
    }

    private func compactBuffer() {
        if buffer.readableBytes == 0 {
            // Do not keep a large allocation around for an idle connection.
            if buffer.capacity > 2 * limits.highWatermark {
                buffer = ByteBuffer()
            } else {
                buffer.clear()
            }
            scanOffset = 0
        } else if buffer.readerIndex > limits.highWatermark {
            buffer.discardReadBytes()
        }
    }

    // MARK: Writing

    /// Queues `data`; the returned future completes when the caller may write more (immediately unless
    /// the channel's outbound buffer is over its high watermark, i.e. the client is not reading).
    func write(_ data: ByteBuffer, flush: Bool, idleTimeout: TimeAmount) -> EventLoopFuture<Void> {
        guard let context else { return eventLoop.makeFailedFuture(MailConnectionError.closed) }
        guard !channelClosed, !closeRequested else {
            return context.eventLoop.makeFailedFuture(MailConnectionError.closed)
        }
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.write(wrapOutboundOut(data), promise: promise)
        lastWrite = promise.futureResult
        hasUnflushedOutput = true
        if flush {
            flushOutput()
        }
        if context.channel.isWritable {
            return context.eventLoop.makeSucceededVoidFuture()
        }
        // Writability only comes back once bytes drain to the socket, which needs a flush.
        flushOutput()
        nextWaiterID &+= 1
        let id = nextWaiterID
        let waiterPromise = context.eventLoop.makePromise(of: Void.self)
        let timer = context.eventLoop.assumeIsolated().scheduleTask(in: idleTimeout) { [self] in
            self.writabilityTimedOut(id: id)
        }
        writabilityWaiters.append(WritabilityWaiter(id: id, promise: waiterPromise, timer: timer))
        return waiterPromise.futureResult
    }

    private func writabilityTimedOut(id: UInt64) {
        guard let index = writabilityWaiters.firstIndex(where: { $0.id == id }) else { return }
        let waiter = writabilityWaiters.remove(at: index)
        waiter.promise.fail(MailConnectionError.timeout)
    }

    func flush() -> EventLoopFuture<Void> {
        guard let context else { return eventLoop.makeFailedFuture(MailConnectionError.closed) }
        guard !channelClosed, !closeRequested else {
            return context.eventLoop.makeFailedFuture(MailConnectionError.closed)
        }
        flushOutput()
        return context.eventLoop.makeSucceededVoidFuture()
    }

    private func flushOutput() {
        hasUnflushedOutput = false
        context?.flush()
    }

    // MARK: Closing

    /// Flushes, lets written output drain (bounded), then closes. Idempotent.
    func close() -> EventLoopFuture<Void> {
        guard let context else { return eventLoop.makeSucceededVoidFuture() }
        let closed = context.channel.closeFuture
        guard !channelClosed, !closeRequested else { return closed }
        closeRequested = true
        flushOutput()
        let drained = lastWrite ?? context.eventLoop.makeSucceededVoidFuture()
        let timer = context.eventLoop.assumeIsolated().scheduleTask(in: limits.closeDrainTimeout) { [self] in
            self.context?.close(promise: nil)
        }
        drained.assumeIsolated().whenComplete { [self] _ in
            timer.cancel()
            self.context?.close(promise: nil)
        }
        return closed
    }

    /// Closes at once, dropping unsent output (forced shutdown).
    func abort() {
        closeRequested = true
        if case .handshaking(_, let observer, _, _) = tls {
            closeBelowTLS(observer)
        } else {
            context?.close(promise: nil)
        }
    }

    /// Closes the socket without a TLS goodbye. During a handshake there is no session to end cleanly,
    /// and NIOSSL's clean close would wait for the peer's close_notify (seconds) — time a flood of
    /// silent clients must not get. The observer sits in front of the TLS handler, so a close issued
    /// from its context goes straight to the socket.
    private func closeBelowTLS(_ observer: ServerHelloObserver) {
        guard let context else { return }
        if let socketSide = try? context.pipeline.syncOperations.context(handler: observer) {
            socketSide.close(promise: nil)
        } else {
            context.close(promise: nil)
        }
    }

    // MARK: TLS

    /// STARTTLS (RFC 3207 §4, RFC 2595 §3.1, RFC 8314 §4.2): the plaintext reply is flushed first, every
    /// plaintext byte the client sent after the command is dropped (CVE-2011-0411: it must not be read
    /// as if it had come over TLS), and the TLS handler goes in front, all in this one event-loop tick so
    /// no byte can arrive in between.
    func startTLS(_ serverTLS: ServerTLS, handshakeTimeout: TimeAmount) -> EventLoopFuture<TLSInfo> {
        guard let context else { return eventLoop.makeFailedFuture(MailConnectionError.closed) }
        guard !channelClosed, !closeRequested else {
            return context.eventLoop.makeFailedFuture(MailConnectionError.closed)
        }
        guard case .plaintext = tls else {
            return context.eventLoop.makeFailedFuture(MailConnectionError.tlsAlreadyActive)
        }
        guard pending == nil else {
            return context.eventLoop.makeFailedFuture(MailConnectionError.concurrentRead)
        }
        flushOutput()
        buffer.clear()
        scanOffset = 0
        discardingLongLine = false
        request = nil

        let ssl = NIOSSLServerHandler(context: serverTLS.sslContext)
        let observer = ServerHelloObserver()
        do {
            try context.pipeline.syncOperations.addHandler(ssl, position: .first)
            try context.pipeline.syncOperations.addHandler(observer, position: .first)
        } catch {
            context.close(promise: nil)
            return context.eventLoop.makeFailedFuture(MailConnectionError.tlsHandshakeFailed(reason: "\(error)"))
        }
        let handshake = beginHandshake(ssl: ssl, observer: observer, timeout: handshakeTimeout)
        if readSuppressed {
            readSuppressed = false
            context.read()
        }
        return handshake
    }

    /// Arms the handshake timer and waits for NIOSSL's `handshakeCompleted` (or a failure).
    func beginHandshake(
        ssl: NIOSSLServerHandler,
        observer: ServerHelloObserver,
        timeout: TimeAmount
    ) -> EventLoopFuture<TLSInfo> {
        guard let context else { return eventLoop.makeFailedFuture(MailConnectionError.closed) }
        let promise = context.eventLoop.makePromise(of: TLSInfo.self)
        let timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            self.handshakeFailed(.tlsHandshakeTimeout)
        }
        tls = .handshaking(ssl: ssl, observer: observer, promise: promise, timer: timer)
        if channelClosed {
            handshakeFailed(.closed)
        }
        return promise.futureResult
    }

    private func handshakeCompleted() {
        guard case .handshaking(let ssl, let observer, let promise, let timer) = tls else { return }
        timer?.cancel()
        let info = TLSInfo(version: TLSInfo.versionName(ssl.tlsVersion), cipherSuite: observer.cipherSuite)
        tls = .established(info)
        shared.withLock { $0.tlsInfo = info }
        promise.succeed(info)
    }

    private func handshakeFailed(_ error: MailConnectionError) {
        guard case .handshaking(_, let observer, let promise, let timer) = tls else { return }
        timer?.cancel()
        tls = .failed
        closeRequested = true
        closeBelowTLS(observer)
        promise.fail(error)
    }
}

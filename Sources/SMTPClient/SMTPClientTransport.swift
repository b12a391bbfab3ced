import MailServerCore
import NIOCore
import NIOSSL

/// The async face of ``SMTPClientChannelHandler``: each call hops to the channel's event loop. A cancelled
/// task closes the connection, which ends whatever it was waiting for.
struct SMTPClientTransport: Sendable {
    let channel: any Channel
    private let handler: NIOLoopBound<SMTPClientChannelHandler>

    init(channel: any Channel, handler: NIOLoopBound<SMTPClientChannelHandler>) {
        self.channel = channel
        self.handler = handler
    }

    /// Writes one or more command lines (already CRLF-terminated), flushes, and waits until the network has
    /// taken them: a server that stops reading cannot hold a large pipelined group forever.
    func send(_ text: String, timeout: Duration, what: String) async throws(SMTPClientError) {
        let buffer = ByteBuffer(string: text)
        try await wait(channel.eventLoop.flatSubmit { [handler] in
            handler.value.write(buffer, timeout: TimeAmount(timeout), what: what)
        })
    }

    /// Starts writing a block of message data; the future fails (and the connection closes) when the
    /// network has not taken it within `timeout`.
    func startWrite(_ buffer: ByteBuffer, timeout: Duration, what: String) -> EventLoopFuture<Void> {
        channel.eventLoop.flatSubmit { [handler] in
            handler.value.write(buffer, timeout: TimeAmount(timeout), what: what)
        }
    }

    func reply(timeout: Duration, what: String) async throws(SMTPClientError) -> SMTPClientReply {
        try await wait(channel.eventLoop.flatSubmit { [handler] in
            handler.value.nextReply(timeout: TimeAmount(timeout), what: what)
        })
    }

    /// Sends one command line and waits for its reply.
    func command(_ line: String, timeout: Duration, what: String) async throws(SMTPClientError) -> SMTPClientReply {
        try await send(line + "\r\n", timeout: timeout, what: what)
        return try await reply(timeout: timeout, what: what)
    }

    func startTLS(sslContext: NIOSSLContext, serverHostname: String?, timeout: Duration) async throws(SMTPClientError) -> TLSInfo {
        try await wait(channel.eventLoop.flatSubmit { [handler] in
            handler.value.startTLS(sslContext: sslContext, serverHostname: serverHostname, timeout: TimeAmount(timeout))
        })
    }

    /// Abandons the connection with a typed reason (e.g. an unreadable message file in the middle of DATA).
    func abort(_ error: SMTPClientError) {
        channel.eventLoop.execute { [handler] in handler.value.fail(error) }
    }

    /// Closes and waits until the channel is gone.
    func close() async {
        channel.close(promise: nil)
        try? await channel.closeFuture.get()
    }

    /// Best-effort QUIT without waiting for the answer, then close (after a refusal in the opening).
    func quitAndClose() async {
        channel.writeAndFlush(ByteBuffer(string: "QUIT\r\n"), promise: nil)
        await close()
    }

    func wait<Value: Sendable>(_ future: EventLoopFuture<Value>) async throws(SMTPClientError) -> Value {
        do {
            return try await withTaskCancellationHandler {
                try await future.get()
            } onCancel: { [channel] in
                channel.close(promise: nil)
            }
        } catch let error as SMTPClientError {
            throw error
        } catch {
            throw .connectionClosed(String(describing: error))
        }
    }
}

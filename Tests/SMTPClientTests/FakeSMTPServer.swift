import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import SMTPProtocol

/// What the scripted fake server does with one command line (or, after DATA, with the end of the content).
enum FakeAction: Sendable {
    /// Write these bytes (one or more complete reply lines).
    case reply(String)
    /// Hold the reply until the next `.reply`, then write both in order: a server that answers only once it
    /// has the whole pipelined group, so a client that waits for each reply would hang.
    case replyLater(String)
    /// Write these bytes and switch to DATA mode (the content is collected until CRLF.CRLF).
    case startData(String)
    /// Write these bytes (in one write), then start TLS as the server: whatever the client sent in
    /// plaintext after the command is dropped.
    case startTLS(String)
    /// Write the first text; from then on answer every read with the second (a broken TLS peer).
    case replyThenAnswerAnything(String, with: String)
    /// Never answer.
    case silence
    /// Write these bytes and close.
    case replyAndClose(String)
}

/// Everything the fake server saw, for assertions.
struct FakeServerRecord: Sendable {
    /// Command lines in order, without CRLF.
    var commands: [String] = []
    /// Each message's content as received (dot-stuffed, terminator included).
    var rawMessages: [[UInt8]] = []
    /// Each message's content with the stuffing removed (the terminator's CRLF.CRLF minus ".CRLF").
    var messages: [[UInt8]] = []
    /// Set when a command arrived before the previous one was answered although PIPELINING was not offered.
    var sawUnrequestedPipelining = false
}

/// An in-test SMTP server on 127.0.0.1 answering from a script; one connection at a time is enough.
final class FakeSMTPServer: Sendable {
    typealias Script = @Sendable (_ command: String) -> FakeAction
    static let endOfData = "<end of data>"

    let port: Int
    private let channel: any Channel
    private let record: LockedRecord

    private init(channel: any Channel, record: LockedRecord) {
        self.channel = channel
        self.record = record
        self.port = channel.localAddress?.port ?? 0
    }

    /// `greeting` nil: never greet. `keepRaw` false: do not keep raw message bytes (large messages).
    static func start(
        greeting: String? = "220 fake.test ESMTP\r\n",
        pipelining: Bool = true,
        tlsContext: NIOSSLContext? = nil,
        keepRaw: Bool = true,
        script: @escaping Script
    ) async throws -> FakeSMTPServer {
        let record = LockedRecord()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = FakeSessionHandler(
                        greeting: greeting, pipelining: pipelining, tlsContext: tlsContext,
                        keepRaw: keepRaw, script: script, record: record)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return FakeSMTPServer(channel: channel, record: record)
    }

    var received: FakeServerRecord { record.value }

    func stop() async {
        try? await channel.close()
    }
}

final class LockedRecord: @unchecked Sendable {
    private let lock = NSLock()
    private var record = FakeServerRecord()

    var value: FakeServerRecord {
        lock.lock()
        defer { lock.unlock() }
        return record
    }

    func update(_ body: (inout FakeServerRecord) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        body(&record)
    }
}

private final class FakeSessionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let greeting: String?
    private let pipelining: Bool
    private let tlsContext: NIOSSLContext?
    private let keepRaw: Bool
    private let script: FakeSMTPServer.Script
    private let record: LockedRecord
    private var input: [UInt8] = []
    private var dataDecoder: DataDecoder?
    private var raw: [UInt8] = []
    private var decoded: [UInt8] = []
    private var heldReplies = ""
    private var answerToAnything: String?

    init(greeting: String?, pipelining: Bool, tlsContext: NIOSSLContext?, keepRaw: Bool,
         script: @escaping FakeSMTPServer.Script, record: LockedRecord) {
        self.greeting = greeting
        self.pipelining = pipelining
        self.tlsContext = tlsContext
        self.keepRaw = keepRaw
        self.script = script
        self.record = record
    }

    func channelActive(context: ChannelHandlerContext) {
        if let greeting { write(greeting, context: context) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if let answerToAnything {
            write(answerToAnything, context: context)
            return
        }
        input.append(contentsOf: buffer.readableBytesView)
        process(context: context)
    }

    private func process(context: ChannelHandlerContext) {
        while !input.isEmpty {
            if var decoder = dataDecoder {
                let status = decoder.decode(input[...], into: &decoded)
                dataDecoder = decoder
                let consumed: Int
                switch status {
                case .needMoreData: consumed = input.count
                case .done(let count): consumed = count
                }
                if keepRaw { raw.append(contentsOf: input[..<consumed]) }
                input.removeFirst(consumed)
                guard case .done = status else { return }
                dataDecoder = nil
                let (rawMessage, message) = (raw, decoded)
                raw = []
                decoded = []
                record.update {
                    $0.rawMessages.append(rawMessage)
                    $0.messages.append(message)
                }
                if !perform(script(FakeSMTPServer.endOfData), context: context) { return }
                continue
            }
            guard let lf = input.firstIndex(of: 0x0A) else { return }
            var line = Array(input[..<lf])
            if line.last == 0x0D { line.removeLast() }
            input.removeFirst(lf + 1)
            let command = String(decoding: line, as: UTF8.self)
            let unrequested = !pipelining && input.contains(0x0A)
            record.update {
                $0.commands.append(command)
                if unrequested { $0.sawUnrequestedPipelining = true }
            }
            if !perform(script(command), context: context) { return }
        }
    }

    /// False when processing must stop (closed, or the rest of the input was dropped for TLS).
    private func perform(_ action: FakeAction, context: ChannelHandlerContext) -> Bool {
        switch action {
        case .reply(let text):
            write(heldReplies + text, context: context)
            heldReplies = ""
            return true
        case .replyLater(let text):
            heldReplies += text
            return true
        case .startData(let text):
            write(heldReplies + text, context: context)
            heldReplies = ""
            dataDecoder = DataDecoder()
            return true
        case .startTLS(let text):
            write(text, context: context)
            input = []
            guard let tlsContext else {
                context.close(promise: nil)
                return false
            }
            do {
                try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext), position: .first)
            } catch {
                context.close(promise: nil)
            }
            return false
        case .replyThenAnswerAnything(let text, let answer):
            write(text, context: context)
            input = []
            answerToAnything = answer
            return false
        case .silence:
            return true
        case .replyAndClose(let text):
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
            input = []
            return false
        }
    }

    private func write(_ text: String, context: ChannelHandlerContext) {
        guard !text.isEmpty else { return }
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// A typical EHLO reply with the given extension lines.
func ehloReply(_ keywords: [String]) -> String {
    let lines = ["fake.test greets you"] + keywords
    return lines.enumerated().map { index, line in
        "250\(index == lines.count - 1 ? " " : "-")\(line)\r\n"
    }.joined()
}

import DNSClient
import DNSWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

struct TestTimedOut: Error {}

/// Fails instead of hanging: every network test runs under this (the brief allows 5 s per test).
func withTimeout<T: Sendable>(
    _ duration: Duration = .seconds(5),
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

/// Bytes from a hex string; spaces and newlines are ignored so recorded packets can be laid out readably.
func hex(_ text: String) -> [UInt8] {
    let digits = text.compactMap { $0.hexDigitValue }
    precondition(digits.count % 2 == 0, "odd number of hex digits")
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(digits[$0] << 4 | digits[$0 + 1]) }
}

/// SplitMix64: a tiny deterministic generator so the garbage tests replay identically.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension DNSError {
    var isServerFailure: Bool { if case .serverFailure = self { true } else { false } }
    var isMalformed: Bool { if case .malformedResponse = self { true } else { false } }
}

/// Runs `body` and returns the DNSError it threw (nil if it threw nothing or something else).
func dnsError(_ body: () async throws -> some Any) async -> DNSError? {
    do {
        _ = try await body()
        return nil
    } catch let error as DNSError {
        return error
    } catch {
        return nil
    }
}

// MARK: - Fake DNS server

/// What the fake server sends back for one query, in order.
enum FakeReply: Sendable {
    /// Sent with the query's ID.
    case message(DNSMessage)
    /// Sent with this ID instead (a stale or forged reply).
    case withID(UInt16, DNSMessage)
    /// Sent from another local port, with the query's ID: a forgery a blind attacker would try.
    case fromOtherPort(DNSMessage)
    /// Arbitrary bytes.
    case raw([UInt8])
}

/// One query the server saw.
struct SeenQuery: Sendable {
    var message: DNSMessage
    var overTCP: Bool
}

/// A DNS server on 127.0.0.1 answering UDP and TCP on the same port from a responder closure.
final class FakeDNSServer: Sendable {
    typealias Responder = @Sendable (_ query: DNSMessage, _ overTCP: Bool) -> [FakeReply]

    let port: Int
    private let channels: [any Channel]
    private let seen: NIOLockedValueBox<[SeenQuery]>

    var address: DNSServerAddress { DNSServerAddress(host: "127.0.0.1", port: port) }

    private init(port: Int, channels: [any Channel], seen: NIOLockedValueBox<[SeenQuery]>) {
        self.port = port
        self.channels = channels
        self.seen = seen
    }

    static func start(_ responder: @escaping Responder) async throws -> FakeDNSServer {
        let group = MultiThreadedEventLoopGroup.singleton
        let seen = NIOLockedValueBox<[SeenQuery]>([])
        let spoofer = try await DatagramBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        // The kernel's UDP port may be taken for TCP; try a few.
        for _ in 0..<20 {
            let udp = try await DatagramBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            FakeUDPHandler(responder: responder, seen: seen, spoofer: spoofer))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            guard let port = udp.localAddress?.port else { throw TestTimedOut() }
            do {
                let tcp = try await ServerBootstrap(group: group)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                FakeTCPHandler(responder: responder, seen: seen))
                        }
                    }
                    .bind(host: "127.0.0.1", port: port).get()
                return FakeDNSServer(port: port, channels: [udp, tcp, spoofer], seen: seen)
            } catch {
                try? await udp.close()
            }
        }
        try? await spoofer.close()
        throw TestTimedOut()
    }

    var queries: [SeenQuery] { seen.withLockedValue { $0 } }

    /// Queries seen for this name and type, over UDP, TCP or both.
    func count(_ name: String, _ type: DNSRecordType, tcp: Bool? = nil) -> Int {
        queries.filter { query in
            query.message.questions.first.map { $0.name == name && $0.type == type } == true
                && (tcp == nil || query.overTCP == tcp)
        }.count
    }

    func stop() async {
        for channel in channels { try? await channel.close() }
    }
}

private func encodeReply(_ reply: FakeReply, for query: DNSMessage) -> [UInt8]? {
    switch reply {
    case .message(var message), .fromOtherPort(var message):
        message.id = query.id
        return try? message.encoded()
    case .withID(let id, var message):
        message.id = id
        return try? message.encoded()
    case .raw(let bytes):
        return bytes
    }
}

private final class FakeUDPHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    let responder: FakeDNSServer.Responder
    let seen: NIOLockedValueBox<[SeenQuery]>
    let spoofer: any Channel

    init(responder: @escaping FakeDNSServer.Responder, seen: NIOLockedValueBox<[SeenQuery]>, spoofer: any Channel) {
        self.responder = responder
        self.seen = seen
        self.spoofer = spoofer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let query = try? DNSMessage(parsing: Array(envelope.data.readableBytesView)) else { return }
        seen.withLockedValue { $0.append(SeenQuery(message: query, overTCP: false)) }
        for reply in responder(query, false) {
            guard let bytes = encodeReply(reply, for: query) else { continue }
            let out = AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: bytes))
            if case .fromOtherPort = reply {
                spoofer.writeAndFlush(out, promise: nil)
            } else {
                context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            }
        }
    }
}

private final class FakeTCPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let responder: FakeDNSServer.Responder
    let seen: NIOLockedValueBox<[SeenQuery]>
    var buffer = ByteBuffer()

    init(responder: @escaping FakeDNSServer.Responder, seen: NIOLockedValueBox<[SeenQuery]>) {
        self.responder = responder
        self.seen = seen
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        while let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
              buffer.readableBytes >= 2 + Int(length) {
            buffer.moveReaderIndex(forwardBy: 2)
            guard let frame = buffer.readBytes(length: Int(length)),
                  let query = try? DNSMessage(parsing: frame) else { continue }
            seen.withLockedValue { $0.append(SeenQuery(message: query, overTCP: true)) }
            for reply in responder(query, true) {
                guard let bytes = encodeReply(reply, for: query) else { continue }
                var out = ByteBuffer()
                out.writeInteger(UInt16(bytes.count))
                out.writeBytes(bytes)
                context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            }
        }
    }
}

// MARK: - Building replies

/// A reply to `query` with its question echoed.
func reply(to query: DNSMessage, _ code: DNSResponseCode = .noError, answers: [DNSResourceRecord] = [],
           authorities: [DNSResourceRecord] = [], truncated: Bool = false, authenticated: Bool = false)
    -> DNSMessage {
    DNSMessage(id: query.id, isResponse: true, isTruncated: truncated, recursionDesired: query.recursionDesired,
               recursionAvailable: true, authenticData: authenticated, responseCode: code,
               questions: query.questions, answers: answers, authorities: authorities,
               additionals: query.optRecord == nil ? [] : [.opt()])
}

/// The SOA a NODATA or NXDOMAIN reply carries in its authority section (RFC 2308 §3).
func soaRecord(zone: String = "example.test", ttl: UInt32 = 3600, minimum: UInt32 = 60) -> DNSResourceRecord {
    DNSResourceRecord(name: zone, ttl: ttl, data: .soa(DNSStartOfAuthority(
        primaryServer: "ns1.\(zone)", responsibleMailbox: "hostmaster.\(zone)", serial: 1, refresh: 7200,
        retry: 3600, expire: 1_209_600, minimum: minimum)))
}

/// Runs `body` with a started fake server and a resolver pointed at it, stopping the server afterwards.
func withServer(
    timeout: Duration = .seconds(2), attempts: Int = 2, cacheCapacity: Int = 1024,
    _ responder: @escaping FakeDNSServer.Responder,
    _ body: @escaping @Sendable (FakeDNSServer, DNSResolver) async throws -> Void
) async throws {
    try await withTimeout {
        let server = try await FakeDNSServer.start(responder)
        let resolver = DNSResolver(servers: [server.address], timeout: timeout, attempts: attempts,
                                   cacheCapacity: cacheCapacity)
        do {
            try await body(server, resolver)
            await server.stop()
        } catch {
            await server.stop()
            throw error
        }
    }
}

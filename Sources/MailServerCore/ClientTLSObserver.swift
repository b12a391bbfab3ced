import NIOCore
import NIOSSL

/// The client-side counterpart of `ServerHelloObserver`: sits between the socket and
/// `NIOSSLClientHandler` on an outbound connection and reads the server's first bytes until its ServerHello
/// has gone by, to learn the negotiated cipher suite (NIOSSL exposes only the version). The ServerHello is
/// unencrypted in every TLS version (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3). After that it only forwards.
///
/// Install it in front of the TLS handler (`position: .first` after adding the TLS handler), and call
/// ``tlsInfo(negotiatedBy:)`` on the channel's event loop once NIOSSL has reported `handshakeCompleted`.
public final class ClientTLSObserver: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    /// Give up after this much input without a ServerHello (it is ~100 bytes in practice).
    private static let observationLimit = 16 * 1024

    /// The cipher suite's code point, once the ServerHello has been seen.
    public private(set) var cipherSuite: UInt16?
    private var observed: [UInt8] = []
    private var finished = false

    public init() {}

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !finished {
            let buffer = unwrapInboundIn(data)
            let room = max(0, Self.observationLimit - observed.count)
            observed.append(contentsOf: buffer.readableBytesView.prefix(room))
            switch ServerHelloScanner.scan(observed) {
            case .cipherSuite(let code):
                cipherSuite = code
                finish()
            case .notServerHello:
                finish()
            case .needMoreBytes:
                if observed.count >= Self.observationLimit { finish() }
            }
        }
        context.fireChannelRead(data)
    }

    /// What was negotiated on this connection: the version as NIOSSL reports it and the cipher suite seen
    /// in the ServerHello (`"unknown"` if it was not seen).
    public func tlsInfo(negotiatedBy handler: NIOSSLClientHandler) -> TLSInfo {
        TLSInfo(version: TLSInfo.versionName(handler.tlsVersion), cipherSuite: cipherSuite)
    }

    private func finish() {
        finished = true
        observed = []
    }
}

@available(*, unavailable)
extension ClientTLSObserver: Sendable {}

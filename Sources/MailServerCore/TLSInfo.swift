import NIOCore
import NIOSSL

/// What was negotiated on a TLS connection, for `Received:` headers (RFC 5321 §4.4 comments) and for the
/// session's own decisions (e.g. refusing AUTH PLAIN without TLS).
public struct TLSInfo: Sendable, Hashable, CustomStringConvertible {
    /// Protocol version in OpenSSL's spelling: `"TLSv1.2"`, `"TLSv1.3"`.
    public let version: String
    /// IANA name of the cipher suite, e.g. `"TLS_AES_128_GCM_SHA256"`; `"unknown"` if it could not be seen.
    public let cipher: String
    /// The cipher suite's code point, when seen.
    public let cipherSuite: UInt16?

    public init(version: String, cipherSuite: UInt16?) {
        self.version = version
        self.cipherSuite = cipherSuite
        self.cipher = cipherSuite.map(TLSInfo.cipherName) ?? "unknown"
    }

    /// `"TLSv1.3 TLS_AES_128_GCM_SHA256"`.
    public var description: String { "\(version) \(cipher)" }

    static func versionName(_ version: TLSVersion?) -> String {
        switch version {
        case .tlsv1: return "TLSv1"
        case .tlsv11: return "TLSv1.1"
        case .tlsv12: return "TLSv1.2"
        case .tlsv13: return "TLSv1.3"
        case nil: return "unknown"
        }
    }

    /// IANA TLS Cipher Suites registry names for the suites BoringSSL may pick under our policy (and a
    /// few more, for completeness); anything else is shown as hex.
    static func cipherName(_ code: UInt16) -> String {
        switch code {
        case 0x1301: return "TLS_AES_128_GCM_SHA256"
        case 0x1302: return "TLS_AES_256_GCM_SHA384"
        case 0x1303: return "TLS_CHACHA20_POLY1305_SHA256"
        case 0xC02B: return "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
        case 0xC02C: return "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
        case 0xC02F: return "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
        case 0xC030: return "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
        case 0xCCA8: return "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
        case 0xCCA9: return "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
        case 0xC009: return "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"
        case 0xC00A: return "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"
        case 0xC013: return "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"
        case 0xC014: return "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"
        case 0x009C: return "TLS_RSA_WITH_AES_128_GCM_SHA256"
        case 0x009D: return "TLS_RSA_WITH_AES_256_GCM_SHA384"
        case 0x002F: return "TLS_RSA_WITH_AES_128_CBC_SHA"
        case 0x0035: return "TLS_RSA_WITH_AES_256_CBC_SHA"
        default:
            let hex = String(code, radix: 16, uppercase: true)
            return "0x" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
    }
}

/// Finds the cipher suite in the first bytes a TLS server sends (its ServerHello).
///
/// NIOSSL exposes the negotiated version but not the cipher suite, so we read it off the wire: the
/// ServerHello is unencrypted in every TLS version, including 1.3 (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3).
enum ServerHelloScanner {
    enum Result: Equatable {
        case needMoreBytes
        case cipherSuite(UInt16)
        /// The stream does not start with a ServerHello (e.g. an alert): stop looking.
        case notServerHello
    }

    private static let handshakeRecord: UInt8 = 22  // RFC 8446 §5.1 ContentType.handshake
    private static let serverHello: UInt8 = 2  // RFC 8446 §4 HandshakeType.server_hello

    /// `stream` is the server's output from its first byte.
    static func scan<Bytes: RandomAccessCollection>(_ stream: Bytes) -> Result where Bytes.Element == UInt8, Bytes.Index == Int {
        // Reassemble handshake bytes across records (a ServerHello may in theory be fragmented).
        var handshake: [UInt8] = []
        var index = stream.startIndex
        while stream.endIndex - index >= 5 {
            guard stream[index] == handshakeRecord else {
                return handshake.isEmpty ? .notServerHello : scanHandshake(handshake, complete: true)
            }
            let length = Int(stream[index + 3]) << 8 | Int(stream[index + 4])
            let fragmentStart = index + 5
            let fragmentEnd = min(fragmentStart + length, stream.endIndex)
            handshake.append(contentsOf: stream[fragmentStart..<fragmentEnd])
            let result = scanHandshake(handshake, complete: false)
            if result != .needMoreBytes { return result }
            guard fragmentEnd == fragmentStart + length else { return .needMoreBytes }
            index = fragmentEnd
        }
        return scanHandshake(handshake, complete: false)
    }

    /// struct { HandshakeType msg_type; uint24 length; ServerHello body } where the body begins
    /// legacy_version(2) random(32) legacy_session_id<0..32> cipher_suite(2) ...
    private static func scanHandshake(_ bytes: [UInt8], complete: Bool) -> Result {
        let incomplete: Result = complete ? .notServerHello : .needMoreBytes
        guard let type = bytes.first else { return incomplete }
        guard type == serverHello else { return .notServerHello }
        let sessionIDLengthOffset = 4 + 2 + 32
        guard bytes.count > sessionIDLengthOffset else { return incomplete }
        let sessionIDLength = Int(bytes[sessionIDLengthOffset])
        guard sessionIDLength <= 32 else { return .notServerHello }
        let cipherOffset = sessionIDLengthOffset + 1 + sessionIDLength
        guard bytes.count >= cipherOffset + 2 else { return incomplete }
        return .cipherSuite(UInt16(bytes[cipherOffset]) << 8 | UInt16(bytes[cipherOffset + 1]))
    }
}

/// Sits between the socket and `NIOSSLServerHandler`, watching the encrypted output until the
/// ServerHello has gone by; then it only forwards.
final class ServerHelloObserver: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Give up after this much output without a ServerHello (it is ~100 bytes in practice).
    private static let observationLimit = 16 * 1024

    private(set) var cipherSuite: UInt16?
    private var observed: [UInt8] = []
    private var finished = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if !finished {
            let buffer = unwrapOutboundIn(data)
            observed.append(contentsOf: buffer.readableBytesView.prefix(Self.observationLimit - observed.count))
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
        context.write(data, promise: promise)
    }

    private func finish() {
        finished = true
        observed = []
    }
}

import NIOCore

/// A recursive resolver to send queries to: a numeric IPv4 or IPv6 address and a port.
public struct DNSServerAddress: Sendable, Hashable, CustomStringConvertible {
    /// A numeric address ("192.0.2.53", "::1"); hostnames are not resolved (there is no one to ask yet).
    public var host: String
    public var port: Int

    public init(host: String, port: Int = 53) {
        self.host = host
        self.port = port
    }

    /// Parses "1.2.3.4", "1.2.3.4:5353", "::1", "[::1]" or "[::1]:5353".
    ///
    /// Throws `DNSConfigurationError.invalidServerAddress` unless the host is a numeric address and the
    /// port is 1...65535. A link-local address may carry a zone index ("fe80::1%eth0") naming an existing
    /// interface.
    public init(parsing text: String) throws(DNSConfigurationError) {
        let invalid = DNSConfigurationError.invalidServerAddress(text)
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw invalid }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw invalid }
                portText = rest.dropFirst()
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            host = Substring(text)
        }
        var port = 53
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isASCII),
                  let value = Int(portText), (1...65_535).contains(value)
            else { throw invalid }
            port = value
        }
        guard (try? SocketAddress(ipAddress: String(host), port: port)) != nil else { throw invalid }
        self.init(host: String(host), port: port)
    }

    /// The socket address to send to; nil when `host` is not a numeric address or the port is out of range.
    var socketAddress: SocketAddress? {
        guard (1...65_535).contains(port) else { return nil }
        return try? SocketAddress(ipAddress: host, port: port)
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// A socket address to listen on, written `host:port` (`"0.0.0.0:25"`, `"[::1]:143"`,
/// `"localhost:25"`). Port 0 asks the system for an ephemeral port (useful in tests).
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// Why a `host:port` string was rejected.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var input: String
        /// What is wrong, e.g. "expected host:port".
        public var reason: String

        public init(input: String, reason: String) {
            self.input = input
            self.reason = reason
        }

        public var description: String { "invalid address \(TOMLKey.quoted(input)) (\(reason))" }
    }

    /// A host name, an IPv4 address, or an IPv6 address without brackets.
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`; an IPv6 host is written in brackets (RFC 3986 §3.2.2).
    public init(parsing text: String) throws(ParseError) {
        func failure(_ reason: String) -> ParseError { ParseError(input: text, reason: reason) }
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw failure("missing ']' after IPv6 address") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw failure("expected host:port") }
            portText = rest.dropFirst()
            // RFC 6874: an optional zone after '%' (an interface name).
            let address = host.prefix { $0 != "%" }
            let zone = host.dropFirst(address.count)
            guard address.contains(":"), address.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }),
                  zone.count != 1, zone.dropFirst().allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_") })
            else {
                throw failure("invalid IPv6 address in brackets")
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw failure("expected host:port") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { throw failure("write an IPv6 address in brackets, e.g. [::1]:25") }
            guard !host.isEmpty else { throw failure("expected host:port; use 0.0.0.0 for all interfaces") }
            guard host.utf8.allSatisfy({ b in
                (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A) || b == 0x2D || b == 0x2E || b == 0x5F
            }) else {
                throw failure("invalid character in host")
            }
        }
        guard !portText.isEmpty, portText.count <= 5, portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let port = Int(portText), port <= 65535 else {
            throw failure(portText.isEmpty ? "expected host:port" : "port must be a number from 0 to 65535")
        }
        self.host = String(host)
        self.port = port
    }

    /// `host:port`, with an IPv6 host in brackets; parsing it gives back the same address.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// Which listeners run, and where. A nil address means that listener is off.
public struct ListenConfig: Sendable, Equatable {
    /// SMTP relay / MX (RFC 5321), normally 25.
    public var smtp: ListenAddress?
    /// Message submission with STARTTLS (RFC 6409), normally 587.
    public var submission: ListenAddress?
    /// Message submission over implicit TLS (RFC 8314 §3.3), normally 465.
    public var submissions: ListenAddress?
    public var imap: ListenAddress?
    public var imaps: ListenAddress?
    public var pop3: ListenAddress?
    public var pop3s: ListenAddress?
    public var https: ListenAddress?
    public var http: ListenAddress?

    /// The configuration key of every listener, in the order `all` reports them.
    public static let names = ["smtp", "submission", "submissions", "imap", "imaps", "pop3", "pop3s", "https", "http"]

    public init(smtp: ListenAddress? = nil, submission: ListenAddress? = nil, submissions: ListenAddress? = nil,
                imap: ListenAddress? = nil, imaps: ListenAddress? = nil, pop3: ListenAddress? = nil,
                pop3s: ListenAddress? = nil, https: ListenAddress? = nil, http: ListenAddress? = nil) {
        self.smtp = smtp
        self.submission = submission
        self.submissions = submissions
        self.imap = imap
        self.imaps = imaps
        self.pop3 = pop3
        self.pop3s = pop3s
        self.https = https
        self.http = http
    }

    /// All listeners off.
    public static let allOff = ListenConfig()

    /// Every listener on `host`, with the given port for each (keys as in `names`).
    static func on(_ host: String, ports: [String: Int]) -> ListenConfig {
        var config = ListenConfig()
        for name in names {
            if let port = ports[name] { config[name] = ListenAddress(host: host, port: port) }
        }
        return config
    }

    /// The enabled listeners, in the order smtp, submission, submissions, imap, imaps, pop3, pop3s,
    /// https, http.
    public var all: [(name: String, address: ListenAddress)] {
        Self.names.compactMap { name in self[name].map { (name: name, address: $0) } }
    }

    /// A listener by its configuration key; unknown names read as nil and ignore writes.
    public subscript(name: String) -> ListenAddress? {
        get {
            switch name {
            case "smtp": smtp
            case "submission": submission
            case "submissions": submissions
            case "imap": imap
            case "imaps": imaps
            case "pop3": pop3
            case "pop3s": pop3s
            case "https": https
            case "http": http
            default: nil
            }
        }
        set {
            switch name {
            case "smtp": smtp = newValue
            case "submission": submission = newValue
            case "submissions": submissions = newValue
            case "imap": imap = newValue
            case "imaps": imaps = newValue
            case "pop3": pop3 = newValue
            case "pop3s": pop3s = newValue
            case "https": https = newValue
            case "http": http = newValue
            default: break
            }
        }
    }
}

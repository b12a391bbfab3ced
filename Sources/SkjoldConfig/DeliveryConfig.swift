/// `[delivery]`: how mail leaves for other servers — retries, DNS, next hops.
public struct DeliveryConfig: Sendable, Equatable {
    /// How a connection to a next hop uses TLS.
    public enum TLSPolicy: String, Sendable, Equatable, CaseIterable {
        /// STARTTLS whenever offered, plaintext only when it is not (RFC 7435), the default for MX hosts.
        case opportunistic
        /// Refuse to send without TLS (for a smarthost that must be reached encrypted).
        case required
    }

    /// DNS server for MX/A/AAAA lookups, `host:port`; nil reads /etc/resolv.conf.
    public var dnsServer: ListenAddress?
    /// Undelivered recipients fail (and the sender gets a bounce) this long after the message was queued.
    public var maxAge: Seconds
    /// The sender gets a "delayed" notice (one) once a recipient has waited this long; 0 turns it off.
    public var warnAfter: Seconds
    /// Waits between attempts: the first after the first failure, and so on; the last one repeats.
    public var retryIntervals: [Seconds]
    /// Port used on MX hosts (RFC 5321: 25); routes and relay name their own.
    public var smtpPort: Int
    /// Smarthost: every outbound message goes to this next hop instead of the MX hosts.
    public var relay: ListenAddress?
    public var relayUsername: String?
    public var relayPassword: String?
    public var relayTLS: TLSPolicy
    /// Per-domain next hops (like Postfix's transport map), keyed by lowercased domain.
    public var routes: [String: ListenAddress]
    /// Outbound SMTP connections open at once, in all.
    public var maxConnections: Int
    /// Outbound SMTP connections open at once to one destination domain.
    public var maxConnectionsPerDomain: Int
    /// Outbound delivery paused (maintenance, or a new server not yet trusted to send): mail stays queued.
    public var hold: Bool = false

    /// A duration in whole seconds.
    public typealias Seconds = Int

    public init(dnsServer: ListenAddress? = nil, maxAge: Seconds = 5 * 86_400, warnAfter: Seconds = 4 * 3_600,
                retryIntervals: [Seconds] = [300, 900, 1_800, 3_600, 7_200], smtpPort: Int = 25,
                relay: ListenAddress? = nil, relayUsername: String? = nil, relayPassword: String? = nil,
                relayTLS: TLSPolicy = .opportunistic, routes: [String: ListenAddress] = [:],
                maxConnections: Int = 20, maxConnectionsPerDomain: Int = 4) {
        self.dnsServer = dnsServer
        self.maxAge = maxAge
        self.warnAfter = warnAfter
        self.retryIntervals = retryIntervals
        self.smtpPort = smtpPort
        self.relay = relay
        self.relayUsername = relayUsername
        self.relayPassword = relayPassword
        self.relayTLS = relayTLS
        self.routes = routes
        self.maxConnections = maxConnections
        self.maxConnectionsPerDomain = maxConnectionsPerDomain
    }

    /// The wait before attempt number `attempt + 1`, after `attempt` failed attempts (1-based).
    public func retryDelay(afterAttempts attempt: Int) -> Seconds {
        guard let last = retryIntervals.last else { return 300 }
        let index = attempt - 1
        return index >= 0 && index < retryIntervals.count ? retryIntervals[index] : last
    }

    static let keys = ["dns_server", "max_age", "warn_after", "retry_intervals", "smtp_port", "relay", "relay_username",
                       "relay_password", "relay_tls", "routes", "max_connections", "max_connections_per_domain", "hold"]
}

/// Durations written as `"30s"`, `"15m"`, `"4h"`, `"5d"`, `"1w"` or a whole number of seconds.
public enum DurationText {
    public static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingWhitespace
        guard let unit = trimmed.last else { return nil }
        let multiplier: Int
        var digits = Substring(trimmed)
        switch unit {
        case "s": multiplier = 1
        case "m": multiplier = 60
        case "h": multiplier = 3_600
        case "d": multiplier = 86_400
        case "w": multiplier = 604_800
        default: multiplier = 1
        }
        if !unit.isNumber { digits = digits.dropLast() }
        digits = Substring(String(digits).trimmingWhitespace)
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(digits) else { return nil }
        return n * multiplier
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}

extension ConfigDecoder {
    mutating func applyDelivery(_ table: TOMLTable, _ base: [String], to delivery: inout DeliveryConfig) throws(ConfigError) {
        for (key, entry) in table {
            let path = base + [key]
            note(path, entry)
            switch key {
            case "dns_server":
                let text = try string(entry, path)
                if text.isEmpty {
                    delivery.dnsServer = nil
                } else {
                    // A bare address means port 53: "127.0.0.1", "::1"; with a port: "127.0.0.1:5353", "[::1]:5353".
                    let withPort: String
                    if text.hasPrefix("[") || text.split(separator: ":").count == 2 {
                        withPort = text
                    } else {
                        withPort = text.contains(":") ? "[\(text)]:53" : "\(text):53"
                    }
                    delivery.dnsServer = try address(entry, path, withPort)
                }
            case "max_age": delivery.maxAge = try duration(entry, path, allowZero: false)
            case "warn_after": delivery.warnAfter = try duration(entry, path, allowZero: true)
            case "retry_intervals":
                guard case .array(let values) = entry.value, !values.isEmpty else {
                    throw error(path, entry, "expected a non-empty array of durations, e.g. [\"5m\", \"15m\", \"1h\"]")
                }
                var intervals: [Int] = []
                for value in values {
                    intervals.append(try duration(TOMLTable.Entry(value: value, position: entry.position), path, allowZero: false))
                }
                delivery.retryIntervals = intervals
            case "smtp_port":
                let port = try count(entry, path)
                guard (1...65535).contains(port) else { throw error(path, entry, "port must be a number from 1 to 65535") }
                delivery.smtpPort = port
            case "relay":
                let text = try string(entry, path)
                delivery.relay = text.isEmpty ? nil : try address(entry, path, text)
            case "relay_username":
                let text = try string(entry, path)
                delivery.relayUsername = text.isEmpty ? nil : text
            case "relay_password":
                let text = try string(entry, path)
                delivery.relayPassword = text.isEmpty ? nil : text
            case "relay_tls":
                let text = try string(entry, path)
                guard let policy = DeliveryConfig.TLSPolicy(rawValue: text) else {
                    throw error(path, entry, "expected \"opportunistic\" or \"required\", found \(TOMLKey.quoted(text))")
                }
                delivery.relayTLS = policy
            case "routes":
                for (domain, route) in try self.table(entry, path) {
                    let routePath = path + [domain]
                    note(routePath, route)
                    let name = domain.lowercased()
                    guard !name.isEmpty, HostnameRules.isValid(name) else {
                        throw error(routePath, route, "invalid domain \(TOMLKey.quoted(domain))")
                    }
                    delivery.routes[name] = try address(route, routePath, try string(route, routePath))
                }
            case "max_connections": delivery.maxConnections = max(1, try count(entry, path))
            case "max_connections_per_domain": delivery.maxConnectionsPerDomain = max(1, try count(entry, path))
            case "hold": delivery.hold = try boolean(entry, path)
            default:
                throw unknown(path, entry, known: DeliveryConfig.keys)
            }
        }
    }

    func address(_ entry: TOMLTable.Entry, _ path: [String], _ text: String) throws(ConfigError) -> ListenAddress {
        do throws(ListenAddress.ParseError) {
            let address = try ListenAddress(parsing: text)
            guard address.port > 0 else { throw ListenAddress.ParseError(input: text, reason: "port must not be 0") }
            return address
        } catch {
            throw self.error(path, entry, error.description)
        }
    }

    func duration(_ entry: TOMLTable.Entry, _ path: [String], allowZero: Bool) throws(ConfigError) -> Int {
        let seconds: Int
        switch entry.value {
        case .integer(let n):
            guard n >= 0, let value = Int(exactly: n) else { throw error(path, entry, "must not be negative (got \(n))") }
            seconds = value
        case .string(let s):
            guard let value = DurationText.parse(s) else {
                throw error(path, entry, "invalid duration \(TOMLKey.quoted(s)) (expected e.g. \"30s\", \"15m\", \"4h\", \"5d\")")
            }
            seconds = value
        default:
            throw error(path, entry, "expected a duration such as \"4h\" or a whole number of seconds, found \(Self.describe(entry.value))")
        }
        guard allowZero || seconds > 0 else { throw error(path, entry, "must be greater than zero") }
        return seconds
    }
}

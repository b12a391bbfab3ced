import DNSClient
import SkjoldConfig

/// One place to try delivering to: `host` is the name we show and use for SNI, `address` what we connect to.
public struct NextHop: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var address: String
    public var port: Int
    /// A configured relay or route (its TLS policy and credentials apply), rather than an MX host.
    public var configured: Bool

    public init(host: String, address: String, port: Int, configured: Bool = false) {
        self.host = host
        self.address = address
        self.port = port
        self.configured = configured
    }

    /// "mx.example.org[192.0.2.1]:25", as Postfix writes it.
    public var description: String {
        host == address ? "\(host):\(port)" : "\(host)[\(address)]:\(port)"
    }
}

/// The DNS questions routing asks; `DNSResolver` answers them, tests may script them.
public protocol MailDNS: Sendable {
    func mx(_ name: String) async throws -> DNSAnswer<[MXRecord]>
    func ipv4(_ name: String) async throws -> DNSAnswer<[String]>
    func ipv6(_ name: String) async throws -> DNSAnswer<[String]>
}

extension DNSResolver: MailDNS {}

/// Where mail for a domain goes: the relay, a configured route, or the domain's MX hosts (RFC 5321 §5.1).
public struct Router: Sendable {
    /// What routing decided for a domain.
    public enum Decision: Sendable, Equatable {
        case hops([NextHop])
        /// Bounce every recipient of the domain: RFC 3463 status and the reply text for the DSN.
        case permanent(status: String, reply: String)
        /// Try again later.
        case temporary(reply: String)
    }

    let config: DeliveryConfig
    let hostname: String
    let dns: (any MailDNS)?

    public init(config: DeliveryConfig, hostname: String, dns: (any MailDNS)?) {
        self.config = config
        self.hostname = hostname.lowercased()
        self.dns = dns
    }

    public func route(domain rawDomain: String) async -> Decision {
        let domain = rawDomain.lowercased()
        if let relay = config.relay {
            return .hops([NextHop(host: relay.host, address: relay.host, port: relay.port, configured: true)])
        }
        if let route = config.routes[domain] {
            return .hops([NextHop(host: route.host, address: route.host, port: route.port, configured: true)])
        }
        // user@[192.0.2.1] (RFC 5321 §4.1.3): no DNS.
        if domain.hasPrefix("["), domain.hasSuffix("]") {
            var literal = String(domain.dropFirst().dropLast())
            if literal.lowercased().hasPrefix("ipv6:") { literal = String(literal.dropFirst(5)) }
            return .hops([NextHop(host: literal, address: literal, port: config.smtpPort)])
        }
        guard let dns else { return .temporary(reply: "451 4.4.3 no DNS resolver configured") }
        let exchanges: [String]
        do {
            switch try await dns.mx(domain) {
            case .records(let records):
                // RFC 7505 §3: a single "." MX means the domain accepts no mail.
                if records.contains(where: { $0.exchange.isEmpty }) {
                    return .permanent(status: "5.1.10", reply: "556 5.1.10 domain \(domain) does not accept mail (null MX)")
                }
                exchanges = Self.ordered(records)
            case .noData:
                // RFC 5321 §5.1: no MX records, the domain itself is the implicit MX.
                exchanges = [domain]
            case .noSuchDomain:
                return .permanent(status: "5.1.2", reply: "550 5.1.2 domain \(domain) does not exist (DNS NXDOMAIN)")
            }
        } catch {
            return .temporary(reply: "451 4.4.3 DNS lookup of MX for \(domain) failed: \(error)")
        }
        var hops: [NextHop] = []
        var lastFailure: String?
        var nonexistent = 0
        for exchange in exchanges where hops.count < 32 {
            if exchange == hostname {
                // RFC 5321 §5.1: do not deliver to ourselves (and stop at MX hosts preferred less than us).
                lastFailure = "554 5.4.6 mail for \(domain) loops back to myself"
                break
            }
            var addresses: [String] = []
            var sawNXDomain = false
            for family in [true, false] {
                do {
                    let answer = family ? try await dns.ipv6(exchange) : try await dns.ipv4(exchange)
                    switch answer {
                    case .records(let found): addresses += found
                    case .noData: break
                    case .noSuchDomain: sawNXDomain = true
                    }
                } catch {
                    lastFailure = "451 4.4.3 DNS lookup of \(exchange) failed: \(error)"
                }
            }
            if addresses.isEmpty {
                if sawNXDomain { nonexistent += 1 }
                lastFailure = lastFailure ?? "451 4.4.4 no address for mail exchanger \(exchange)"
            }
            for address in addresses { hops.append(NextHop(host: exchange, address: address, port: config.smtpPort)) }
        }
        if hops.isEmpty {
            if exchanges == [domain], nonexistent == 1 {
                return .permanent(status: "5.1.2", reply: "550 5.1.2 domain \(domain) has no mail exchanger or address")
            }
            if let lastFailure, lastFailure.hasPrefix("554") {
                return .permanent(status: "5.4.6", reply: lastFailure)
            }
            return .temporary(reply: lastFailure ?? "451 4.4.4 no mail exchanger for \(domain)")
        }
        return .hops(hops)
    }

    /// MX hosts by preference; equal preferences in random order (RFC 5321 §5.1) to spread load.
    static func ordered(_ records: [MXRecord]) -> [String] {
        let grouped = Dictionary(grouping: records, by: \.preference)
        var result: [String] = []
        for preference in grouped.keys.sorted() {
            for record in grouped[preference, default: []].shuffled() where !result.contains(record.exchange) {
                result.append(record.exchange)
            }
        }
        return result
    }
}

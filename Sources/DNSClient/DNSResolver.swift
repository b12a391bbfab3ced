import DNSWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The lookups outbound delivery needs, behind a protocol so sessions and tests can use a double.
public protocol DNSResolving: Sendable {
    /// MX records sorted by preference (RFC 5321 §5.1); a null MX (RFC 7505) comes back as one record
    /// with exchange "".
    func mx(_ name: String) async throws -> DNSAnswer<[MXRecord]>
    /// A records as dotted quads.
    func ipv4(_ name: String) async throws -> DNSAnswer<[String]>
    /// AAAA records in RFC 5952 canonical text.
    func ipv6(_ name: String) async throws -> DNSAnswer<[String]>
    /// TXT records, each record's character-strings concatenated (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
    func txt(_ name: String) async throws -> DNSAnswer<[String]>
    /// TLSA records (RFC 6698 §2); use `lookup(_:type:)` when the DNSSEC status matters (RFC 7672 §2.2).
    func tlsa(_ name: String) async throws -> DNSAnswer<[TLSARecord]>
    /// The CNAME target of exactly this name, not followed further.
    func cname(_ name: String) async throws -> DNSAnswer<String>
    /// Records of any type with the canonical name and DNSSEC status.
    func lookup(_ name: String, type: DNSRecordType) async throws -> DNSLookupResult
}

/// A stub resolver (RFC 1035 §7, RFC 1123 §6.1.3) that asks recursive servers over UDP, falls back to TCP
/// on truncation (RFC 7766 §5), follows CNAME chains (RFC 1034 §3.6.2) and caches answers by TTL.
///
/// Servers are tried in order, `attempts` rounds over the list, each try waiting up to `timeout`. NXDOMAIN
/// and NOERROR end the search; SERVFAIL, REFUSED and other RCODEs move on to the next server. Every query
/// uses a fresh random ID and a fresh socket on a random ephemeral port, and a UDP reply is accepted only
/// from the server's address and port with our ID and question (RFC 5452 §9.1, §9.2).
///
/// Names are ASCII domain names (IDNs as A-labels, RFC 5890), with or without the trailing dot; the
/// answers' names are lowercased without the trailing dot.
public final class DNSResolver: DNSResolving {
    /// RFC 1034 §3.6.2 chains are short; 8 aliases is generous and stops loops early.
    public static let maximumCNAMEChain = 8
    /// Extra queries for CNAME targets a server left unresolved.
    static let maximumFollowUpQueries = 2
    /// RFC 2308 §5 suggests 1–3 hours for negative TTLs; a mail queue retrying soon after a DNS fix wants less.
    static let maximumNegativeTTL: UInt32 = 300
    static let maximumPositiveTTL: UInt32 = 86_400
    /// RFC 6891 §6.2.5: a payload size that avoids fragmentation on common paths.
    static let udpPayloadSize: UInt16 = 1232

    public let servers: [DNSServerAddress]
    public let timeout: Duration
    public let attempts: Int
    private let targets: [Target]
    private let eventLoopGroup: any EventLoopGroup
    private let cache: NIOLockedValueBox<DNSCache>

    private struct Target: Sendable {
        var server: DNSServerAddress
        var address: SocketAddress
    }

    /// - Parameters:
    ///   - servers: numeric addresses; entries whose host is not an IP address are skipped, and with none
    ///     left every lookup throws `DNSError.noServers`.
    ///   - timeout: how long one try waits for one server's reply (also the TCP connect and read limit).
    ///   - attempts: rounds over the server list (at least 1).
    ///   - cacheCapacity: entries kept; 0 disables the cache.
    public init(servers: [DNSServerAddress], timeout: Duration = .seconds(3), attempts: Int = 2,
                cacheCapacity: Int = 1024,
                eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.servers = servers
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.targets = servers.compactMap { server in
            server.socketAddress.map { Target(server: server, address: $0) }
        }
        self.eventLoopGroup = eventLoopGroup
        self.cache = NIOLockedValueBox(DNSCache(capacity: cacheCapacity))
    }

    /// A resolver configured from resolv.conf(5): its `nameserver` lines (127.0.0.1 when there are none
    /// or the file is missing) and its `timeout:`/`attempts:` options.
    public static func system(resolvConf path: String = "/etc/resolv.conf", cacheCapacity: Int = 1024,
                              eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton)
        throws -> DNSResolver {
        let configuration = try DNSResolverConfiguration(contentsOf: path)
        return DNSResolver(servers: configuration.servers, timeout: configuration.timeout,
                           attempts: configuration.attempts, cacheCapacity: cacheCapacity,
                           eventLoopGroup: eventLoopGroup)
    }

    // MARK: - Typed lookups

    public func mx(_ name: String) async throws -> DNSAnswer<[MXRecord]> {
        try await lookup(name, type: .mx).answer.map { records in
            records.compactMap { record -> MXRecord? in
                guard case .mx(let preference, let exchange) = record.data else { return nil }
                return MXRecord(preference: preference, exchange: exchange)
            }
            .sorted { ($0.preference, $0.exchange) < ($1.preference, $1.exchange) }
        }
    }

    public func ipv4(_ name: String) async throws -> DNSAnswer<[String]> {
        try await lookup(name, type: .a).answer.map { records in
            records.compactMap { record -> String? in
                guard case .a(let address) = record.data else { return nil }
                return address.description
            }
        }
    }

    public func ipv6(_ name: String) async throws -> DNSAnswer<[String]> {
        try await lookup(name, type: .aaaa).answer.map { records in
            records.compactMap { record -> String? in
                guard case .aaaa(let address) = record.data else { return nil }
                return address.description
            }
        }
    }

    /// Character-strings are joined without separators (RFC 7208 §3.3); octets that are not UTF-8 become
    /// U+FFFD.
    public func txt(_ name: String) async throws -> DNSAnswer<[String]> {
        try await lookup(name, type: .txt).answer.map { records in
            records.compactMap { record -> String? in
                guard case .txt(let strings) = record.data else { return nil }
                return String(decoding: strings.joined(), as: UTF8.self)
            }
        }
    }

    public func tlsa(_ name: String) async throws -> DNSAnswer<[TLSARecord]> {
        try await lookup(name, type: .tlsa).answer.map { records in
            records.compactMap { record -> TLSARecord? in
                guard case .tlsa(let usage, let selector, let matchingType, let data) = record.data else { return nil }
                return TLSARecord(usage: usage, selector: selector, matchingType: matchingType, data: data)
            }
        }
    }

    public func cname(_ name: String) async throws -> DNSAnswer<String> {
        switch try await lookup(name, type: .cname).answer {
        case .records(let records):
            for record in records {
                if case .cname(let target) = record.data { return .records(target) }
            }
            return .noData
        case .noData:
            return .noData
        case .noSuchDomain:
            return .noSuchDomain
        }
    }

    /// Looks up records of `type` for `name`, following CNAMEs unless `type` is `.cname`.
    ///
    /// Throws `DNSError.invalidName` before sending anything for a name that is not ASCII or breaks the
    /// RFC 1035 §2.3.4 limits; `serverFailure`, `timeout` or `malformedResponse` when no server gave a
    /// usable answer.
    public func lookup(_ name: String, type: DNSRecordType) async throws -> DNSLookupResult {
        let queryName: String
        do {
            queryName = try DNSMessage.normalizedName(name)
        } catch {
            throw DNSError.invalidName(name)
        }
        var seen: Set<String> = [queryName]
        return try await resolve(queryName, type: type, followUps: 0, seen: &seen).result
    }

    /// Drops every cached answer.
    public func flushCache() {
        cache.withLockedValue { $0 = DNSCache(capacity: $0.capacity) }
    }

    // MARK: - Resolution

    /// An outcome and how long it may be cached (nil: not at all).
    private struct Resolution {
        var result: DNSLookupResult
        var ttl: UInt32?
    }

    private func resolve(_ name: String, type: DNSRecordType, followUps: Int,
                         seen: inout Set<String>) async throws -> Resolution {
        let key = DNSCache.Key(name: name, type: type)
        if let hit = cache.withLockedValue({ $0.lookup(key, now: .now()) }) {
            return Resolution(result: hit.result, ttl: hit.ttl)
        }
        let reply = try await query(name, type: type)

        // RFC 1034 §3.6.2: the answer section carries the chain from the name to its canonical name.
        var current = name
        var chainTTL = UInt32.max
        var records = matching(reply, owner: current, type: type)
        while records.isEmpty, type != .cname, let alias = reply.answers.first(where: {
            $0.name == current && $0.recordClass == DNSClass.internet && $0.type == .cname
        }), case .cname(let target) = alias.data {
            guard seen.insert(target).inserted else {
                throw DNSError.malformedResponse("CNAME loop at \(target)")
            }
            guard seen.count <= Self.maximumCNAMEChain else {
                throw DNSError.malformedResponse("CNAME chain from \(name) longer than \(Self.maximumCNAMEChain)")
            }
            chainTTL = min(chainTTL, Self.effectiveTTL(alias.ttl))
            current = target
            records = matching(reply, owner: current, type: type)
        }

        var resolution: Resolution
        if !records.isEmpty {
            let ttl = min(chainTTL, records.map { Self.effectiveTTL($0.ttl) }.min() ?? 0, Self.maximumPositiveTTL)
            resolution = Resolution(
                result: DNSLookupResult(answer: .records(records), canonicalName: current,
                                        isAuthenticated: reply.authenticData),
                ttl: ttl)
        } else if reply.responseCode == .noError && current != name && Self.soa(in: reply) == nil {
            // The chain stops at a target the server neither answered nor proved empty: ask for it.
            guard followUps < Self.maximumFollowUpQueries else {
                throw DNSError.malformedResponse("CNAME chain from \(name) not resolved by the server")
            }
            let next = try await resolve(current, type: type, followUps: followUps + 1, seen: &seen)
            var result = next.result
            result.isAuthenticated = result.isAuthenticated && reply.authenticData
            resolution = Resolution(result: result, ttl: next.ttl.map { min($0, chainTTL) })
        } else {
            // RFC 2308 §2.1 NXDOMAIN (RFC 6604: it names the end of the chain), §2.2 NODATA.
            let answer: DNSAnswer<[DNSResourceRecord]> = reply.responseCode == .nameError ? .noSuchDomain : .noData
            resolution = Resolution(
                result: DNSLookupResult(answer: answer, canonicalName: current,
                                        isAuthenticated: reply.authenticData),
                ttl: Self.negativeTTL(reply).map { min($0, chainTTL) })
        }
        if let ttl = resolution.ttl {
            cache.withLockedValue { $0.insert(resolution.result, for: key, ttl: ttl, now: .now()) }
        }
        return resolution
    }

    private func matching(_ reply: DNSMessage, owner: String, type: DNSRecordType) -> [DNSResourceRecord] {
        reply.answers.filter { $0.name == owner && $0.recordClass == DNSClass.internet && $0.type == type }
    }

    /// RFC 2181 §8: a TTL with the top bit set is treated as zero.
    private static func effectiveTTL(_ ttl: UInt32) -> UInt32 {
        ttl > UInt32(Int32.max) ? 0 : ttl
    }

    private static func soa(in reply: DNSMessage) -> (record: DNSResourceRecord, soa: DNSStartOfAuthority)? {
        for record in reply.authorities {
            if case .soa(let soa) = record.data { return (record, soa) }
        }
        return nil
    }

    /// RFC 2308 §5: the lesser of the SOA's TTL and its MINIMUM, capped; no SOA, no negative caching.
    private static func negativeTTL(_ reply: DNSMessage) -> UInt32? {
        guard let (record, soa) = soa(in: reply) else { return nil }
        return min(effectiveTTL(record.ttl), effectiveTTL(soa.minimum), maximumNegativeTTL)
    }

    // MARK: - Transport

    /// Asks the servers in order, `attempts` rounds, until one gives NOERROR or NXDOMAIN.
    private func query(_ name: String, type: DNSRecordType) async throws -> DNSMessage {
        guard !targets.isEmpty else { throw DNSError.noServers }
        var failures: [DNSError] = []
        for _ in 0..<attempts {
            for target in targets {
                try Task.checkCancellation()
                do {
                    let reply = try await query(name, type: type, target: target)
                    switch reply.responseCode {
                    case .noError, .nameError:
                        return reply
                    default:
                        failures.append(.serverFailure("\(reply.responseCode) from \(target.server) for \(name) \(type)"))
                    }
                } catch let error as DNSError {
                    failures.append(error)
                }
            }
        }
        // The most telling failure: a server that answered beats one that sent garbage beats silence.
        return try {
            if let failure = failures.first(where: { if case .serverFailure = $0 { true } else { false } }) {
                throw failure
            }
            if let failure = failures.first(where: { if case .malformedResponse = $0 { true } else { false } }) {
                throw failure
            }
            throw failures.first ?? DNSError.timeout
        }()
    }

    /// One try against one server: UDP, then TCP if truncated, then once without EDNS if the server
    /// rejects it (RFC 6891 §7: FORMERR or NOTIMP without an OPT record in the reply).
    private func query(_ name: String, type: DNSRecordType, target: Target) async throws -> DNSMessage {
        let reply = try await exchange(name, type: type, target: target, edns: true)
        if (reply.responseCode == .formatError || reply.responseCode == .notImplemented) && reply.optRecord == nil {
            return try await exchange(name, type: type, target: target, edns: false)
        }
        return reply
    }

    private func exchange(_ name: String, type: DNSRecordType, target: Target, edns: Bool) async throws -> DNSMessage {
        let id = UInt16.random(in: .min ... .max)
        let matcher = DNSReplyMatcher(id: id, question: DNSQuestion(name: name, type: type))
        let bytes: [UInt8]
        do {
            bytes = try DNSMessage.query(id: id, name: name, type: type,
                                         udpPayloadSize: edns ? Self.udpPayloadSize : nil, authenticData: true)
        } catch {
            throw DNSError.invalidName(name)
        }
        let timeout = TimeAmount(self.timeout)
        let reply = try await DNSTransport.udp(query: bytes, matcher: matcher, server: target.address,
                                               timeout: timeout, group: eventLoopGroup)
        guard reply.isTruncated else { return reply }
        return try await DNSTransport.tcp(query: bytes, matcher: matcher, server: target.address,
                                          timeout: timeout, group: eventLoopGroup)
    }
}

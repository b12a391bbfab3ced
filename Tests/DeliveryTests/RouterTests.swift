import DNSClient
import Delivery
import SkjoldConfig
import Testing

/// Scripted DNS: answers from tables, throws for names listed as failing.
struct ScriptedDNS: MailDNS {
    var mx: [String: DNSAnswer<[MXRecord]>] = [:]
    var a: [String: DNSAnswer<[String]>] = [:]
    var aaaa: [String: DNSAnswer<[String]>] = [:]
    var failing: Set<String> = []

    func mx(_ name: String) async throws -> DNSAnswer<[MXRecord]> {
        if failing.contains(name) { throw DNSError.serverFailure("SERVFAIL") }
        return mx[name] ?? .noSuchDomain
    }
    func ipv4(_ name: String) async throws -> DNSAnswer<[String]> {
        if failing.contains(name) { throw DNSError.timeout }
        return a[name] ?? .noSuchDomain
    }
    func ipv6(_ name: String) async throws -> DNSAnswer<[String]> {
        if failing.contains(name) { throw DNSError.timeout }
        return aaaa[name] ?? .noData
    }
}

@Suite("next-hop routing (RFC 5321 §5.1, RFC 7505)")
struct RouterTests {
    let config = DeliveryConfig(smtpPort: 2525)

    @Test func mxPriorityThenAddresses() async {
        var dns = ScriptedDNS()
        dns.mx["example.org"] = .records([MXRecord(preference: 20, exchange: "backup.example.org"),
                                          MXRecord(preference: 10, exchange: "mx.example.org")])
        dns.a["mx.example.org"] = .records(["192.0.2.1", "192.0.2.2"])
        dns.aaaa["mx.example.org"] = .records(["2001:db8::1"])
        dns.a["backup.example.org"] = .records(["192.0.2.9"])
        let decision = await Router(config: config, hostname: "mail.skjold.test", dns: dns).route(domain: "Example.ORG")
        #expect(decision == .hops([
            NextHop(host: "mx.example.org", address: "2001:db8::1", port: 2525),
            NextHop(host: "mx.example.org", address: "192.0.2.1", port: 2525),
            NextHop(host: "mx.example.org", address: "192.0.2.2", port: 2525),
            NextHop(host: "backup.example.org", address: "192.0.2.9", port: 2525),
        ]))
    }

    @Test func noMXFallsBackToTheDomainsAddress() async {
        var dns = ScriptedDNS()
        dns.mx["plain.example"] = .noData
        dns.a["plain.example"] = .records(["192.0.2.7"])
        let decision = await Router(config: config, hostname: "h", dns: dns).route(domain: "plain.example")
        #expect(decision == .hops([NextHop(host: "plain.example", address: "192.0.2.7", port: 2525)]))
    }

    @Test func nullMXAndNXDOMAINBounceServfailWaits() async {
        var dns = ScriptedDNS()
        dns.mx["null.example"] = .records([MXRecord(preference: 0, exchange: "")])
        dns.failing = ["broken.example"]
        let router = Router(config: config, hostname: "h", dns: dns)
        guard case .permanent(let status, let reply) = await router.route(domain: "null.example") else {
            Issue.record("null MX must bounce")
            return
        }
        #expect(status == "5.1.10" && reply.hasPrefix("556 5.1.10"))
        guard case .permanent(let nxStatus, _) = await router.route(domain: "nowhere.example") else {
            Issue.record("NXDOMAIN must bounce")
            return
        }
        #expect(nxStatus == "5.1.2")
        guard case .temporary(let reply2) = await router.route(domain: "broken.example") else {
            Issue.record("SERVFAIL must be retried")
            return
        }
        #expect(reply2.hasPrefix("451 4.4.3"))
    }

    @Test func mxWithoutAddressesIsTemporary() async {
        var dns = ScriptedDNS()
        dns.mx["example.net"] = .records([MXRecord(preference: 10, exchange: "gone.example.net")])
        let decision = await Router(config: config, hostname: "h", dns: dns).route(domain: "example.net")
        guard case .temporary = decision else {
            Issue.record("an MX whose name has no address is retried, got \(decision)")
            return
        }
    }

    @Test func relayAndRoutesWinOverDNS() async {
        var withRoute = config
        withRoute.routes["example.org"] = ListenAddress(host: "127.0.0.1", port: 2526)
        let routed = await Router(config: withRoute, hostname: "h", dns: ScriptedDNS()).route(domain: "EXAMPLE.org")
        #expect(routed == .hops([NextHop(host: "127.0.0.1", address: "127.0.0.1", port: 2526, configured: true)]))
        var withRelay = withRoute
        withRelay.relay = ListenAddress(host: "smarthost.example", port: 587)
        let relayed = await Router(config: withRelay, hostname: "h", dns: ScriptedDNS()).route(domain: "example.org")
        #expect(relayed == .hops([NextHop(host: "smarthost.example", address: "smarthost.example", port: 587, configured: true)]))
    }

    @Test func addressLiteralAndLoopToMyself() async {
        let literal = await Router(config: config, hostname: "h", dns: ScriptedDNS()).route(domain: "[192.0.2.5]")
        #expect(literal == .hops([NextHop(host: "192.0.2.5", address: "192.0.2.5", port: 2525)]))
        var dns = ScriptedDNS()
        dns.mx["self.example"] = .records([MXRecord(preference: 10, exchange: "mail.skjold.test")])
        guard case .permanent(let status, _) = await Router(config: config, hostname: "mail.skjold.test", dns: dns).route(domain: "self.example") else {
            Issue.record("mail looping back to myself is refused")
            return
        }
        #expect(status == "5.4.6")
    }

    @Test func nextHopDescription() {
        #expect(NextHop(host: "mx.example.org", address: "192.0.2.1", port: 25).description == "mx.example.org[192.0.2.1]:25")
        #expect(NextHop(host: "127.0.0.1", address: "127.0.0.1", port: 2525).description == "127.0.0.1:2525")
    }
}

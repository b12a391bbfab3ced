@testable import DNSClient
import DNSWire
import NIOCore
import Testing

@Suite("Resolver configuration and cache")
struct DNSConfigurationTests {
    @Test func parsesServerAddresses() throws {
        #expect(try DNSServerAddress(parsing: "1.2.3.4") == DNSServerAddress(host: "1.2.3.4", port: 53))
        #expect(try DNSServerAddress(parsing: "127.0.0.1:5353") == DNSServerAddress(host: "127.0.0.1", port: 5353))
        #expect(try DNSServerAddress(parsing: "::1") == DNSServerAddress(host: "::1", port: 53))
        #expect(try DNSServerAddress(parsing: "[::1]:5353") == DNSServerAddress(host: "::1", port: 5353))
        #expect(try DNSServerAddress(parsing: "[2001:db8::53]") == DNSServerAddress(host: "2001:db8::53", port: 53))
        #expect(DNSServerAddress(host: "::1", port: 5353).description == "[::1]:5353")
        // Link-local with a zone index (the loopback interface exists everywhere).
        #expect(try DNSServerAddress(parsing: "[fe80::1%lo]:5353") == DNSServerAddress(host: "fe80::1%lo", port: 5353))
        for bad in ["", "dns.example.test", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:", "1.2.3.4:x", "[::1", "[::1]x",
                    "[::1]:", "1.2.3", "999.1.1.1", "fe80::1%nosuchif0", "[1.2.3.4]:-1"] {
            #expect(throws: DNSConfigurationError.invalidServerAddress(bad)) { try DNSServerAddress(parsing: bad) }
        }
    }

    @Test func parsesResolvConf() {
        let text = """
            # comment
            ; another
            search example.test
            nameserver 192.0.2.53
            nameserver   2001:db8::53
            nameserver not-an-address
            nameserver fe80::1%nosuchif0
            nameserver 192.0.2.54 # trailing comment
            nameserver 192.0.2.55
            options ndots:2 timeout:7 attempts:3 rotate
            """
        let configuration = DNSResolverConfiguration(resolvConf: text)
        #expect(configuration.servers == [
            DNSServerAddress(host: "192.0.2.53"), DNSServerAddress(host: "2001:db8::53"), DNSServerAddress(host: "192.0.2.54"),
        ])
        #expect(configuration.timeout == .seconds(7))
        #expect(configuration.attempts == 3)

        let capped = DNSResolverConfiguration(resolvConf: "options timeout:99 attempts:0\n")
        #expect(capped.servers == [DNSServerAddress(host: "127.0.0.1")])
        #expect(capped.timeout == .seconds(30))
        #expect(capped.attempts == 1)

        let defaults = DNSResolverConfiguration(resolvConf: "")
        #expect(defaults == DNSResolverConfiguration(servers: [DNSServerAddress(host: "127.0.0.1")], timeout: .seconds(5), attempts: 2))
    }

    @Test func missingResolvConfGivesDefaults() throws {
        let configuration = try DNSResolverConfiguration(contentsOf: "/nonexistent/skjold/resolv.conf")
        #expect(configuration.servers == [DNSServerAddress(host: "127.0.0.1")])
        #expect(throws: DNSConfigurationError.unreadableResolvConf("/")) { try DNSResolverConfiguration(contentsOf: "/") }
    }

    private func result(_ name: String) -> DNSLookupResult {
        DNSLookupResult(answer: .noData, canonicalName: name, isAuthenticated: false)
    }

    @Test func cacheExpiresByTTL() {
        var cache = DNSCache(capacity: 4)
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
        let key = DNSCache.Key(name: "example.test", type: .mx)
        cache.insert(result("example.test"), for: key, ttl: 10, now: start)
        #expect(cache.lookup(key, now: start)?.ttl == 10)
        #expect(cache.lookup(key, now: start + .milliseconds(9_500))?.ttl == 1)
        #expect(cache.lookup(DNSCache.Key(name: "example.test", type: .a), now: start) == nil)
        #expect(cache.lookup(key, now: start + .seconds(10)) == nil)
        #expect(cache.count == 0)
        cache.insert(result("example.test"), for: key, ttl: 0, now: start)
        #expect(cache.count == 0)
    }

    @Test func cacheEvictsExpiredThenOldest() {
        var cache = DNSCache(capacity: 3)
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
        let keys = (0..<5).map { DNSCache.Key(name: "n\($0).test", type: .a) }
        cache.insert(result("n0"), for: keys[0], ttl: 100, now: start)
        cache.insert(result("n1"), for: keys[1], ttl: 1, now: start)
        cache.insert(result("n2"), for: keys[2], ttl: 100, now: start)
        // n1 has expired by now: it goes, not the older n0.
        cache.insert(result("n3"), for: keys[3], ttl: 100, now: start + .seconds(2))
        #expect(cache.count == 3)
        #expect(cache.lookup(keys[0], now: start + .seconds(2)) != nil)
        // Full of live entries: the oldest inserted (n0) goes.
        cache.insert(result("n4"), for: keys[4], ttl: 100, now: start + .seconds(2))
        #expect(cache.count == 3)
        #expect(cache.lookup(keys[0], now: start + .seconds(2)) == nil)
        #expect(cache.lookup(keys[4], now: start + .seconds(2)) != nil)
        // Replacing an entry does not evict.
        cache.insert(result("n2'"), for: keys[2], ttl: 100, now: start + .seconds(2))
        #expect(cache.count == 3)
        #expect(cache.lookup(keys[2], now: start + .seconds(2))?.result.canonicalName == "n2'")

        var disabled = DNSCache(capacity: 0)
        disabled.insert(result("x"), for: keys[0], ttl: 100, now: start)
        #expect(disabled.count == 0)
    }
}

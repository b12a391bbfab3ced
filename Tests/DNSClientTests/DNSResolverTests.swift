import DNSClient
import DNSWire
import Foundation
import Testing

/// A small zone the table-driven tests answer from.
private func zone(_ query: DNSMessage) -> DNSMessage {
    guard let question = query.questions.first else { return reply(to: query, .formatError) }
    let record = { (data: DNSRecordData) in DNSResourceRecord(name: question.name, ttl: 300, data: data) }
    switch (question.name, question.type) {
    case ("example.test", .mx):
        // Deliberately out of preference order.
        return reply(to: query, answers: [
            record(.mx(preference: 20, exchange: "mx2.example.test")),
            record(.mx(preference: 5, exchange: "mx0.example.test")),
            record(.mx(preference: 10, exchange: "mx1.example.test")),
        ])
    case ("nullmx.test", .mx):
        return reply(to: query, answers: [record(.mx(preference: 0, exchange: ""))])
    case ("example.test", .a):
        return reply(to: query, answers: [record(.a(DNSIPv4Address(192, 0, 2, 1))), record(.a(DNSIPv4Address(192, 0, 2, 2)))])
    case ("example.test", .aaaa):
        return reply(to: query, answers: [
            record(.aaaa(DNSIPv6Address(groups: [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x25])!)),
        ])
    case ("example.test", .txt):
        return reply(to: query, answers: [
            record(.txt([Array("v=spf1 ip4:192.0.2.0/24 ".utf8), Array("-all".utf8)])),
            record(.txt([Array("google-site-verification=x".utf8)])),
        ])
    case ("_25._tcp.mx1.example.test", .tlsa):
        return reply(to: query, answers: [record(.tlsa(usage: 3, selector: 1, matchingType: 1, data: Array(0..<32)))],
                     authenticated: true)
    case ("example.test", _):
        // NODATA: the name exists, the type does not (RFC 2308 §2.2).
        return reply(to: query, authorities: [soaRecord(minimum: 60)])
    default:
        return reply(to: query, .nameError, authorities: [soaRecord(minimum: 60)])
    }
}

@Suite("DNS resolver against a loopback server")
struct DNSResolverTests {
    @Test func mxRecordsSortedByPreference() async throws {
        try await withServer({ query, _ in [.message(zone(query))] }) { server, resolver async throws in
            let answer = try await resolver.mx("Example.TEST.")
            #expect(answer == .records([
                MXRecord(preference: 5, exchange: "mx0.example.test"),
                MXRecord(preference: 10, exchange: "mx1.example.test"),
                MXRecord(preference: 20, exchange: "mx2.example.test"),
            ]))
            // The query: lowercased name, RD, AD (RFC 6840 §5.7), EDNS 1232 (RFC 6891).
            let query = try #require(server.queries.first?.message)
            #expect(query.recursionDesired && query.authenticData)
            #expect(query.optRecord?.recordClass == 1232)
            #expect(query.questions == [DNSQuestion(name: "example.test", type: .mx)])
        }
    }

    @Test func nullMX() async throws {
        try await withServer({ query, _ in [.message(zone(query))] }) { _, resolver async throws in
            let answer = try await resolver.mx("nullmx.test")
            #expect(answer == .records([MXRecord(preference: 0, exchange: "")]))
            guard case .records(let records) = answer else { return }
            #expect(records.allSatisfy { $0.isNullMX })
        }
    }

    @Test func addressesTextAndTLSA() async throws {
        try await withServer({ query, _ in [.message(zone(query))] }) { _, resolver async throws in
            #expect(try await resolver.ipv4("example.test") == .records(["192.0.2.1", "192.0.2.2"]))
            #expect(try await resolver.ipv6("example.test") == .records(["2001:db8::25"]))
            #expect(try await resolver.txt("example.test") == .records([
                "v=spf1 ip4:192.0.2.0/24 -all", "google-site-verification=x",
            ]))
            #expect(try await resolver.tlsa("_25._tcp.mx1.example.test") == .records([
                TLSARecord(usage: 3, selector: 1, matchingType: 1, data: Array(0..<32)),
            ]))
            let lookup = try await resolver.lookup("_25._tcp.mx1.example.test", type: .tlsa)
            #expect(lookup.isAuthenticated)
            #expect(lookup.canonicalName == "_25._tcp.mx1.example.test")
            #expect(try await resolver.lookup("example.test", type: .a).isAuthenticated == false)
        }
    }

    @Test func noSuchDomainAndNoData() async throws {
        try await withServer({ query, _ in [.message(zone(query))] }) { _, resolver async throws in
            #expect(try await resolver.mx("missing.test") == .noSuchDomain)
            #expect(try await resolver.ipv4("missing.test") == .noSuchDomain)
            #expect(try await resolver.tlsa("example.test") == .noData)
            #expect(try await resolver.cname("example.test") == .noData)
        }
    }

    @Test func serverFailureAfterEveryAttempt() async throws {
        try await withServer(attempts: 2, { query, _ in [.message(reply(to: query, .serverFailure))] }) { server, resolver async throws in
            let error = await dnsError { try await resolver.mx("example.test") }
            #expect(error?.isServerFailure == true)
            #expect(server.count("example.test", .mx) == 2)
            // Failures are never cached: asking again asks again.
            _ = await dnsError { try await resolver.mx("example.test") }
            #expect(server.count("example.test", .mx) == 4)
        }
    }

    @Test func refusedIsAServerFailure() async throws {
        try await withServer(attempts: 1, { query, _ in [.message(reply(to: query, .refused))] }) { _, resolver async throws in
            let error = await dnsError { try await resolver.ipv4("example.test") }
            #expect(error?.isServerFailure == true)
        }
    }

    @Test func silenceIsATimeout() async throws {
        try await withServer(timeout: .milliseconds(200), attempts: 2, { _, _ in [] }) { server, resolver async throws in
            let start = ContinuousClock.now
            let error = await dnsError { try await resolver.mx("example.test") }
            let elapsed = ContinuousClock.now - start
            #expect(error == .timeout)
            #expect(server.count("example.test", .mx) == 2)
            #expect(elapsed >= .milliseconds(380) && elapsed < .seconds(2))
        }
    }

    @Test func truncatedUDPFallsBackToTCP() async throws {
        let exchanges = (1...40).map { MXRecord(preference: UInt16($0), exchange: "mx\($0).big.example.test") }
        try await withServer({ query, overTCP in
            guard overTCP else { return [.message(reply(to: query, truncated: true))] }
            return [.message(reply(to: query, answers: exchanges.map {
                DNSResourceRecord(name: "big.example.test", ttl: 300,
                                  data: .mx(preference: $0.preference, exchange: $0.exchange))
            }))]
        }) { server, resolver async throws in
            #expect(try await resolver.mx("big.example.test") == .records(exchanges))
            #expect(server.count("big.example.test", .mx, tcp: false) == 1)
            #expect(server.count("big.example.test", .mx, tcp: true) == 1)
        }
    }

    @Test func ignoresRepliesWithWrongIDOrQuestion() async throws {
        try await withServer({ query, _ in
            var wrongQuestion = zone(query)
            wrongQuestion.questions = [DNSQuestion(name: "other.test", type: .a)]
            wrongQuestion.answers = [DNSResourceRecord(name: "other.test", ttl: 300, data: .a(DNSIPv4Address(6, 6, 6, 6)))]
            var forged = zone(query)
            forged.answers = [DNSResourceRecord(name: "example.test", ttl: 300, data: .a(DNSIPv4Address(6, 6, 6, 6)))]
            return [
                .withID(query.id &+ 1, forged),
                .message(wrongQuestion),
                .raw([0x00]),
                .message(zone(query)),
            ]
        }) { _, resolver async throws in
            #expect(try await resolver.ipv4("example.test") == .records(["192.0.2.1", "192.0.2.2"]))
        }
    }

    @Test func ignoresRepliesFromAnotherPort() async throws {
        try await withServer({ query, _ in
            var forged = zone(query)
            forged.answers = [DNSResourceRecord(name: "example.test", ttl: 300, data: .a(DNSIPv4Address(6, 6, 6, 6)))]
            return [.fromOtherPort(forged), .message(zone(query))]
        }) { _, resolver async throws in
            #expect(try await resolver.ipv4("example.test") == .records(["192.0.2.1", "192.0.2.2"]))
        }
    }

    @Test func garbageFromTheServerIsMalformed() async throws {
        try await withServer(timeout: .milliseconds(200), attempts: 1, { query, _ in
            // Our ID, then octets that do not decode.
            [.raw([UInt8(query.id >> 8), UInt8(query.id & 0xFF), 0x81, 0x80, 0x00, 0x01])]
        }) { _, resolver async throws in
            let error = await dnsError { try await resolver.ipv4("example.test") }
            #expect(error?.isMalformed == true)
        }
    }

    @Test func followsCNAMEChainInAnswer() async throws {
        try await withServer({ query, _ in
            let question = query.questions[0]
            guard question.name == "www.example.test" else { return [.message(zone(query))] }
            return [.message(reply(to: query, answers: [
                DNSResourceRecord(name: "www.example.test", ttl: 600, data: .cname("web.example.test")),
                DNSResourceRecord(name: "web.example.test", ttl: 600, data: .cname("host.example.test")),
                DNSResourceRecord(name: "host.example.test", ttl: 600, data: .a(DNSIPv4Address(192, 0, 2, 80))),
                // Out of the chain: must be ignored.
                DNSResourceRecord(name: "unrelated.test", ttl: 600, data: .a(DNSIPv4Address(6, 6, 6, 6))),
            ]))]
        }) { server, resolver async throws in
            #expect(try await resolver.ipv4("www.example.test") == .records(["192.0.2.80"]))
            let lookup = try await resolver.lookup("www.example.test", type: .a)
            #expect(lookup.canonicalName == "host.example.test")
            #expect(try await resolver.cname("www.example.test") == .records("web.example.test"))
            #expect(server.count("www.example.test", .a) == 1)
        }
    }

    @Test func queriesCNAMETargetTheServerLeftOpen() async throws {
        try await withServer({ query, _ in
            let question = query.questions[0]
            switch question.name {
            case "alias.example.test":
                return [.message(reply(to: query, answers: [
                    DNSResourceRecord(name: "alias.example.test", ttl: 600, data: .cname("mail.other.test")),
                ]))]
            case "mail.other.test" where question.type == .mx:
                return [.message(reply(to: query, answers: [
                    DNSResourceRecord(name: "mail.other.test", ttl: 600, data: .mx(preference: 1, exchange: "in.other.test")),
                ]))]
            default:
                return [.message(reply(to: query, .nameError))]
            }
        }) { server, resolver async throws in
            #expect(try await resolver.mx("alias.example.test") == .records([MXRecord(preference: 1, exchange: "in.other.test")]))
            #expect(server.count("mail.other.test", .mx) == 1)
            // A chain ending in a name that does not exist.
            #expect(try await resolver.ipv4("alias.example.test") == .noSuchDomain)
        }
    }

    @Test func cnameLoopIsMalformed() async throws {
        try await withServer({ query, _ in
            [.message(reply(to: query, answers: [
                DNSResourceRecord(name: "a.example.test", ttl: 60, data: .cname("b.example.test")),
                DNSResourceRecord(name: "b.example.test", ttl: 60, data: .cname("a.example.test")),
            ]))]
        }) { _, resolver async throws in
            let error = await dnsError { try await resolver.ipv4("a.example.test") }
            #expect(error?.isMalformed == true)
        }
    }

    @Test func overlongCNAMEChainIsMalformed() async throws {
        try await withServer({ query, _ in
            [.message(reply(to: query, answers: (0..<12).map {
                DNSResourceRecord(name: "c\($0).example.test", ttl: 60, data: .cname("c\($0 + 1).example.test"))
            }))]
        }) { _, resolver async throws in
            let error = await dnsError { try await resolver.ipv4("c0.example.test") }
            #expect(error?.isMalformed == true)
        }
    }

    @Test func cacheServesRepeatedLookups() async throws {
        try await withServer({ query, _ in [.message(zone(query))] }) { server, resolver async throws in
            for _ in 0..<3 {
                #expect(try await resolver.mx("example.test") == .records([
                    MXRecord(preference: 5, exchange: "mx0.example.test"),
                    MXRecord(preference: 10, exchange: "mx1.example.test"),
                    MXRecord(preference: 20, exchange: "mx2.example.test"),
                ]))
                // Negative answers are cached by the SOA minimum (RFC 2308 §5).
                #expect(try await resolver.mx("missing.test") == .noSuchDomain)
                #expect(try await resolver.tlsa("example.test") == .noData)
            }
            #expect(server.count("example.test", .mx) == 1)
            #expect(server.count("missing.test", .mx) == 1)
            #expect(server.count("example.test", .tlsa) == 1)
            resolver.flushCache()
            _ = try await resolver.mx("example.test")
            #expect(server.count("example.test", .mx) == 2)
        }
    }

    @Test func zeroTTLAndNegativeWithoutSOAAreNotCached() async throws {
        try await withServer({ query, _ in
            if query.questions[0].type == .a {
                return [.message(reply(to: query, answers: [
                    DNSResourceRecord(name: "example.test", ttl: 0, data: .a(DNSIPv4Address(192, 0, 2, 1))),
                ]))]
            }
            return [.message(reply(to: query, .nameError))]
        }) { server, resolver async throws in
            for _ in 0..<2 {
                #expect(try await resolver.ipv4("example.test") == .records(["192.0.2.1"]))
                #expect(try await resolver.mx("example.test") == .noSuchDomain)
            }
            #expect(server.count("example.test", .a) == 2)
            #expect(server.count("example.test", .mx) == 2)
        }
    }

    @Test func secondServerAnswersWhenFirstFails() async throws {
        try await withTimeout {
            let failing = try await FakeDNSServer.start { query, _ in [.message(reply(to: query, .serverFailure))] }
            let working = try await FakeDNSServer.start { query, _ in [.message(zone(query))] }
            let resolver = DNSResolver(servers: [failing.address, working.address], timeout: .seconds(2))
            let answer = try await resolver.ipv4("example.test")
            await failing.stop()
            await working.stop()
            #expect(answer == .records(["192.0.2.1", "192.0.2.2"]))
            #expect(failing.count("example.test", .a) == 1)
            #expect(working.count("example.test", .a) == 1)
        }
    }

    @Test func silentFirstServerThenWorkingSecond() async throws {
        try await withTimeout {
            let silent = try await FakeDNSServer.start { _, _ in [] }
            let working = try await FakeDNSServer.start { query, _ in [.message(zone(query))] }
            let resolver = DNSResolver(servers: [silent.address, working.address], timeout: .milliseconds(200))
            let answer = try await resolver.mx("nullmx.test")
            await silent.stop()
            await working.stop()
            #expect(answer == .records([MXRecord(preference: 0, exchange: "")]))
        }
    }

    @Test func retriesWithoutEDNSWhenServerRejectsIt() async throws {
        try await withServer({ query, _ in
            guard query.optRecord == nil else {
                // An EDNS-unaware server: FORMERR, no OPT, no question (RFC 6891 §7).
                return [.message(DNSMessage(id: query.id, isResponse: true, responseCode: .formatError))]
            }
            return [.message(zone(query))]
        }) { server, resolver async throws in
            #expect(try await resolver.ipv4("example.test") == .records(["192.0.2.1", "192.0.2.2"]))
            #expect(server.queries.map { $0.message.optRecord == nil } == [false, true])
        }
    }

    @Test func invalidNamesAndNoServers() async throws {
        try await withServer({ query, _ in [.message(zone(query))] }) { server, resolver async throws in
            for name in ["bad..name", "bücher.test", String(repeating: "a", count: 64) + ".test"] {
                #expect(await dnsError { try await resolver.mx(name) } == .invalidName(name))
            }
            #expect(server.queries.isEmpty)
        }
        let none = DNSResolver(servers: [])
        #expect(await dnsError { try await none.mx("example.test") } == .noServers)
        let unusable = DNSResolver(servers: [DNSServerAddress(host: "dns.example.test")])
        #expect(await dnsError { try await unusable.mx("example.test") } == .noServers)
    }

    @Test func systemResolverReadsResolvConf() async throws {
        try await withTimeout {
            let server = try await FakeDNSServer.start { query, _ in [.message(zone(query))] }
            let path = FileManager.default.temporaryDirectory
                .appendingPathComponent("resolv-\(UUID().uuidString).conf").path
            try "# test\nnameserver 127.0.0.1:\(server.port)\noptions timeout:1 attempts:1\n"
                .write(toFile: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let resolver = try DNSResolver.system(resolvConf: path)
            #expect(resolver.servers == [server.address])
            #expect(resolver.timeout == .seconds(1))
            #expect(resolver.attempts == 1)
            let answer = try await resolver.ipv4("example.test")
            await server.stop()
            #expect(answer == .records(["192.0.2.1", "192.0.2.2"]))
        }
    }
}

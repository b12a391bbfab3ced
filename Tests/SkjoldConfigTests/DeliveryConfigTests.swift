import Testing
import SkjoldConfig

@Suite("[delivery] configuration")
struct DeliveryConfigTests {
    @Test func defaultsMatchTheIssue() {
        let d = SkjoldConfig.builtInDefault.delivery
        #expect(d.maxAge == 5 * 86_400)
        #expect(d.warnAfter == 4 * 3_600)
        #expect(d.smtpPort == 25)
        #expect(d.retryIntervals == [300, 900, 1_800, 3_600, 7_200])
        #expect(d.retryDelay(afterAttempts: 1) == 300)
        #expect(d.retryDelay(afterAttempts: 5) == 7_200)
        #expect(d.retryDelay(afterAttempts: 40) == 7_200)
        #expect(d.relay == nil && d.routes.isEmpty && d.dnsServer == nil && !d.hold)
    }

    @Test func everyKey() throws {
        let config = try SkjoldConfig.parse("""
            hostname = "mail.example.test"
            [delivery]
            dns_server = "127.0.0.1:5353"
            max_age = "2d"
            warn_after = "30m"
            retry_intervals = ["1s", "2s", 10]
            smtp_port = 2525
            relay = "[::1]:587"
            relay_username = "me"
            relay_password = "secret"
            relay_tls = "required"
            max_connections = 8
            max_connections_per_domain = 2
            hold = true
            [delivery.routes]
            "Example.ORG" = "127.0.0.1:2526"
            """, file: "t.toml")
        let d = config.delivery
        #expect(d.dnsServer == ListenAddress(host: "127.0.0.1", port: 5353))
        #expect(d.maxAge == 172_800)
        #expect(d.warnAfter == 1_800)
        #expect(d.retryIntervals == [1, 2, 10])
        #expect(d.smtpPort == 2525)
        #expect(d.relay == ListenAddress(host: "::1", port: 587))
        #expect(d.relayUsername == "me" && d.relayPassword == "secret")
        #expect(d.relayTLS == .required)
        #expect(d.maxConnections == 8 && d.maxConnectionsPerDomain == 2)
        #expect(d.hold)
        #expect(d.routes == ["example.org": ListenAddress(host: "127.0.0.1", port: 2526)])
    }

    @Test func bareDNSServerMeansPort53() throws {
        var config = SkjoldConfig.dev(dataDir: "/tmp/x")
        try config.apply(override: "delivery.dns_server=\"10.0.0.1\"")
        #expect(config.delivery.dnsServer == ListenAddress(host: "10.0.0.1", port: 53))
        try config.apply(override: "delivery.dns_server=\"::1\"")
        #expect(config.delivery.dnsServer == ListenAddress(host: "::1", port: 53))
        try config.apply(override: "delivery.dns_server=\"[::1]:5300\"")
        #expect(config.delivery.dnsServer == ListenAddress(host: "::1", port: 5300))
    }

    @Test func errorsNameTheKey() {
        func message(_ text: String) -> String {
            do {
                _ = try SkjoldConfig.parse("hostname = \"h.test\"\n[delivery]\n" + text, file: "c.toml")
                return "(no error)"
            } catch {
                return error.description
            }
        }
        #expect(message("max_age = \"soon\"").contains("c.toml:3: delivery.max_age: invalid duration"))
        #expect(message("max_age = 0").contains("must be greater than zero"))
        #expect(message("retry_intervals = []").contains("delivery.retry_intervals"))
        #expect(message("smtp_port = 70000").contains("port must be a number from 1 to 65535"))
        #expect(message("relay = \"nohost\"").contains("delivery.relay: invalid address"))
        #expect(message("relay_tls = \"maybe\"").contains("expected \"opportunistic\" or \"required\""))
        #expect(message("[delivery.routes]\n\"bad domain\" = \"127.0.0.1:25\"").contains("invalid domain"))
        #expect(message("max_ag = \"1d\"").contains("did you mean delivery.max_age?"))
    }

    @Test func durations() {
        #expect(DurationText.parse("90") == 90)
        #expect(DurationText.parse("90s") == 90)
        #expect(DurationText.parse(" 15m ") == 900)
        #expect(DurationText.parse("4h") == 14_400)
        #expect(DurationText.parse("1w") == 604_800)
        #expect(DurationText.parse("") == nil)
        #expect(DurationText.parse("h") == nil)
        #expect(DurationText.parse("-5m") == nil)
        #expect(DurationText.parse("1.5h") == nil)
        #expect(DurationText.parse("9999999999d") == nil)
    }
}

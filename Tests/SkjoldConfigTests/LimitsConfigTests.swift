import Testing
import SkjoldConfig

/// `[limits]` connection caps and slow-client deadlines (Robustness issue).
@Suite("[limits] connection caps and deadlines")
struct LimitsConfigTests {
    let file = "/etc/skjold.toml"

    @Test func defaults() {
        let limits = SkjoldConfig.builtInDefault.limits
        #expect(limits.maxConnections == 1000)
        #expect(limits.maxConnectionsPerAddress == 20)
        #expect(limits.maxIMAPConnections == 5000)
        #expect(limits.maxIMAPConnectionsPerAddress == 100)
        #expect(limits.commandTimeoutSeconds == 60)
        #expect(limits.minDataRate == 500)
        #expect(limits.tlsHandshakeTimeoutSeconds == 15)
    }

    @Test func everyKeyFromFileAndOverride() throws {
        var config = try SkjoldConfig.parse("""
            [limits]
            max_connections = 300
            max_connections_per_address = 5
            max_imap_connections = 20000
            max_imap_connections_per_address = 250
            command_timeout_seconds = 30
            min_data_rate = 2000
            tls_handshake_timeout_seconds = 8
            """, file: file)
        #expect(config.limits == LimitsConfig(maxConnections: 300, maxConnectionsPerAddress: 5, maxIMAPConnections: 20000,
                                              maxIMAPConnectionsPerAddress: 250, commandTimeoutSeconds: 30, minDataRate: 2000,
                                              tlsHandshakeTimeoutSeconds: 8))
        try config.apply(overrides: ["limits.max_connections_per_address=50", "limits.command_timeout_seconds=90"])
        #expect(config.limits.maxConnectionsPerAddress == 50)
        #expect(config.limits.commandTimeoutSeconds == 90)
        #expect(config.limits.maxConnections == 300)
    }

    @Test func badValuesNameTheKey() {
        let cases: [(String, String)] = [
            ("[limits]\nmax_connections = 0", "/etc/skjold.toml:2: limits.max_connections: must be at least 1"),
            ("[limits]\nmax_connections_per_address = -1",
             "/etc/skjold.toml:2: limits.max_connections_per_address: must not be negative (got -1)"),
            ("[limits]\nmax_imap_connections = \"many\"",
             #"/etc/skjold.toml:2: limits.max_imap_connections: expected a whole number, found string "many""#),
            ("[limits]\ncommand_timeout_seconds = 100000",
             "/etc/skjold.toml:2: limits.command_timeout_seconds: must be at most 86400 (got 100000)"),
            ("[limits]\nmin_data_rate = 0", "/etc/skjold.toml:2: limits.min_data_rate: must be at least 1"),
            ("[limits]\ntls_handshake_timeout_seconds = 0",
             "/etc/skjold.toml:2: limits.tls_handshake_timeout_seconds: must be at least 1"),
            ("[limits]\nmax_conections = 5", "/etc/skjold.toml:2: limits.max_conections: unknown key (did you mean limits.max_connections?)"),
        ]
        for (toml, expected) in cases {
            do throws(ConfigError) {
                _ = try SkjoldConfig.parse(toml, file: file)
                Issue.record("expected an error for \(toml)")
            } catch {
                #expect(error.description == expected)
            }
        }
    }
}

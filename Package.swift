// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "skjold",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "skjold", targets: ["skjold"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates", exact: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", exact: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio", exact: "1.5.0"),
    ],
    targets: [
        // Pure: TOML reader and the typed configuration (no I/O beyond reading the file).
        .target(name: "SkjoldConfig", swiftSettings: swiftSettings),
        // Pure: SMTP grammar, replies, DATA/BDAT framing, SASL PLAIN/LOGIN decoding.
        .target(name: "SMTPProtocol", swiftSettings: swiftSettings),
        // Domain types and storage protocols; password hashing.
        .target(name: "MailStore", dependencies: [
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ], swiftSettings: swiftSettings),
        // Embedded backend: directory database + one folder/database per account.
        .target(name: "MailStoreSQLite", dependencies: [
            "MailStore",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swiftSettings),
        // Listener service, TLS, STARTTLS, line framing, limits, shared by all servers.
        .target(name: "MailServerCore", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: swiftSettings),
        // SMTP server sessions: MX (inbound for hosted domains) and authenticated submission.
        .target(name: "SMTPServer", dependencies: [
            "SMTPProtocol", "MailStore", "MailServerCore", "SkjoldConfig",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swiftSettings),
        // Pure: IMAP4rev1/rev2 grammar: incremental command parser (literals, APPEND streaming), response encoder.
        .target(name: "IMAPProtocol", swiftSettings: swiftSettings),
        // Pure: RFC 5322/MIME parser over byte ranges; IMAP ENVELOPE/BODYSTRUCTURE, sections, search text.
        .target(name: "MIME", swiftSettings: swiftSettings),
        // Pure: POP3 commands, responses, byte-stuffing (RFC 1939, 2449, 5034).
        .target(name: "POP3Protocol", swiftSettings: swiftSettings),
        // POP3 sessions: the Inbox as maildrop, deletions at QUIT only.
        .target(name: "POP3Server", dependencies: [
            "POP3Protocol", "MailStore", "MailServerCore",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swiftSettings),
        // IMAP4rev2/rev1 sessions: mailboxes, FETCH/STORE/SEARCH/APPEND, IDLE pushed through the change feed.
        .target(name: "IMAPServer", dependencies: [
            "IMAPProtocol", "MIME", "MailStore", "MailServerCore",
            .product(name: "CompressNIO", package: "compress-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swiftSettings),
        // Composition root: configuration, storage, TLS and listeners wired into one ServiceGroup.
        .target(name: "SkjoldServer", dependencies: [
            "SkjoldConfig", "MailStore", "MailStoreSQLite", "MailServerCore", "SMTPServer", "POP3Server", "IMAPServer",
            "Delivery", "DNSClient",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: swiftSettings),
        // Backup, restore, export and erasure tooling over the embedded store (issue 8).
        .target(name: "Admin", dependencies: [
            "MailStore", "MailStoreSQLite",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swiftSettings),
        // Pure: DNS wire format (RFC 1035, 3596, 6698, 6891): message encoder and hostile-input-safe decoder.
        .target(name: "DNSWire", swiftSettings: swiftSettings),
        // Stub resolver for outbound delivery: UDP with TCP fallback, retries, CNAME chains, TTL cache.
        .target(name: "DNSClient", dependencies: [
            "DNSWire",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ], swiftSettings: swiftSettings),
        // Pure: DKIM signing and verification (RFC 6376, RFC 8463); signs relaxed/relaxed, verifies all four c= forms.
        .target(name: "DKIM", dependencies: [
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ], swiftSettings: swiftSettings),
        // Outbound SMTP client: STARTTLS whenever offered, PIPELINING, SIZE, 8BITMIME, SMTPUTF8, DSN, AUTH for a smarthost.
        .target(name: "SMTPClient", dependencies: [
            "SMTPProtocol", "MailServerCore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ], swiftSettings: swiftSettings),
        // Outbound delivery: queue runner, routing (relay, routes, MX), DKIM signing, delivery status notifications.
        .target(name: "Delivery", dependencies: [
            "MailStore", "SkjoldConfig", "DNSClient", "SMTPClient", "DKIM", "MIME",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: swiftSettings),
        // Benchmark: durable deliveries per second into the SQLite store (release build; not a test).
        .executableTarget(name: "StoreBench", dependencies: ["MailStore", "MailStoreSQLite"], path: "Benchmarks/StoreBench",
                          swiftSettings: swiftSettings),
        // Test support only: a blocking loopback protocol client and helpers to run real clients (python3, swaks).
        .target(name: "MailTesting", swiftSettings: swiftSettings),
        .executableTarget(name: "skjold", dependencies: [
            "SkjoldConfig", "MailStore", "MailStoreSQLite", "SkjoldServer", "Admin", "Delivery",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: swiftSettings),

        .testTarget(name: "SkjoldConfigTests", dependencies: ["SkjoldConfig"], swiftSettings: swiftSettings),
        .testTarget(name: "SMTPProtocolTests", dependencies: ["SMTPProtocol"], swiftSettings: swiftSettings),
        .testTarget(name: "MailStoreTests", dependencies: ["MailStore", "MailStoreSQLite"], swiftSettings: swiftSettings),
        .testTarget(name: "MailServerCoreTests", dependencies: [
            "MailServerCore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: swiftSettings),
        .testTarget(name: "IMAPProtocolTests", dependencies: ["IMAPProtocol"], swiftSettings: swiftSettings),
        .testTarget(name: "MIMETests", dependencies: ["MIME"], swiftSettings: swiftSettings),
        .testTarget(name: "POP3ProtocolTests", dependencies: ["POP3Protocol"], swiftSettings: swiftSettings),
        .testTarget(name: "POP3ServerTests", dependencies: [
            "POP3Server", "POP3Protocol", "MailStore", "MailStoreSQLite", "MailServerCore", "MailTesting",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swiftSettings),
        .testTarget(name: "SMTPServerTests", dependencies: [
            "SMTPServer", "SMTPProtocol", "MailStore", "MailStoreSQLite", "MailServerCore", "SkjoldConfig", "MailTesting",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swiftSettings),
        .testTarget(name: "IMAPServerTests", dependencies: [
            "IMAPServer", "IMAPProtocol", "MIME", "MailStore", "MailStoreSQLite", "MailServerCore", "MailTesting",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swiftSettings),
        .testTarget(name: "DNSClientTests", dependencies: [
            "DNSWire", "DNSClient",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ], swiftSettings: swiftSettings),
        .testTarget(name: "DKIMTests", dependencies: [
            "DKIM",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ], swiftSettings: swiftSettings),
        .testTarget(name: "SMTPClientTests", dependencies: [
            "SMTPClient", "SMTPProtocol", "MailServerCore", "MailTesting",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ], swiftSettings: swiftSettings),
        .testTarget(name: "DeliveryTests", dependencies: [
            "Delivery", "DNSClient", "MailStore", "SkjoldConfig",
        ], swiftSettings: swiftSettings),
        // Runs the built `skjold` binary: serve --dev, the admin CLI against a running server, real clients.
        // Also the admin tooling (backup/restore, export, erasure) through the binary and the Admin library.
        .testTarget(name: "SkjoldEndToEndTests", dependencies: [
            "skjold", "Admin", "MailStore", "MailStoreSQLite",
            .product(name: "GRDB", package: "GRDB.swift"),
        ], swiftSettings: swiftSettings),
    ]
)

// libFuzzer targets, one per parser (Fuzz/, run by scripts/fuzz.sh). Declared only when SKJOLD_FUZZ=1, so
// `swift build` and `swift test` never build them: they link only with -sanitize=fuzzer.
if Context.environment["SKJOLD_FUZZ"] == "1" {
    let fuzzers: [(name: String, parser: Target.Dependency)] = [
        ("FuzzSMTPCommand", "SMTPProtocol"),
        ("FuzzIMAPCommand", "IMAPProtocol"),
        ("FuzzPOP3Command", "POP3Protocol"),
        ("FuzzMIMEMessage", "MIME"),
        ("FuzzConfig", "SkjoldConfig"),
        ("FuzzDNSMessage", "DNSWire"),
    ]
    package.targets += [
        // Declares libFuzzer's LLVMFuzzerRunDriver: SwiftPM renames an executable's `main`, so each fuzz
        // executable starts the driver itself instead of linking libFuzzer's `main`.
        .target(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"], path: "Fuzz/FuzzSupport",
                swiftSettings: swiftSettings),
    ] + fuzzers.map { fuzzer in
        .executableTarget(name: fuzzer.name, dependencies: ["FuzzSupport", fuzzer.parser],
                          path: "Fuzz/\(fuzzer.name)", swiftSettings: swiftSettings)
    }
}

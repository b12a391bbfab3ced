import Testing
import SkjoldConfig
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The example from the configuration contract, every key set.
let contractExample = """
    hostname = "mail.example.test"   # greetings, Received headers, certificate name
    data_dir = "/var/lib/skjold"
    user = "skjold"
    [listen]
    smtp = "0.0.0.0:25"
    submission = "0.0.0.0:587"
    submissions = "0.0.0.0:465"
    imap = "0.0.0.0:143"
    imaps = "0.0.0.0:993"
    pop3 = "0.0.0.0:110"
    pop3s = "0.0.0.0:995"
    https = "0.0.0.0:443"
    http = "0.0.0.0:80"
    [tls]
    cert = "/etc/skjold/fullchain.pem"
    key = "/etc/skjold/key.pem"
    [storage]
    backend = "sqlite"
    nobackup_dir = "/mnt/nobackup"
    [limits]
    max_message_size = "140MiB"
    [privacy]
    log_ip_addresses = false
    log_envelopes = false
    [plans.standard]
    storage = "10GB"
    bandwidth_per_week = "10GB"
    outgoing_per_day = 500
    aliases = 100
    max_message_size = "140MiB"
    """

private let file = "/etc/skjold.toml"

/// The one-line description of the error `text` produces.
private func errorLine(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
    configError(text, sourceLocation: sourceLocation)?.description ?? "(no error)"
}

private func configError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> ConfigError? {
    do {
        _ = try SkjoldConfig.parse(text, file: file)
        Issue.record("expected an error", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

@Suite("SkjoldConfig")
struct SkjoldConfigTests {
    // MARK: Defaults

    @Test func builtInDefault() {
        let config = SkjoldConfig.builtInDefault
        #expect(config.dataDir == "/var/lib/skjold")
        #expect(config.nobackupDir == "/var/lib/skjold/nobackup")
        #expect(!config.hostname.isEmpty)
        #expect(config.user == nil)
        let expected = [("smtp", 25), ("submission", 587), ("submissions", 465), ("imap", 143), ("imaps", 993),
                        ("pop3", 110), ("pop3s", 995), ("https", 443), ("http", 80)]
        #expect(config.listen.all.map(\.name) == expected.map(\.0))
        #expect(config.listen.all.map(\.address.port) == expected.map(\.1))
        #expect(config.listen.all.allSatisfy { $0.address.host == "0.0.0.0" })
        #expect(config.tls == TLSFiles(cert: nil, key: nil))
        #expect(config.storage.backend == .sqlite)
        #expect(config.limits.maxMessageSize == 140 * 1024 * 1024)
        #expect(config.privacy == PrivacyConfig(logIPAddresses: false, logEnvelopes: false))
        #expect(config.plans["standard"] == Plan(name: "standard", storage: 10_000_000_000,
                                                 bandwidthPerWeek: 10_000_000_000, outgoingPerDay: 500,
                                                 aliases: 100, maxMessageSize: 140 << 20))
        #expect(config.plans["max"] == Plan(name: "max", storage: 100_000_000_000, bandwidthPerWeek: 100_000_000_000,
                                            outgoingPerDay: 2000, aliases: 500, maxMessageSize: 140 << 20))
        #expect(config.plans.count == 2)
        #expect(throws: Never.self) { try config.validate() }
    }

    @Test func builtInHostnameIsTheSystemName() {
        var buffer = [CChar](repeating: 0, count: 256)
        let name = gethostname(&buffer, 255) == 0
            ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        let hostname = SkjoldConfig.builtInDefault.hostname
        #expect(hostname == name || hostname == "localhost")
        #expect((try? SkjoldConfig.builtInDefault.validate()) != nil)
    }

    @Test func devConfiguration() {
        let config = SkjoldConfig.dev(dataDir: "/tmp/skjold-dev")
        #expect(config.hostname == "localhost")
        #expect(config.dataDir == "/tmp/skjold-dev")
        #expect(config.nobackupDir == "/tmp/skjold-dev/nobackup")
        let ports = Dictionary(uniqueKeysWithValues: config.listen.all.map { ($0.name, $0.address.port) })
        #expect(ports == ["smtp": 2525, "submission": 2587, "submissions": 2465, "imap": 2143, "imaps": 2993,
                          "pop3": 2110, "pop3s": 2995, "https": 8443, "http": 8080])
        #expect(config.listen.all.allSatisfy { $0.address.host == "127.0.0.1" })
        #expect(config.listen.all.count == 9)
        #expect(config.plans == Plan.builtIn)
    }

    @Test func emptyFileTurnsListenersOffAndKeepsDefaults() throws {
        let config = try SkjoldConfig.parse("", file: file)
        #expect(config.listen.all.isEmpty)
        #expect(config.listen == ListenConfig())
        #expect(config.dataDir == "/var/lib/skjold")
        #expect(config.hostname == SkjoldConfig.builtInDefault.hostname)
        #expect(config.plans == Plan.builtIn)
        #expect(config.limits == LimitsConfig())
    }

    // MARK: Contract keys

    @Test func everyContractKey() throws {
        let config = try SkjoldConfig.parse(contractExample, file: file)
        #expect(config.hostname == "mail.example.test")
        #expect(config.dataDir == "/var/lib/skjold")
        #expect(config.user == "skjold")
        #expect(config.listen.smtp == ListenAddress(host: "0.0.0.0", port: 25))
        #expect(config.listen.submission?.port == 587)
        #expect(config.listen.submissions?.port == 465)
        #expect(config.listen.imap?.port == 143)
        #expect(config.listen.imaps?.port == 993)
        #expect(config.listen.pop3?.port == 110)
        #expect(config.listen.pop3s?.port == 995)
        #expect(config.listen.https?.port == 443)
        #expect(config.listen.http?.port == 80)
        #expect(config.listen.all.count == 9)
        #expect(config.tls.cert == "/etc/skjold/fullchain.pem")
        #expect(config.tls.key == "/etc/skjold/key.pem")
        #expect(config.storage.backend == .sqlite)
        #expect(config.storage.nobackupDir == "/mnt/nobackup")
        #expect(config.nobackupDir == "/mnt/nobackup")
        #expect(config.limits.maxMessageSize == 146_800_640)
        #expect(config.privacy.logIPAddresses == false)
        #expect(config.privacy.logEnvelopes == false)
        #expect(config.plans["standard"] == Plan.standard)
        #expect(config.plans["max"] == Plan.max)
        #expect(config.listen.smtp?.description == "0.0.0.0:25")
    }

    @Test func otherValuesOfContractKeys() throws {
        let config = try SkjoldConfig.parse("""
            hostname = "mx1.example.org"
            data_dir = "/srv/mail"
            [listen]
            imaps = "[::]:993"
            submissions = "localhost:0"
            [storage]
            backend = "postgres"
            [limits]
            max_message_size = 10485760
            [privacy]
            log_ip_addresses = true
            log_envelopes = true
            """, file: file)
        #expect(config.hostname == "mx1.example.org")
        #expect(config.user == nil)
        #expect(config.listen.all.map(\.name) == ["submissions", "imaps"])
        #expect(config.listen.imaps == ListenAddress(host: "::", port: 993))
        #expect(config.listen.submissions?.port == 0)
        #expect(config.storage.backend == .postgres)
        #expect(config.nobackupDir == "/srv/mail/nobackup")
        #expect(config.limits.maxMessageSize == 10 << 20)
        #expect(config.privacy == PrivacyConfig(logIPAddresses: true, logEnvelopes: true))
        #expect(config.tls == TLSFiles())
    }

    @Test func plansOverrideAndExtend() throws {
        let config = try SkjoldConfig.parse("""
            [plans.custom]
            storage = "1GB"
            [plans.standard]
            aliases = 5
            [plans.max]
            storage = "1TB"
            [plans."family plan"]
            outgoing_per_day = 0
            storage = 0
            """, file: file)
        // `standard` is read first, so new plans start from the configured standard plan.
        #expect(config.plans["standard"]?.aliases == 5)
        #expect(config.plans["standard"]?.storage == 10_000_000_000)
        #expect(config.plans["custom"] == Plan(name: "custom", storage: 1_000_000_000, bandwidthPerWeek: 10_000_000_000,
                                               outgoingPerDay: 500, aliases: 5, maxMessageSize: 140 << 20))
        // An existing plan keeps its own values for keys the file leaves out.
        #expect(config.plans["max"] == Plan(name: "max", storage: 1_000_000_000_000, bandwidthPerWeek: 100_000_000_000,
                                            outgoingPerDay: 2000, aliases: 500, maxMessageSize: 140 << 20))
        #expect(config.plans["family plan"]?.outgoingPerDay == 0)
        #expect(config.plans["family plan"]?.storage == 0)
        #expect(config.plans.count == 4)
    }

    @Test func inlineAndDottedFormsAreEquivalent() throws {
        let a = try SkjoldConfig.parse("""
            listen = { smtp = "127.0.0.1:25" }
            plans.gold = { storage = "50GB" }
            privacy.log_envelopes = true
            """, file: file)
        let b = try SkjoldConfig.parse("""
            [listen]
            smtp = "127.0.0.1:25"
            [plans.gold]
            storage = "50GB"
            [privacy]
            log_envelopes = true
            """, file: file)
        #expect(a == b)
        #expect(a.plans["gold"]?.storage == 50_000_000_000)
    }

    @Test func listenerCanBeTurnedOffExplicitly() throws {
        let config = try SkjoldConfig.parse("[listen]\nsmtp = false\nimap = \"\"\npop3 = \"[::1]:110\"", file: file)
        #expect(config.listen.all.map(\.name) == ["pop3"])
    }

    @Test func emptyUserAndPathsMeanUnset() throws {
        let config = try SkjoldConfig.parse("user = \"\"\n[storage]\nnobackup_dir = \"\"", file: file)
        #expect(config.user == nil)
        #expect(config.storage.nobackupDir == nil)
    }

    // MARK: Errors

    @Test func errorsNameFileLineAndKey() {
        let cases: [(String, String)] = [
            ("[listen]\nsmtp = \"0.0.0.0\"",
             #"/etc/skjold.toml:2: listen.smtp: invalid address "0.0.0.0" (expected host:port)"#),
            ("[listen]\nimap = \"0.0.0.0:70000\"",
             #"/etc/skjold.toml:2: listen.imap: invalid address "0.0.0.0:70000" (port must be a number from 0 to 65535)"#),
            ("[listen]\nimap = 143",
             #"/etc/skjold.toml:2: listen.imap: expected "host:port" (or false to turn it off), found integer 143"#),
            ("[listen]\nsmpt = \"0.0.0.0:25\"",
             #"/etc/skjold.toml:2: listen.smpt: unknown key (did you mean listen.smtp?)"#),
            ("\n\n\n\n\n\n[limits]\nmax_message_size = \"lots\"",
             #"/etc/skjold.toml:8: limits.max_message_size: invalid size "lots" (expected e.g. "140MiB", "10GB" or a number of bytes)"#),
            ("[limits]\nmax_message_size = -5",
             "/etc/skjold.toml:2: limits.max_message_size: must not be negative (got -5)"),
            ("[limits]\nmax_message_size = \"-5MB\"",
             #"/etc/skjold.toml:2: limits.max_message_size: must not be negative (got "-5MB")"#),
            ("[limits]\nmax_message_size = 0",
             "/etc/skjold.toml:2: limits.max_message_size: must be greater than zero"),
            ("[limits]\nmax_message_size = 1.5",
             #"/etc/skjold.toml:2: limits.max_message_size: expected a size such as "10GB" or a whole number of bytes, found float 1.5"#),
            ("[limits]\nmax_size = 5",
             "/etc/skjold.toml:2: limits.max_size: unknown key"),
            ("[privacy]\nlog_ip_addresses = \"yes\"",
             #"/etc/skjold.toml:2: privacy.log_ip_addresses: expected true or false, found string "yes""#),
            ("[privacy]\nlog_envelope = true",
             "/etc/skjold.toml:2: privacy.log_envelope: unknown key (did you mean privacy.log_envelopes?)"),
            ("[storage]\nbackend = \"mysql\"",
             #"/etc/skjold.toml:2: storage.backend: unknown backend "mysql" (expected "sqlite" or "postgres")"#),
            ("[storage]\nbackend = 1",
             "/etc/skjold.toml:2: storage.backend: expected a string, found integer 1"),
            ("[tls]\ncert = \"/etc/c.pem\"",
             "/etc/skjold.toml:1: tls.key: missing: tls.cert is set, so tls.key must be too (or remove both to use a generated self-signed certificate)"),
            ("[tls]\n\nkey = \"/etc/k.pem\"",
             "/etc/skjold.toml:1: tls.cert: missing: tls.key is set, so tls.cert must be too (or remove both to use a generated self-signed certificate)"),
            ("[tls]\ncertificate = \"x\"",
             "/etc/skjold.toml:2: tls.certificate: unknown key"),
            ("hostname = \"\"", "/etc/skjold.toml:1: hostname: must not be empty"),
            ("hostname = \"mail example\"",
             #"/etc/skjold.toml:1: hostname: invalid host name "mail example" (letters, digits, hyphens and dots only)"#),
            ("hostname = \"mail.example.test\\r\\nX-Injected: 1\"",
             #"/etc/skjold.toml:1: hostname: invalid host name "mail.example.test\r\nX-Injected: 1" (letters, digits, hyphens and dots only)"#),
            ("hostname = 5", "/etc/skjold.toml:1: hostname: expected a string, found integer 5"),
            ("data_dir = \"\"", "/etc/skjold.toml:1: data_dir: must not be empty"),
            ("user = \"-root\"", #"/etc/skjold.toml:1: user: invalid user name "-root""#),
            ("hostnme = \"x\"", "/etc/skjold.toml:1: hostnme: unknown key (did you mean hostname?)"),
            ("[mail]\nx = 1", "/etc/skjold.toml:1: mail: unknown section"),
            ("[listener]\nsmtp = \"0.0.0.0:25\"", "/etc/skjold.toml:1: listener: unknown section (did you mean listen?)"),
            ("listen = \"0.0.0.0:25\"",
             #"/etc/skjold.toml:1: listen: expected a table ([listen] section), found string "0.0.0.0:25""#),
            ("[plans.standard]\nstorage = \"10 parsecs\"",
             #"/etc/skjold.toml:2: plans.standard.storage: invalid size "10 parsecs" (expected e.g. "140MiB", "10GB" or a number of bytes)"#),
            ("[plans.gold]\noutgoing_per_day = -1",
             "/etc/skjold.toml:2: plans.gold.outgoing_per_day: must not be negative (got -1)"),
            ("[plans.gold]\naliases = \"100\"",
             #"/etc/skjold.toml:2: plans.gold.aliases: expected a whole number, found string "100""#),
            ("[plans.gold]\nbandwidth = \"1GB\"",
             "/etc/skjold.toml:2: plans.gold.bandwidth: unknown key"),
            ("[plans.\"my plan\"]\nstorage = -1",
             #"/etc/skjold.toml:2: plans."my plan".storage: must not be negative (got -1)"#),
            ("[plans]\ngold = 5", "/etc/skjold.toml:2: plans.gold: expected a table ([plans.gold] section), found integer 5"),
            ("[listen]\nsmtp = \"0.0.0.0:25\"\nsubmission = \"0.0.0.0:25\"",
             "/etc/skjold.toml:3: listen.submission: address 0.0.0.0:25 is also used by listen.smtp"),
        ]
        for (text, expected) in cases {
            #expect(errorLine(text) == expected)
        }
    }

    @Test func errorFields() throws {
        let error = try #require(configError("\n[limits]\nmax_message_size = \"big\""))
        #expect(error.file == file)
        #expect(error.key == "limits.max_message_size")
        #expect(error.line == 3)
        #expect(error.column == nil)
    }

    @Test func syntaxErrorsNameLineAndKey() throws {
        #expect(errorLine("a = 1\n\n[listen]\nsmtp = \"0.0.0.0:25") ==
            #"/etc/skjold.toml:4: listen.smtp: syntax error: unterminated string (column 8)"#)
        #expect(errorLine("\"unterminated") ==
            #"/etc/skjold.toml:1: syntax error: unterminated string (column 1)"#)
        #expect(errorLine("[listen]\nsmtp = \"a\"\nsmtp = \"b\"") ==
            "/etc/skjold.toml:3: listen.smtp: syntax error: duplicate key (first defined on line 2) (column 1)")
        #expect(errorLine("[listen\nsmtp = 1") ==
            "/etc/skjold.toml:1: listen: syntax error: expected ']' after table name, found end of line (column 8)")
        let error = try #require(configError("x = 1\n[t]\ny = 0x"))
        #expect(error.line == 3 && error.column == 5 && error.key == "t.y")
    }

    @Test func invalidUTF8File() throws {
        do {
            _ = try SkjoldConfig.parse(bytes: Array("hostname = \"a\"\n# caf".utf8) + [0xE9, 0x0A], file: file)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "/etc/skjold.toml:2: syntax error: invalid UTF-8 (byte 0xE9) (column 6)")
        }
    }

    @Test func descriptionIsOneLine() {
        let error = ConfigError(file: "f\nile", key: "k", line: 3, message: "a\nb")
        #expect(!error.description.contains("\n"))
        #expect(errorLine("hostname = \"\"\"\nx\ny\"\"\"").split(separator: "\n").count == 1)
    }

    // MARK: Files

    @Test func loadReadsAFile() throws {
        let path = try temporaryFile(contents: contractExample)
        defer { unlink(path) }
        let config = try SkjoldConfig.load(file: path)
        #expect(config == (try SkjoldConfig.parse(contractExample, file: path)))
    }

    @Test func loadReportsUnreadableFiles() throws {
        #expect(throws: ConfigError(file: "/nonexistent/skjold.toml", message: "cannot read file: No such file or directory")) {
            try SkjoldConfig.load(file: "/nonexistent/skjold.toml")
        }
        do {
            _ = try SkjoldConfig.load(file: "/")
            Issue.record("reading a directory should fail")
        } catch {
            #expect(error.description.hasPrefix("/: cannot read file: "))
        }
    }

    @Test func loadRefusesHugeFiles() throws {
        let path = try temporaryFile(contents: String(repeating: "#", count: (1 << 20) + 10))
        defer { unlink(path) }
        #expect(throws: ConfigError(file: path, message: "cannot read file: larger than 1 MiB")) {
            try SkjoldConfig.load(file: path)
        }
    }

    @Test func loadNamesTheFileInErrors() throws {
        let path = try temporaryFile(contents: "[listen]\nsmtp = \"nowhere\"\n")
        defer { unlink(path) }
        #expect(throws: ConfigError(file: path, key: "listen.smtp", line: 2,
                                    message: #"invalid address "nowhere" (expected host:port)"#)) {
            try SkjoldConfig.load(file: path)
        }
    }

    // MARK: Overrides

    @Test func overridesFromTheContract() throws {
        var config = SkjoldConfig.builtInDefault
        try config.apply(override: "listen.smtp=127.0.0.1:2525")
        try config.apply(override: "limits.max_message_size=10MiB")
        try config.apply(override: "privacy.log_ip_addresses=true")
        #expect(config.listen.smtp == ListenAddress(host: "127.0.0.1", port: 2525))
        #expect(config.listen.imap?.port == 143)
        #expect(config.limits.maxMessageSize == 10 << 20)
        #expect(config.privacy.logIPAddresses)
        #expect(!config.privacy.logEnvelopes)
    }

    @Test func overrideValueForms() throws {
        var config = SkjoldConfig.dev(dataDir: "/tmp/d")
        try config.apply(override: "hostname = mail.example.test")
        try config.apply(override: "data_dir=\"/srv/skjold data\"")
        try config.apply(override: "listen.imap=")
        try config.apply(override: "listen.pop3=false")
        try config.apply(override: "listen.https=[::1]:0")
        try config.apply(override: "limits.max_message_size=1048576")
        try config.apply(override: "limits.max_message_size = 2 MiB")
        try config.apply(override: "plans.standard.outgoing_per_day=50")
        try config.apply(override: "plans.\"big one\".storage=2TB")
        try config.apply(override: "storage.backend=postgres")
        try config.apply(override: "user=1000")
        try config.apply(override: "listen={smtp=\"127.0.0.1:25\"}")
        #expect(config.hostname == "mail.example.test")
        #expect(config.dataDir == "/srv/skjold data")
        #expect(config.listen.imap == nil)
        #expect(config.listen.pop3 == nil)
        #expect(config.listen.https == ListenAddress(host: "::1", port: 0))
        #expect(config.limits.maxMessageSize == 2 << 20)
        #expect(config.plans["standard"]?.outgoingPerDay == 50)
        #expect(config.plans["big one"]?.storage == 2_000_000_000_000)
        #expect(config.plans["big one"]?.outgoingPerDay == 50)
        #expect(config.storage.backend == .postgres)
        #expect(config.user == "1000")
        #expect(config.listen.smtp?.port == 25)
        #expect(config.listen.submission?.port == 2587)
    }

    @Test func overrideErrors() {
        let cases: [(String, ConfigError)] = [
            ("listen.smtp", ConfigError(file: "command line", key: "listen.smtp", message: "expected key=value")),
            ("listen.smtp=nowhere", ConfigError(file: "command line", key: "listen.smtp",
                                                message: #"invalid address "nowhere" (expected host:port)"#)),
            ("listen.smpt=127.0.0.1:25", ConfigError(file: "command line", key: "listen.smpt",
                                                     message: "unknown key (did you mean listen.smtp?)")),
            ("privacy.log_ip_addresses=yes", ConfigError(file: "command line", key: "privacy.log_ip_addresses",
                                                         message: #"expected true or false, found string "yes""#)),
            ("limits.max_message_size=-1", ConfigError(file: "command line", key: "limits.max_message_size",
                                                       message: "must not be negative (got -1)")),
            ("a..b=1", ConfigError(file: "command line", key: "a..b",
                                   message: "invalid key: expected a key, found '.'")),
            ("=1", ConfigError(file: "command line", key: "",
                               message: "invalid key: expected a key, found end of input")),
            ("hostname=", ConfigError(file: "command line", key: "hostname", message: "must not be empty")),
        ]
        for (text, expected) in cases {
            var config = SkjoldConfig.builtInDefault
            let before = config
            #expect(throws: expected) { try config.apply(override: text) }
            #expect(config == before, "a failed override leaves the configuration unchanged")
        }
        let error = ConfigError(file: "command line", key: "listen.smtp", message: #"invalid address "x" (expected host:port)"#)
        #expect(error.description == #"command line: listen.smtp: invalid address "x" (expected host:port)"#)
    }

    @Test func overridesAreValidatedTogether() throws {
        var config = SkjoldConfig.builtInDefault
        try config.apply(overrides: ["tls.cert=/etc/c.pem", "tls.key=/etc/k.pem"])
        #expect(config.tls == TLSFiles(cert: "/etc/c.pem", key: "/etc/k.pem"))

        var half = SkjoldConfig.builtInDefault
        #expect(throws: ConfigError.self) { try half.apply(overrides: ["tls.cert=/etc/c.pem"]) }
        #expect(half.tls == TLSFiles())

        var clash = SkjoldConfig.builtInDefault
        #expect(throws: ConfigError(file: "command line", key: "listen.imap",
                                    message: "address 0.0.0.0:25 is also used by listen.smtp")) {
            try clash.apply(overrides: ["listen.imap=0.0.0.0:25"])
        }
    }

    @Test func listenAllIsInContractOrder() {
        var listen = ListenConfig()
        listen.http = ListenAddress(host: "::1", port: 80)
        listen.smtp = ListenAddress(host: "::1", port: 25)
        listen.imaps = ListenAddress(host: "::1", port: 993)
        #expect(listen.all.map(\.name) == ["smtp", "imaps", "http"])
        #expect(listen.all.map(\.address.description) == ["[::1]:25", "[::1]:993", "[::1]:80"])
    }
}

/// Writes `contents` to a new file under /tmp and returns its path.
func temporaryFile(contents: String) throws -> String {
    var template = Array("/tmp/skjold-config-test-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else { throw TemporaryFileError() }
    let bytes = Array(contents.utf8)
    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    guard written == bytes.count else { throw TemporaryFileError() }
    return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

struct TemporaryFileError: Error {}

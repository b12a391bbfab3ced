/// Turns a TOML table into configuration, merging it over an existing configuration: keys present
/// replace values, keys absent keep them. Used for files and for overrides alike, so both accept
/// exactly the same keys and values.
struct ConfigDecoder {
    /// File name, or "command line" for overrides.
    let source: String
    /// Whether positions mean anything (they do not for overrides).
    let reportLines: Bool
    /// For overrides: the key path and the text after `=`, used as-is when that key expects a string
    /// but the text happened to parse as another TOML type (`hostname=1234`).
    let rawOverride: (path: [String], text: String)?
    /// Line of each key seen, by formatted key path, for checks that span keys.
    private(set) var lines: [String: Int] = [:]

    static let rootKeys = ["hostname", "data_dir", "user", "listen", "tls", "storage", "limits", "privacy", "delivery", "plans"]
    static let tlsKeys = ["cert", "key"]
    static let storageKeys = ["backend", "nobackup_dir"]
    static let limitsKeys = ["max_message_size", "burst_recipients", "burst_minutes", "max_connections",
                             "max_connections_per_address", "max_imap_connections", "max_imap_connections_per_address",
                             "command_timeout_seconds", "min_data_rate", "tls_handshake_timeout_seconds"]
    static let privacyKeys = ["log_ip_addresses", "log_envelopes"]
    static let planKeys = ["storage", "bandwidth_per_week", "outgoing_per_day", "aliases", "max_message_size"]

    init(source: String, reportLines: Bool, rawOverride: (path: [String], text: String)? = nil) {
        self.source = source
        self.reportLines = reportLines
        self.rawOverride = rawOverride
    }

    // MARK: Sections

    mutating func apply(_ root: TOMLTable, to config: inout SkjoldConfig) throws(ConfigError) {
        for (key, entry) in root {
            let path = [key]
            note(path, entry)
            switch key {
            case "hostname":
                let name = try string(entry, path)
                guard !name.isEmpty else { throw error(path, entry, "must not be empty") }
                guard HostnameRules.isValid(name) else {
                    throw error(path, entry, "invalid host name \(TOMLKey.quoted(name)) (letters, digits, hyphens and dots only)")
                }
                config.hostname = name
            case "data_dir":
                config.dataDir = try directory(entry, path)
            case "user":
                let name = try string(entry, path)
                guard name.isEmpty || Self.isValidUserName(name) else {
                    throw error(path, entry, "invalid user name \(TOMLKey.quoted(name))")
                }
                config.user = name.isEmpty ? nil : name
            case "listen":
                try applyListen(table(entry, path), path, to: &config.listen)
            case "tls":
                try applyTLS(table(entry, path), path, to: &config.tls)
            case "storage":
                try applyStorage(table(entry, path), path, to: &config.storage)
            case "limits":
                try applyLimits(table(entry, path), path, to: &config.limits)
            case "privacy":
                try applyPrivacy(table(entry, path), path, to: &config.privacy)
            case "delivery":
                try applyDelivery(table(entry, path), path, to: &config.delivery)
            case "plans":
                try applyPlans(table(entry, path), path, to: &config.plans)
            default:
                throw unknown(path, entry, known: Self.rootKeys)
            }
        }
    }

    /// `[listen]`: `name = "host:port"`; an empty string or `false` turns a listener off.
    mutating func applyListen(_ table: TOMLTable, _ base: [String], to listen: inout ListenConfig) throws(ConfigError) {
        for (key, entry) in table {
            let path = base + [key]
            note(path, entry)
            guard ListenConfig.names.contains(key) else { throw unknown(path, entry, known: ListenConfig.names) }
            switch entry.value {
            case .boolean(false):
                listen[key] = nil
            case .string(let text) where text.isEmpty:
                listen[key] = nil
            case .string(let text):
                do throws(ListenAddress.ParseError) {
                    listen[key] = try ListenAddress(parsing: text)
                } catch {
                    throw self.error(path, entry, error.description)
                }
            default:
                if let raw = raw(for: path), let address = try? ListenAddress(parsing: raw) {
                    listen[key] = address
                } else {
                    throw error(path, entry, "expected \"host:port\" (or false to turn it off), found \(Self.describe(entry.value))")
                }
            }
        }
    }

    mutating func applyTLS(_ table: TOMLTable, _ base: [String], to tls: inout TLSFiles) throws(ConfigError) {
        for (key, entry) in table {
            let path = base + [key]
            note(path, entry)
            switch key {
            case "cert": tls.cert = try optionalPath(entry, path)
            case "key": tls.key = try optionalPath(entry, path)
            default: throw unknown(path, entry, known: Self.tlsKeys)
            }
        }
    }

    mutating func applyStorage(_ table: TOMLTable, _ base: [String], to storage: inout StorageConfig) throws(ConfigError) {
        for (key, entry) in table {
            let path = base + [key]
            note(path, entry)
            switch key {
            case "backend":
                let name = try string(entry, path)
                guard let backend = StorageBackend(rawValue: name) else {
                    let choices = StorageBackend.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
                    throw error(path, entry, "unknown backend \(TOMLKey.quoted(name)) (expected \(choices))")
                }
                storage.backend = backend
            case "nobackup_dir":
                storage.nobackupDir = try optionalPath(entry, path)
            default:
                throw unknown(path, entry, known: Self.storageKeys)
            }
        }
    }

    mutating func applyLimits(_ table: TOMLTable, _ base: [String], to limits: inout LimitsConfig) throws(ConfigError) {
        for (key, entry) in table {
            let path = base + [key]
            note(path, entry)
            switch key {
            case "max_message_size": limits.maxMessageSize = try messageSize(entry, path)
            case "burst_recipients": limits.burstRecipients = try count(entry, path)
            case "burst_minutes": limits.burstMinutes = max(1, try count(entry, path))
            case "max_connections": limits.maxConnections = try positive(entry, path)
            case "max_connections_per_address": limits.maxConnectionsPerAddress = try positive(entry, path)
            case "max_imap_connections": limits.maxIMAPConnections = try positive(entry, path)
            case "max_imap_connections_per_address": limits.maxIMAPConnectionsPerAddress = try positive(entry, path)
            case "command_timeout_seconds": limits.commandTimeoutSeconds = try positive(entry, path, atMost: 86_400)
            case "min_data_rate": limits.minDataRate = try positive(entry, path)
            case "tls_handshake_timeout_seconds": limits.tlsHandshakeTimeoutSeconds = try positive(entry, path, atMost: 3600)
            default: throw unknown(path, entry, known: Self.limitsKeys)
            }
        }
    }

    mutating func applyPrivacy(_ table: TOMLTable, _ base: [String], to privacy: inout PrivacyConfig) throws(ConfigError) {
        for (key, entry) in table {
            let path = base + [key]
            note(path, entry)
            switch key {
            case "log_ip_addresses": privacy.logIPAddresses = try boolean(entry, path)
            case "log_envelopes": privacy.logEnvelopes = try boolean(entry, path)
            default: throw unknown(path, entry, known: Self.privacyKeys)
            }
        }
    }

    /// `[plans.<name>]`: a plan already known is updated; a new plan starts from the standard plan
    /// (as configured, which is why `standard` is read first).
    mutating func applyPlans(_ table: TOMLTable, _ base: [String], to plans: inout [String: Plan]) throws(ConfigError) {
        var names = table.keys
        if let index = names.firstIndex(of: "standard") {
            names.remove(at: index)
            names.insert("standard", at: 0)
        }
        for name in names {
            guard let entry = table.entry(name) else { continue }
            let planPath = base + [name]
            note(planPath, entry)
            let planTable = try self.table(entry, planPath)
            guard !name.isEmpty, !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw error(planPath, entry, "invalid plan name")
            }
            var plan = plans[name] ?? plans["standard"] ?? Plan.standard
            plan.name = name
            for (key, field) in planTable {
                let path = planPath + [key]
                note(path, field)
                switch key {
                case "storage": plan.storage = try size(field, path)
                case "bandwidth_per_week": plan.bandwidthPerWeek = try size(field, path)
                case "outgoing_per_day": plan.outgoingPerDay = try count(field, path)
                case "aliases": plan.aliases = try count(field, path)
                case "max_message_size": plan.maxMessageSize = try messageSize(field, path)
                default: throw unknown(path, field, known: Self.planKeys)
                }
            }
            plans[name] = plan
        }
    }

    // MARK: Values

    func table(_ entry: TOMLTable.Entry, _ path: [String]) throws(ConfigError) -> TOMLTable {
        guard case .table(let table) = entry.value else {
            throw error(path, entry, "expected a table ([\(TOMLKey.format(path))] section), found \(Self.describe(entry.value))")
        }
        return table
    }

    func string(_ entry: TOMLTable.Entry, _ path: [String]) throws(ConfigError) -> String {
        if case .string(let s) = entry.value { return s }
        if let raw = raw(for: path) { return raw }
        throw error(path, entry, "expected a string, found \(Self.describe(entry.value))")
    }

    func directory(_ entry: TOMLTable.Entry, _ path: [String]) throws(ConfigError) -> String {
        let s = try string(entry, path)
        guard !s.isEmpty else { throw error(path, entry, "must not be empty") }
        guard !s.utf8.contains(0) else { throw error(path, entry, "must not contain NUL") }
        return s
    }

    /// A path where an empty string means "not set".
    func optionalPath(_ entry: TOMLTable.Entry, _ path: [String]) throws(ConfigError) -> String? {
        let s = try string(entry, path)
        return s.isEmpty ? nil : try directory(entry, path)
    }

    func boolean(_ entry: TOMLTable.Entry, _ path: [String]) throws(ConfigError) -> Bool {
        guard case .boolean(let b) = entry.value else {
            throw error(path, entry, "expected true or false, found \(Self.describe(entry.value))")
        }
        return b
    }

    /// A non-negative whole number.
    func count(_ entry: TOMLTable.Entry, _ path: [String]) throws(ConfigError) -> Int {
        guard case .integer(let n) = entry.value else {
            throw error(path, entry, "expected a whole number, found \(Self.describe(entry.value))")
        }
        guard n >= 0 else { throw error(path, entry, "must not be negative (got \(n))") }
        guard let value = Int(exactly: n) else { throw error(path, entry, "number too large") }
        return value
    }

    /// A whole number of at least 1 (a cap of 0 would refuse everything; a timeout of 0 would time out at once).
    func positive(_ entry: TOMLTable.Entry, _ path: [String], atMost limit: Int = 100_000_000) throws(ConfigError) -> Int {
        let n = try count(entry, path)
        guard n >= 1 else { throw error(path, entry, "must be at least 1") }
        guard n <= limit else { throw error(path, entry, "must be at most \(limit) (got \(n))") }
        return n
    }

    /// A byte size: a string such as "10GB" or an integer number of bytes.
    func size(_ entry: TOMLTable.Entry, _ path: [String]) throws(ConfigError) -> Int64 {
        switch entry.value {
        case .integer(let n):
            guard n >= 0 else { throw error(path, entry, "must not be negative (got \(n))") }
            return n
        case .string(let s):
            if s.unicodeScalars.first(where: { $0 != " " && $0 != "\t" }) == "-" {
                throw error(path, entry, "must not be negative (got \(TOMLKey.quoted(s)))")
            }
            guard let n = ByteSize.parse(s) else {
                throw error(path, entry, "invalid size \(TOMLKey.quoted(s)) (expected e.g. \"140MiB\", \"10GB\" or a number of bytes)")
            }
            return n
        default:
            throw error(path, entry, "expected a size such as \"10GB\" or a whole number of bytes, found \(Self.describe(entry.value))")
        }
    }

    /// A message size limit: a positive size that fits in `Int`.
    func messageSize(_ entry: TOMLTable.Entry, _ path: [String]) throws(ConfigError) -> Int {
        let n = try size(entry, path)
        guard n > 0 else { throw error(path, entry, "must be greater than zero") }
        guard let value = Int(exactly: n) else { throw error(path, entry, "size too large") }
        return value
    }

    func raw(for path: [String]) -> String? {
        guard let rawOverride, rawOverride.path == path else { return nil }
        return rawOverride.text
    }

    // MARK: Errors

    mutating func note(_ path: [String], _ entry: TOMLTable.Entry) {
        if reportLines { lines[TOMLKey.format(path)] = entry.position.line }
    }

    func error(_ path: [String], _ entry: TOMLTable.Entry, _ message: String) -> ConfigError {
        ConfigError(file: source, key: TOMLKey.format(path), line: reportLines ? entry.position.line : nil,
                    message: message)
    }

    func unknown(_ path: [String], _ entry: TOMLTable.Entry, known: [String]) -> ConfigError {
        let name = path.last ?? ""
        var message = entry.value.tableValue != nil && path.count == 1 ? "unknown section" : "unknown key"
        if let suggestion = Self.closest(to: name, in: known) {
            message += " (did you mean \(TOMLKey.format(path.dropLast() + [suggestion]))?)"
        }
        return error(path, entry, message)
    }

    /// The known key within edit distance 2 of a misspelling, if exactly one is closest.
    static func closest(to name: String, in known: [String]) -> String? {
        let a = Array(name.utf8.prefix(64))
        var best: (distance: Int, key: String)?
        for key in known {
            let d = editDistance(a, Array(key.utf8))
            if d <= 2, d < best?.distance ?? .max { best = (d, key) }
        }
        return best?.key
    }

    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// A short, one-line description of a value for "found ..." messages.
    static func describe(_ value: TOMLValue) -> String {
        switch value {
        case .string(let s):
            let short = s.count > 40 ? String(s.prefix(40)) + "..." : s
            return "string \(TOMLKey.quoted(short))"
        case .integer(let n): return "integer \(n)"
        case .float(let d): return "float \(d)"
        case .boolean(let b): return "\(b)"
        case .dateTime(let dt): return "\(dt.kind.rawValue) \(dt)"
        case .array: return "an array"
        case .table: return "a table"
        }
    }

    /// Portable user names (POSIX.1 §3.437 portable filename characters, not starting with '-').
    static func isValidUserName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 32, bytes.first != 0x2D else { return false }
        return bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A) || b == 0x2D || b == 0x2E || b == 0x5F
        }
    }
}

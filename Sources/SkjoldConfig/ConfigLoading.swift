#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension SkjoldConfig {
    /// Where override errors say they come from.
    public static let overrideSource = "command line"

    /// Reads and parses a configuration file. With a file, a listener whose `[listen]` key is absent
    /// is off; every other absent key keeps its built-in default.
    public static func load(file path: String) throws(ConfigError) -> SkjoldConfig {
        let limits = TOMLParser.Limits()
        let bytes = try readFile(path, limit: limits.maxInputBytes)
        return try parse(bytes: bytes, file: path)
    }

    /// Parses configuration text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> SkjoldConfig {
        try parse(bytes: Array(text.utf8), file: file)
    }

    /// Parses configuration bytes (invalid UTF-8 is reported with its line).
    public static func parse(bytes: [UInt8], file: String) throws(ConfigError) -> SkjoldConfig {
        let root: TOMLTable
        do throws(TOMLError) {
            root = try TOMLParser().parse(bytes: bytes)
        } catch {
            throw ConfigError(file: file, syntax: error)
        }
        var config = fileBase
        var decoder = ConfigDecoder(source: file, reportLines: true)
        try decoder.apply(root, to: &config)
        try config.validate(source: file, lines: decoder.lines)
        return config
    }

    /// Applies one `key=value` override, e.g. `listen.smtp=127.0.0.1:2525`,
    /// `limits.max_message_size=10MiB`, `privacy.log_ip_addresses=true`. The value is read as a TOML
    /// value, or taken as a bare string if it is not one. An empty value or `false` turns a listener
    /// off; an empty value unsets `user`, `tls.cert`, `tls.key` and `storage.nobackup_dir`.
    ///
    /// Checks that involve several keys (a TLS certificate needs its key) are left to `validate()`,
    /// so that overrides can set such keys one at a time; `apply(overrides:)` runs it at the end.
    public mutating func apply(override text: String) throws(ConfigError) {
        let source = Self.overrideSource
        guard let equals = text.firstIndex(of: "=") else {
            throw ConfigError(file: source, key: trimmed(Substring(text)), message: "expected key=value")
        }
        let keyText = trimmed(text[..<equals])
        let valueText = trimmed(text[text.index(after: equals)...])
        let path: [String]
        do throws(TOMLError) {
            path = try TOMLParser().parseKey(keyText)
        } catch {
            throw ConfigError(file: source, key: keyText, message: "invalid key: \(error.message)")
        }
        let value = (try? TOMLParser().parseValue(valueText)) ?? .string(valueText)

        // Wrap the value in one table per key component, then decode it like a file.
        let origin = TOMLPosition(line: 1, column: 1)
        var nested = value
        for name in path.dropFirst().reversed() {
            var table = TOMLTable(position: origin)
            table.set(name, nested, at: origin)
            nested = .table(table)
        }
        var root = TOMLTable(position: origin)
        if let first = path.first { root.set(first, nested, at: origin) }

        var updated = self
        var decoder = ConfigDecoder(source: source, reportLines: false, rawOverride: (path, valueText))
        try decoder.apply(root, to: &updated)
        self = updated
    }

    /// Applies overrides in order, then checks the result as a whole.
    public mutating func apply(overrides: [String]) throws(ConfigError) {
        var updated = self
        for text in overrides { try updated.apply(override: text) }
        try updated.validate(source: Self.overrideSource, lines: [:])
        self = updated
    }

    /// Checks that span several keys: a certificate needs its key (and the reverse), and no two
    /// listeners may share an address.
    public func validate() throws(ConfigError) {
        try validate(source: "configuration", lines: [:])
    }

    func validate(source: String, lines: [String: Int]) throws(ConfigError) {
        switch (tls.cert, tls.key) {
        case (.some, nil):
            throw ConfigError(file: source, key: "tls.key", line: lines["tls"] ?? lines["tls.cert"],
                              message: "missing: tls.cert is set, so tls.key must be too (or remove both to use a generated self-signed certificate)")
        case (nil, .some):
            throw ConfigError(file: source, key: "tls.cert", line: lines["tls"] ?? lines["tls.key"],
                              message: "missing: tls.key is set, so tls.cert must be too (or remove both to use a generated self-signed certificate)")
        default:
            break
        }
        guard HostnameRules.isValid(hostname) else {
            throw ConfigError(file: source, key: "hostname", line: lines["hostname"],
                              message: hostname.isEmpty ? "must not be empty" : "invalid host name \(TOMLKey.quoted(hostname))")
        }
        var seen: [ListenAddress: String] = [:]
        for (name, address) in listen.all where address.port != 0 {
            if let other = seen[address] {
                throw ConfigError(file: source, key: "listen.\(name)", line: lines["listen.\(name)"],
                                  message: "address \(address) is also used by listen.\(other)")
            }
            seen[address] = name
        }
    }

    /// Reads a whole file, refusing more than `limit` bytes.
    static func readFile(_ path: String, limit: Int) throws(ConfigError) -> [UInt8] {
        func failure(_ code: Int32) -> ConfigError {
            ConfigError(file: path, message: "cannot read file: " + String(cString: strerror(code)))
        }
        guard let file = fopen(path, "rb") else { throw failure(errno) }
        defer { fclose(file) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            contents.append(contentsOf: chunk[0..<count])
            if contents.count > limit {
                throw ConfigError(file: path, message: "cannot read file: larger than \(ByteSize.format(Int64(limit)))")
            }
            if count < chunk.count {
                if ferror(file) != 0 { throw failure(errno) }
                return contents
            }
        }
    }
}

private func trimmed(_ s: Substring) -> String {
    var s = s
    while let first = s.first, first == " " || first == "\t" { s.removeFirst() }
    while let last = s.last, last == " " || last == "\t" { s.removeLast() }
    return String(s)
}

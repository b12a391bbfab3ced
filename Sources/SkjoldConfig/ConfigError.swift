/// A configuration problem, told in one line that names the file, the line when known, the key and
/// what is wrong:
///
///     /etc/skjold.toml:7: limits.max_message_size: invalid size "lots" (...)
///     /etc/skjold.toml:12: syntax error: unterminated string (column 9)
///     /etc/skjold.toml: cannot read file: No such file or directory
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The configuration file, or "command line" for an override.
    public var file: String
    /// The dotted key concerned, e.g. `listen.smtp`, when there is one.
    public var key: String?
    public var line: Int?
    /// Reported for syntax errors, where it helps find the spot.
    public var column: Int?
    /// What is wrong, without the file, line or key.
    public var message: String

    public init(file: String, key: String? = nil, line: Int? = nil, column: Int? = nil, message: String) {
        self.file = file
        self.key = key
        self.line = line
        self.column = column
        self.message = message
    }

    /// Wraps a TOML syntax error.
    public init(file: String, syntax error: TOMLError) {
        self.init(file: file, key: error.key, line: error.line, column: error.column,
                  message: "syntax error: " + error.message)
    }

    public var description: String {
        var out = file
        if let line { out += ":\(line)" }
        out += ": "
        if let key { out += key + ": " }
        out += message
        if let column { out += " (column \(column))" }
        // One line, whatever a message or key contains.
        return String(out.map { $0.isNewline ? " " : $0 })
    }
}

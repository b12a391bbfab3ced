/// Why a TOML document was rejected, and where.
public struct TOMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of problem; tests and callers can match on it without parsing `message`.
    public enum Kind: String, Sendable {
        case syntax
        case invalidUTF8
        case controlCharacter
        case invalidEscape
        case unterminatedString
        case invalidNumber
        case integerOverflow
        case invalidDateTime
        case duplicateKey
        case tableRedefined
        case nestingTooDeep
        case inputTooLarge
    }

    public var kind: Kind
    public var line: Int
    public var column: Int
    /// The dotted key being parsed when the error was found, when known (already formatted with
    /// `TOMLKey.format`).
    public var key: String?
    public var message: String

    public init(kind: Kind, line: Int, column: Int, key: String? = nil, message: String) {
        self.kind = kind
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    public var description: String {
        "line \(line), column \(column): " + (key.map { "\($0): " } ?? "") + message
    }
}

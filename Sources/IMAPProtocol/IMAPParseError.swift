/// Why a command was refused by the grammar layer, with the tag to answer when it was readable.
///
/// The server maps each kind to a reply at its edge (STYLE habit 9):
/// - ``Kind/syntax(_:)`` → `tag BAD <message>` (or `* BAD` when ``tag`` is nil), RFC 9051 §7.1.3;
/// - ``Kind/lineTooLong`` / ``Kind/literalTooLarge(_:)`` → `tag BAD [TOOBIG]`/`[LIMIT]`, RFC 9051 §7.1;
/// - ``Kind/messageTooLarge(_:)`` → `tag NO [TOOBIG]` (APPENDLIMIT, RFC 7889 §4);
/// - ``Kind/unsupportedCharset(_:)`` → `tag NO [BADCHARSET (UTF-8 US-ASCII)]`, RFC 9051 §6.4.4.
public struct IMAPParseError: Error, Hashable, Sendable {
    /// What went wrong.
    public enum Kind: Hashable, Sendable {
        /// The command does not follow the grammar.
        case syntax(String)
        /// A command line (excluding literal data) exceeded ``IMAPCommandParser/Limits/maximumLineLength``.
        case lineTooLong
        /// A literal exceeded the literal or command size limit; the size is nil when it was not even a
        /// representable number.
        case literalTooLarge(UInt64?)
        /// An APPEND message literal is larger than the APPENDLIMIT.
        case messageTooLarge(UInt64)
        /// SEARCH/SORT/THREAD named a charset other than UTF-8 or US-ASCII.
        case unsupportedCharset(String)
    }

    /// The problem.
    public var kind: Kind
    /// The command's tag when it could be read, so the reply can be `tag BAD ...` instead of `* BAD ...`.
    public var tag: String?
    /// True when the byte stream can no longer be framed (a non-synchronising literal whose size is not a
    /// number): the server should send `* BYE` and close, since the next bytes may be literal data that
    /// would otherwise be read as commands.
    public var isFatal: Bool

    public init(_ kind: Kind, tag: String?, isFatal: Bool = false) {
        self.kind = kind
        self.tag = tag
        self.isFatal = isFatal
    }
}

/// Internal failure raised inside the grammar; gets the tag attached on the way out.
struct GrammarError: Error {
    let kind: IMAPParseError.Kind
    init(_ message: String) { kind = .syntax(message) }
    init(kind: IMAPParseError.Kind) { self.kind = kind }
}

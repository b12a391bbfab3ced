/// A mailbox name as Unicode text, independent of its wire form (RFC 9051 §5.1).
///
/// On the wire a name is modified UTF-7 for IMAP4rev1 clients (RFC 3501 §5.1.3) and raw UTF-8 once the
/// client uses IMAP4rev2 or has enabled UTF8=ACCEPT (RFC 9051 §5.1, RFC 6855 §3); the parser decodes
/// according to its `utf8Enabled` flag and the encoder encodes the same way. The name `INBOX` is
/// case-insensitive (RFC 9051 §5.1): every spelling is normalised to `INBOX` on creation.
public struct MailboxName: Hashable, Sendable, CustomStringConvertible {
    /// The decoded name.
    public let name: String

    /// The special mailbox INBOX.
    public static let inbox = MailboxName("INBOX")

    /// A name from Unicode text; any case of "inbox" becomes `INBOX`.
    public init(_ name: String) {
        self.name = ASCII.equalsKeyword(name.utf8, "INBOX") ? "INBOX" : name
    }

    /// Decodes a wire-form name: UTF-8 when `utf8` is true, modified UTF-7 (7-bit only) otherwise.
    /// Returns nil for invalid UTF-8 or non-canonical modified UTF-7.
    public init?<C: Collection>(wire bytes: C, utf8: Bool) where C.Element == UInt8 {
        if utf8 {
            guard let s = String(validating: Array(bytes), as: UTF8.self) else { return nil }
            self.init(s)
        } else {
            guard let s = ModifiedUTF7.decode(bytes) else { return nil }
            self.init(s)
        }
    }

    /// True for INBOX.
    public var isInbox: Bool { name == "INBOX" }

    public var description: String { name }

    /// Also normalises an `inbox<delimiter>` prefix to `INBOX<delimiter>`, so children of INBOX resolve the
    /// same way whatever case the client uses (what most servers do; RFC 9051 §5.1 only mandates INBOX).
    public func normalized(delimiter: Character) -> MailboxName {
        let prefix = "INBOX" + String(delimiter)
        guard name.utf8.count > prefix.utf8.count,
              ASCII.equalsKeyword(name.utf8.prefix(prefix.utf8.count), prefix.uppercased()) else { return self }
        return MailboxName(prefix + String(Substring(name.utf8.dropFirst(prefix.utf8.count))))
    }

    /// The wire form before string quoting: modified UTF-7 or UTF-8.
    public func wireBytes(utf8: Bool) -> [UInt8] {
        utf8 ? Array(name.utf8) : Array(ModifiedUTF7.encode(name).utf8)
    }
}

/// Decodes a name or pattern field per mode, as a grammar error when invalid.
func decodeMailboxText(_ bytes: [UInt8], utf8: Bool) throws(GrammarError) -> String {
    if utf8 {
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw GrammarError("mailbox name is not valid UTF-8")
        }
        return s
    }
    guard let s = ModifiedUTF7.decode(bytes) else {
        throw GrammarError("mailbox name is not valid modified UTF-7")
    }
    return s
}

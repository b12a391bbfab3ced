/// One message of an APPEND command, reported when its literal is about to start (RFC 9051 §6.3.12,
/// MULTIAPPEND RFC 3502, BINARY literal8 RFC 3516 §4.4).
///
/// The message octets follow as ``IMAPCommandEvent/appendData(_:)`` chunks, then
/// ``IMAPCommandEvent/appendMessageEnd``; with MULTIAPPEND another `appendMessage` may follow, and
/// ``IMAPCommandEvent/appendEnd(tag:)`` closes the command.
public struct AppendMessage: Hashable, Sendable {
    public var tag: String
    public var mailbox: MailboxName
    public var flags: [Flag]
    public var internalDate: IMAPDateTime?
    /// Octets in the literal; checked against ``IMAPCommandParser/Limits/maximumAppendSize`` already.
    public var size: UInt64
    /// Sent as literal8 (`~{n}`): content may contain NUL (RFC 3516 §4.4).
    public var isBinary: Bool
    /// A synchronising literal: the client waits. Send `+ Ready` to accept, or call
    /// ``IMAPCommandParser/rejectAppend()`` and answer `tag NO ...` instead.
    public var needsContinuation: Bool
    /// Position within a MULTIAPPEND command, from 0.
    public var index: Int
    /// Sent as `UTF8 (~{n})` (RFC 6855 §4): a message with UTF-8 headers from a client that enabled
    /// UTF8=ACCEPT.
    public var isUTF8Data: Bool

    public init(tag: String, mailbox: MailboxName, flags: [Flag] = [], internalDate: IMAPDateTime? = nil,
                size: UInt64, isBinary: Bool = false, needsContinuation: Bool, index: Int = 0, isUTF8Data: Bool = false) {
        self.tag = tag
        self.mailbox = mailbox
        self.flags = flags
        self.internalDate = internalDate
        self.size = size
        self.isBinary = isBinary
        self.needsContinuation = needsContinuation
        self.index = index
        self.isUTF8Data = isUTF8Data
    }
}

/// A literal announcement at the end of a line: `{n}`, `{n+}`, `~{n}`, `~{n+}` (RFC 9051 §4.3, RFC 7888,
/// RFC 3516).
struct LiteralMarker: Equatable {
    /// Offset of the marker (`{` or `~`) in the line.
    var start: Int
    /// nil when the digits do not fit in 64 bits.
    var size: UInt64?
    var synchronizing: Bool
    var binary: Bool

    /// The marker ending `line`, if any. A line ending in `}` can only be a literal announcement: `{` is an
    /// atom-special and never appears unquoted otherwise.
    static func find<C: BidirectionalCollection>(in line: C) -> LiteralMarker? where C.Element == UInt8, C.Index == Int {
        guard let last = line.last, last == ASCII.rbrace else { return nil }
        var i = line.index(before: line.endIndex)
        var synchronizing = true
        if i > line.startIndex, line[line.index(before: i)] == ASCII.plus {
            synchronizing = false
            i = line.index(before: i)
        }
        let digitsEnd = i
        while i > line.startIndex, ASCII.isDigit(line[line.index(before: i)]) { i = line.index(before: i) }
        let digitsStart = i
        guard digitsStart < digitsEnd, i > line.startIndex, line[line.index(before: i)] == ASCII.lbrace else { return nil }
        i = line.index(before: i)
        var binary = false
        if i > line.startIndex, line[line.index(before: i)] == ASCII.tilde {
            binary = true
            i = line.index(before: i)
        }
        var size: UInt64? = 0
        for d in line[digitsStart..<digitsEnd] {
            guard let s = size else { break }
            let (m, o1) = s.multipliedReportingOverflow(by: 10)
            let (r, o2) = m.addingReportingOverflow(UInt64(d - ASCII.zero))
            size = o1 || o2 ? nil : r
        }
        return LiteralMarker(start: i - line.startIndex, size: size, synchronizing: synchronizing, binary: binary)
    }
}

extension CommandGrammar {
    /// True when `bytes` starts with `tag SP "APPEND" SP`.
    static func isAppend(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let sp = bytes.firstIndex(of: ASCII.space) else { return false }
        let rest = bytes[(sp + 1)...]
        return rest.count > 7 && ASCII.equalsKeyword(rest.prefix(7), "APPEND ")
    }

    /// For an APPEND whose current line ends with a literal marker at `markerStart`: parses
    /// `tag SP "APPEND" SP mailbox append-opts SP` up to the marker. Returns nil when the marker is the
    /// mailbox name itself (a literal mailbox, not yet received), otherwise the message's parameters.
    ///
    /// ```
    /// append      = "APPEND" SP mailbox 1*append-message          ; RFC 3502 §6
    /// append-message = append-opts SP append-data
    /// append-opts = [SP flag-list] [SP date-time]
    /// ```
    mutating func appendHead(markerStart: Int) throws(GrammarError) -> (tag: String, mailbox: MailboxName, options: AppendOptions)? {
        let tag = try tag()
        try cursor.space()
        try cursor.expectKeyword("APPEND")
        try cursor.space()
        if cursor.index == markerStart { return nil }
        let mailbox = try mailbox()
        return (tag, mailbox, try appendOptions(markerStart: markerStart))
    }

    /// append-opts SP, ending exactly at the marker: `[SP flag-list] [SP date-time] SP`, or with the
    /// UTF8 data extension `... SP "UTF8" SP "("` (RFC 6855 §4: `append-data =/ "UTF8" SP "(" literal8 ")"`).
    mutating func appendOptions(markerStart: Int) throws(GrammarError) -> AppendOptions {
        var options = AppendOptions()
        var sawFlags = false
        while true {
            try cursor.space()
            if cursor.index == markerStart { return options }
            if cursor.peek() == ASCII.lparen, !sawFlags, options.date == nil {
                options.flags = try cursor.flagList()
                sawFlags = true
            } else if cursor.peek() == ASCII.dquote, options.date == nil {
                options.date = try cursor.dateTime()
            } else if cursor.consumeKeyword("UTF8") {
                try cursor.space()
                try cursor.expect(ASCII.lparen, "'(' after UTF8")
                guard cursor.index == markerStart else { throw GrammarError("UTF8 needs a literal8") }
                options.utf8Data = true
                return options
            } else {
                throw GrammarError("invalid APPEND arguments")
            }
        }
    }
}

/// Flags, date and data form of one APPEND message.
struct AppendOptions {
    var flags: [Flag] = []
    var date: IMAPDateTime?
    /// Inside `UTF8 (...)`: the line after the literal starts with `)`.
    var utf8Data = false
}

/// Serialises ``Response`` values to wire octets (RFC 9051 §7 and §9 `response`).
///
/// String values are written as an atom, a quoted string or a literal, whichever the grammar allows and
/// the content needs: quoted strings cannot hold CR, LF or NUL, and hold 8-bit octets only in UTF-8 mode
/// (`utf8Enabled`: IMAP4rev2 or UTF8=ACCEPT, RFC 9051 §9 QUOTED-CHAR, RFC 6855 §3); otherwise a literal
/// is used, and literal8 (`~{n}`) for binary content with NUL (RFC 3516). Mailbox names are modified
/// UTF-7 unless `utf8Enabled`.
public struct ResponseEncoder: Hashable, Sendable {
    /// Clients that enabled UTF-8 get UTF-8 mailbox names and quoted strings.
    public var utf8Enabled: Bool
    /// Longest string sent quoted; longer ones go as literals (easier on clients, no escaping cost).
    public var maximumQuotedLength: Int

    public init(utf8Enabled: Bool = false, maximumQuotedLength: Int = 1024) {
        self.utf8Enabled = utf8Enabled
        self.maximumQuotedLength = maximumQuotedLength
    }

    /// The octets of one response, CRLF included.
    public func encode(_ response: Response) -> [UInt8] {
        var out: [UInt8] = []
        encode(response, into: &out)
        return out
    }

    public func encode(_ response: Response, into out: inout [UInt8]) {
        switch response {
        case .tagged(let tag, let status, let code, let text):
            out.append(contentsOf: tag.utf8)
            out.append(ASCII.space)
            out.append(contentsOf: status.rawValue.utf8)
            appendResponseText(code: code, text: text, into: &out)
        case .untaggedStatus(let status, let code, let text):
            out.append(contentsOf: "* \(status.rawValue)".utf8)
            appendResponseText(code: code, text: text, into: &out)
        case .untagged(let data):
            appendUntagged(data, into: &out)
        case .continuation(let text):
            out.append(contentsOf: "+ ".utf8)
            appendText(text, into: &out)
        case .challenge(let bytes):
            out.append(contentsOf: "+ ".utf8)
            out.append(contentsOf: IMAPBase64.encode(bytes))
        }
        out.append(ASCII.cr)
        out.append(ASCII.lf)
    }

    // MARK: - Strings

    /// A literal header: `{n}` CRLF, or `~{n}` CRLF for literal8. The caller writes exactly `size` octets
    /// after it (this is how a large body is streamed from a file).
    public static func literalHeader(size: UInt64, binary: Bool = false) -> [UInt8] {
        Array("\(binary ? "~" : ""){\(size)}\r\n".utf8)
    }

    private func isQuotable<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        guard bytes.count <= maximumQuotedLength else { return false }
        if utf8Enabled {
            guard bytes.allSatisfy({ $0 != ASCII.cr && $0 != ASCII.lf && $0 != ASCII.nul }) else { return false }
            return String(validating: Array(bytes), as: UTF8.self) != nil
        }
        return bytes.allSatisfy { $0 >= 0x01 && $0 <= 0x7F && $0 != ASCII.cr && $0 != ASCII.lf }
    }

    /// quoted = DQUOTE *QUOTED-CHAR DQUOTE, escaping `"` and `\`.
    private func appendQuoted<C: Collection>(_ bytes: C, into out: inout [UInt8]) where C.Element == UInt8 {
        out.append(ASCII.dquote)
        for b in bytes {
            if b == ASCII.dquote || b == ASCII.backslash { out.append(ASCII.backslash) }
            out.append(b)
        }
        out.append(ASCII.dquote)
    }

    /// A literal (literal8 when the content has NUL and `allowBinary`).
    public func appendLiteral<C: Collection>(_ bytes: C, allowBinary: Bool = false, into out: inout [UInt8]) where C.Element == UInt8 {
        let binary = allowBinary && bytes.contains(ASCII.nul)
        out.append(contentsOf: ResponseEncoder.literalHeader(size: UInt64(bytes.count), binary: binary))
        out.append(contentsOf: bytes)
    }

    /// string = quoted / literal
    public func appendString<C: Collection>(_ bytes: C, into out: inout [UInt8]) where C.Element == UInt8 {
        if isQuotable(bytes) { appendQuoted(bytes, into: &out) } else { appendLiteral(bytes, into: &out) }
    }

    /// nstring = string / NIL
    public func appendNString(_ bytes: [UInt8]?, into out: inout [UInt8]) {
        guard let bytes else { return out.append(contentsOf: "NIL".utf8) }
        appendString(bytes, into: &out)
    }

    /// astring = 1*ASTRING-CHAR / string; the atom form only when it cannot be mistaken for NIL.
    public func appendAString<C: Collection>(_ bytes: C, into out: inout [UInt8]) where C.Element == UInt8 {
        if !bytes.isEmpty, bytes.allSatisfy(ASCII.isAstringChar), !ASCII.equalsKeyword(bytes, "NIL") {
            out.append(contentsOf: bytes)
        } else {
            appendString(bytes, into: &out)
        }
    }

    /// A mailbox name, always as a string (quoted or literal): some clients mishandle atom mailbox names
    /// in LIST replies, and a string is always valid where `mailbox` is.
    public func appendMailbox(_ mailbox: MailboxName, into out: inout [UInt8]) {
        appendString(mailbox.wireBytes(utf8: utf8Enabled), into: &out)
    }

    /// resp-text body: CR, LF and NUL become spaces; 8-bit octets become `?` unless UTF-8 is enabled.
    private func appendText(_ text: String, into out: inout [UInt8]) {
        for b in text.utf8 {
            switch b {
            case ASCII.cr, ASCII.lf, ASCII.nul: out.append(ASCII.space)
            case 0x80...: out.append(utf8Enabled ? b : 0x3F)
            default: out.append(b)
            }
        }
    }

    /// SP ["[" resp-text-code "]" SP] text — an empty text is sent as `completed` (RFC 3501 needs text).
    private func appendResponseText(code: ResponseCode?, text: String, into out: inout [UInt8]) {
        out.append(ASCII.space)
        if let code {
            out.append(ASCII.lbracket)
            appendCode(code, into: &out)
            out.append(ASCII.rbracket)
            out.append(ASCII.space)
        }
        appendText(text.isEmpty ? "completed" : text, into: &out)
    }

    private func appendNumber<T: BinaryInteger>(_ n: T, into out: inout [UInt8]) {
        out.append(contentsOf: String(n).utf8)
    }

    /// Appends `n` in decimal without building a `String`: FETCH writes several numbers per message, and
    /// a large FETCH has many messages.
    @inlinable
    public static func appendDecimal(_ n: UInt64, into out: inout [UInt8]) {
        if n < 10 {
            out.append(UInt8(truncatingIfNeeded: n) &+ 0x30)
            return
        }
        // UInt64.max has 20 digits.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buffer in
            var i = buffer.count
            var v = n
            repeat {
                i &-= 1
                buffer[i] = UInt8(truncatingIfNeeded: v % 10) &+ 0x30
                v /= 10
            } while v > 0
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[i...]))
        }
    }

    private func appendWords(_ words: [String], into out: inout [UInt8]) {
        for (i, w) in words.enumerated() {
            if i > 0 { out.append(ASCII.space) }
            out.append(contentsOf: w.utf8)
        }
    }

    private func appendFlagList(_ flags: [Flag], extra: String? = nil, into out: inout [UInt8]) {
        out.append(ASCII.lparen)
        appendWords(flags.map(\.name) + (extra.map { [$0] } ?? []), into: &out)
        out.append(ASCII.rparen)
    }

    // MARK: - Response codes

    private func appendCode(_ code: ResponseCode, into out: inout [UInt8]) {
        func w(_ s: String) { out.append(contentsOf: s.utf8) }
        switch code {
        case .alert: w("ALERT")
        case .alreadyExists: w("ALREADYEXISTS")
        case .appendUID(let validity, let uids): w("APPENDUID \(validity) \(uids.imapString)")
        case .authenticationFailed: w("AUTHENTICATIONFAILED")
        case .authorizationFailed: w("AUTHORIZATIONFAILED")
        case .badCharset(let charsets):
            w("BADCHARSET")
            if !charsets.isEmpty {
                w(" (")
                for (i, c) in charsets.enumerated() {
                    if i > 0 { w(" ") }
                    appendAString(Array(c.utf8), into: &out)
                }
                w(")")
            }
        case .cannot: w("CANNOT")
        case .capability(let caps): w("CAPABILITY "); appendWords(caps, into: &out)
        case .clientBug: w("CLIENTBUG")
        case .closed: w("CLOSED")
        case .contactAdmin: w("CONTACTADMIN")
        case .copyUID(let validity, let source, let destination):
            w("COPYUID \(validity) \(source.imapString) \(destination.imapString)")
        case .corruption: w("CORRUPTION")
        case .expired: w("EXPIRED")
        case .expungeIssued: w("EXPUNGEISSUED")
        case .hasChildren: w("HASCHILDREN")
        case .highestModSeq(let n): w("HIGHESTMODSEQ \(n)")
        case .inUse: w("INUSE")
        case .limit: w("LIMIT")
        case .modified(let set): w("MODIFIED \(set.imapString)")
        case .noModSeq: w("NOMODSEQ")
        case .nonExistent: w("NONEXISTENT")
        case .noPerm: w("NOPERM")
        case .overQuota: w("OVERQUOTA")
        case .parse: w("PARSE")
        case .permanentFlags(let flags, let allowsNew):
            w("PERMANENTFLAGS ")
            appendFlagList(flags, extra: allowsNew ? "\\*" : nil, into: &out)
        case .privacyRequired: w("PRIVACYREQUIRED")
        case .readOnly: w("READ-ONLY")
        case .readWrite: w("READ-WRITE")
        case .serverBug: w("SERVERBUG")
        case .tooBig: w("TOOBIG")
        case .tryCreate: w("TRYCREATE")
        case .uidNext(let n): w("UIDNEXT \(n)")
        case .uidNotSticky: w("UIDNOTSTICKY")
        case .uidValidity(let n): w("UIDVALIDITY \(n)")
        case .unavailable: w("UNAVAILABLE")
        case .unknownCTE: w("UNKNOWN-CTE")
        case .unseen(let n): w("UNSEEN \(n)")
        case .other(let name, let text):
            w(name)
            if let text { w(" "); w(String(text.map { $0 == "]" ? " " : $0 })) }
        }
    }

    // MARK: - Untagged data

    private func appendDelimiter(_ delimiter: Character?, into out: inout [UInt8]) {
        guard let delimiter, delimiter.isASCII, let b = delimiter.asciiValue else {
            return out.append(contentsOf: "NIL".utf8)
        }
        appendQuoted([b], into: &out)
    }

    private func appendUntagged(_ data: UntaggedData, into out: inout [UInt8]) {
        func w(_ s: String) { out.append(contentsOf: s.utf8) }
        switch data {
        case .capability(let caps):
            w("* CAPABILITY ")
            appendWords(caps, into: &out)
        case .enabled(let caps):
            w("* ENABLED")
            for c in caps { w(" "); w(c) }
        case .list(let list):
            w("* LIST ")
            appendList(list, into: &out)
        case .lsub(let list):
            w("* LSUB ")
            appendList(list, into: &out)
        case .namespace(let personal, let other, let shared):
            w("* NAMESPACE")
            for group in [personal, other, shared] {
                w(" ")
                guard let group, !group.isEmpty else { w("NIL"); continue }
                w("(")
                for d in group {
                    w("(")
                    appendString(MailboxName(d.prefix).wireBytes(utf8: utf8Enabled), into: &out)
                    w(" ")
                    appendDelimiter(d.delimiter, into: &out)
                    w(")")
                }
                w(")")
            }
        case .status(let mailbox, let values):
            w("* STATUS ")
            appendMailbox(mailbox, into: &out)
            w(" (")
            for (i, v) in values.enumerated() {
                if i > 0 { w(" ") }
                switch v {
                case .messages(let n): w("MESSAGES \(n)")
                case .uidNext(let n): w("UIDNEXT \(n)")
                case .uidValidity(let n): w("UIDVALIDITY \(n)")
                case .unseen(let n): w("UNSEEN \(n)")
                case .deleted(let n): w("DELETED \(n)")
                case .size(let n): w("SIZE \(n)")
                case .recent(let n): w("RECENT \(n)")
                case .highestModSeq(let n): w("HIGHESTMODSEQ \(n)")
                case .appendLimit(let n): w("APPENDLIMIT \(n.map(String.init) ?? "NIL")")
                }
            }
            w(")")
        case .flags(let flags):
            w("* FLAGS ")
            appendFlagList(flags, into: &out)
        case .exists(let n): w("* \(n) EXISTS")
        case .recent(let n): w("* \(n) RECENT")
        case .expunge(let n): w("* \(n) EXPUNGE")
        case .vanished(let earlier, let set):
            w(earlier ? "* VANISHED (EARLIER) " : "* VANISHED ")
            w(set.imapString)
        case .search(let numbers, let modSeq):
            w("* SEARCH")
            for n in numbers { w(" \(n)") }
            // RFC 7162 §3.1.6: MODSEQ only with a non-empty result.
            if let modSeq, !numbers.isEmpty { w(" (MODSEQ \(modSeq))") }
        case .sort(let numbers, let modSeq):
            w("* SORT")
            for n in numbers { w(" \(n)") }
            if let modSeq, !numbers.isEmpty { w(" (MODSEQ \(modSeq))") }
        case .esearch(let e):
            w("* ESEARCH")
            if let tag = e.tag {
                w(" (TAG ")
                appendString(Array(tag.utf8), into: &out)
                w(")")
            }
            if e.uid { w(" UID") }
            if let n = e.min { w(" MIN \(n)") }
            if let n = e.max { w(" MAX \(n)") }
            if let n = e.count { w(" COUNT \(n)") }
            if let all = e.all, !all.isEmpty { w(" ALL \(all.imapString)") }
            if let n = e.modSeq { w(" MODSEQ \(n)") }
        case .thread(let threads):
            w("* THREAD ")
            for t in threads { appendThread(t, into: &out) }
            if threads.isEmpty { out.removeLast() }
        case .id(let fields):
            w("* ID ")
            guard let fields else { w("NIL"); break }
            w("(")
            for (i, f) in fields.enumerated() {
                if i > 0 { w(" ") }
                appendString(Array(f.name.utf8), into: &out)
                w(" ")
                appendNString(f.value.map { Array($0.utf8) }, into: &out)
            }
            w(")")
        case .quota(let root, let usages):
            w("* QUOTA ")
            appendAString(Array(root.utf8), into: &out)
            w(" (")
            w(usages.map { "\($0.resource) \($0.usage) \($0.limit)" }.joined(separator: " "))
            w(")")
        case .quotaRoot(let mailbox, let roots):
            w("* QUOTAROOT ")
            appendMailbox(mailbox, into: &out)
            for r in roots {
                w(" ")
                appendAString(Array(r.utf8), into: &out)
            }
        case .fetch(let n, let values):
            var fetch = FetchResponseEncoder(sequenceNumber: n, encoder: self, into: &out)
            for v in values { fetch.append(v, into: &out) }
            out.append(ASCII.rparen)
            return
        }
    }

    /// mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox
    ///                [SP mbox-list-extended]
    private func appendList(_ list: ListResponse, into out: inout [UInt8]) {
        out.append(ASCII.lparen)
        appendWords(list.attributes.map(\.name), into: &out)
        out.append(ASCII.rparen)
        out.append(ASCII.space)
        appendDelimiter(list.delimiter, into: &out)
        out.append(ASCII.space)
        appendMailbox(list.mailbox, into: &out)
        guard !list.extended.isEmpty else { return }
        out.append(contentsOf: " (".utf8)
        for (i, item) in list.extended.enumerated() {
            if i > 0 { out.append(ASCII.space) }
            switch item {
            case .childInfo(let values):
                out.append(contentsOf: "\"CHILDINFO\" (".utf8)
                for (j, v) in values.enumerated() {
                    if j > 0 { out.append(ASCII.space) }
                    appendString(Array(v.utf8), into: &out)
                }
                out.append(ASCII.rparen)
            case .oldName(let name):
                out.append(contentsOf: "\"OLDNAME\" (".utf8)
                appendMailbox(name, into: &out)
                out.append(ASCII.rparen)
            }
        }
        out.append(ASCII.rparen)
    }

    /// thread-list = "(" (thread-members / thread-nested) ")"; a single branch continues the chain, since
    /// thread-nested needs at least two (RFC 5256 §4).
    private func appendThread(_ node: ThreadNode, into out: inout [UInt8]) {
        out.append(ASCII.lparen)
        var current = node
        var first = true
        while true {
            for m in current.messages {
                if !first { out.append(ASCII.space) }
                appendNumber(m, into: &out)
                first = false
            }
            if current.children.count == 1, let only = current.children.first {
                current = only
                continue
            }
            if !current.children.isEmpty {
                if !first { out.append(ASCII.space) }
                for child in current.children { appendThread(child, into: &out) }
            }
            break
        }
        out.append(ASCII.rparen)
    }

    // MARK: - FETCH items

    /// Writes one FETCH item (`msg-att-dynamic` / `msg-att-static`, RFC 9051 §9) without the separator
    /// before it: for callers that write `* n FETCH (...)` themselves (see ``FetchResponseEncoder``).
    public func appendFetchValue(_ value: FetchValue, into out: inout [UInt8]) {
        func w(_ s: StaticString) { s.withUTF8Buffer { out.append(contentsOf: $0) } }
        switch value {
        case .uid(let n): w("UID "); Self.appendDecimal(UInt64(n), into: &out)
        case .flags(let flags): w("FLAGS "); appendFlagList(flags, into: &out)
        case .internalDate(let date): out.append(contentsOf: "INTERNALDATE \"\(date)\"".utf8)
        case .rfc822Size(let n): w("RFC822.SIZE "); Self.appendDecimal(n, into: &out)
        case .modSeq(let n): w("MODSEQ ("); Self.appendDecimal(n, into: &out); out.append(ASCII.rparen)
        case .envelope(let encoded): w("ENVELOPE "); out.append(contentsOf: encoded)
        case .bodyStructure(let encoded, let extensible):
            w(extensible ? "BODYSTRUCTURE " : "BODY ")
            out.append(contentsOf: encoded)
        case .bodySection(let section, let origin, let data):
            appendItemName(.bodySection(section, origin: origin), into: &out)
            w(" ")
            if let data { appendLiteral(data, into: &out) } else { w("NIL") }
        case .binary(let part, let origin, let data):
            appendItemName(.binary(part: part, origin: origin, literal8: false), into: &out)
            w(" ")
            if let data { appendLiteral(data, allowBinary: true, into: &out) } else { w("NIL") }
        case .binarySize(let part, let size):
            out.append(contentsOf: "BINARY.SIZE[\(part.map(String.init).joined(separator: "."))] \(size)".utf8)
        case .rfc822(let data): w("RFC822 "); appendBody(data, into: &out)
        case .rfc822Header(let data): w("RFC822.HEADER "); appendBody(data, into: &out)
        case .rfc822Text(let data): w("RFC822.TEXT "); appendBody(data, into: &out)
        }
    }

    private func appendBody(_ data: [UInt8]?, into out: inout [UInt8]) {
        if let data { appendLiteral(data, into: &out) } else { out.append(contentsOf: "NIL".utf8) }
    }

    func appendItemName(_ item: StreamedFetchItem, into out: inout [UInt8]) {
        func w(_ s: String) { out.append(contentsOf: s.utf8) }
        switch item {
        case .bodySection(let section, let origin):
            w("BODY[\(section.imapString)]")
            if let origin { w("<\(origin)>") }
        case .binary(let part, let origin, _):
            w("BINARY[\(part.map(String.init).joined(separator: "."))]")
            if let origin { w("<\(origin)>") }
        case .rfc822: w("RFC822")
        case .rfc822Header: w("RFC822.HEADER")
        case .rfc822Text: w("RFC822.TEXT")
        }
    }
}

/// Writes one `* n FETCH (...)` response piece by piece, so large bodies can be streamed: complete items
/// with ``append(_:into:)``, a body whose content the caller writes itself with
/// ``appendLiteralHeader(for:size:into:)``, then ``finish(into:)``.
///
/// ```swift
/// var out: [UInt8] = []
/// var fetch = FetchResponseEncoder(sequenceNumber: 7, encoder: encoder, into: &out)
/// fetch.append(.uid(42), into: &out)
/// fetch.appendLiteralHeader(for: .bodySection(.whole, origin: nil), size: fileSize, into: &out)
/// write(out); out.removeAll(); copy fileSize octets from the file
/// fetch.append(.flags([.seen]), into: &out)
/// fetch.finish(into: &out)   // ")\r\n"
/// ```
public struct FetchResponseEncoder: Sendable {
    private let encoder: ResponseEncoder
    private var items = 0

    /// Writes `* n FETCH (`.
    public init(sequenceNumber: UInt32, encoder: ResponseEncoder = ResponseEncoder(), into out: inout [UInt8]) {
        self.encoder = encoder
        out.append(ASCII.star)
        out.append(ASCII.space)
        ResponseEncoder.appendDecimal(UInt64(sequenceNumber), into: &out)
        (" FETCH (" as StaticString).withUTF8Buffer { out.append(contentsOf: $0) }
    }

    private mutating func separator(into out: inout [UInt8]) {
        if items > 0 { out.append(ASCII.space) }
        items += 1
    }

    /// Writes one complete item.
    public mutating func append(_ value: FetchValue, into out: inout [UInt8]) {
        separator(into: &out)
        encoder.appendFetchValue(value, into: &out)
    }

    /// Writes the separator and `name` (e.g. `"UID "`); the caller then writes the item's value itself,
    /// as ``ResponseEncoder/appendFetchValue(_:into:)`` would (a bulk FETCH writes numbers and cached
    /// renderings straight into the output this way).
    public mutating func appendItem(name: StaticString, into out: inout [UInt8]) {
        separator(into: &out)
        name.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    /// Writes `NAME[section]<origin> {size}` CRLF; the caller must then send exactly `size` octets.
    public mutating func appendLiteralHeader(for item: StreamedFetchItem, size: UInt64, into out: inout [UInt8]) {
        separator(into: &out)
        encoder.appendItemName(item, into: &out)
        out.append(ASCII.space)
        var binary = false
        if case .binary(_, _, let literal8) = item { binary = literal8 }
        out.append(contentsOf: ResponseEncoder.literalHeader(size: size, binary: binary))
    }

    /// Writes `)` CRLF.
    public func finish(into out: inout [UInt8]) {
        out.append(ASCII.rparen)
        out.append(ASCII.cr)
        out.append(ASCII.lf)
    }
}

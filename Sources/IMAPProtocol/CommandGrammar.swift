/// Recursive-descent grammar for one complete command (RFC 9051 §9 `command`), run by
/// ``IMAPCommandParser`` once the framer has assembled the command's lines and literal payloads.
struct CommandGrammar {
    var cursor: GrammarCursor
    /// Mailbox names are UTF-8 (IMAP4rev2 / UTF8=ACCEPT) instead of modified UTF-7.
    let utf8: Bool
    let limits: IMAPCommandParser.Limits

    init(_ bytes: [UInt8], utf8: Bool, limits: IMAPCommandParser.Limits) {
        cursor = GrammarCursor(bytes)
        self.utf8 = utf8
        self.limits = limits
    }

    /// tag = 1*<any ASTRING-CHAR except "+">
    mutating func tag() throws(GrammarError) -> String {
        let start = cursor.index
        while let b = cursor.peek(), ASCII.isTagChar(b) { cursor.index += 1 }
        guard cursor.index > start else { throw GrammarError("missing or invalid tag") }
        return String(decoding: cursor.bytes[start..<cursor.index], as: UTF8.self)
    }

    /// The tag at the start of `bytes` when it is well-formed and followed by SP (or the end), for error
    /// replies on commands that could not be parsed.
    static func extractTag<C: Collection>(_ bytes: C) -> String? where C.Element == UInt8 {
        var out: [UInt8] = []
        for b in bytes {
            if b == ASCII.space || b == ASCII.cr || b == ASCII.lf { break }
            guard ASCII.isTagChar(b), out.count < 256 else { return nil }
            out.append(b)
        }
        return out.isEmpty ? nil : String(decoding: out, as: UTF8.self)
    }

    /// command = tag SP (command-any / command-auth / command-nonauth / command-select) CRLF
    mutating func command() throws(GrammarError) -> TaggedCommand {
        let tag = try tag()
        try cursor.space()
        let command = try commandBody()
        try cursor.expectEnd()
        return TaggedCommand(tag: tag, command: command)
    }

    // MARK: - Shared productions

    /// mailbox = "INBOX" / astring, decoded per mode.
    mutating func mailbox() throws(GrammarError) -> MailboxName {
        MailboxName(try decodeMailboxText(try cursor.astring(), utf8: utf8))
    }

    private mutating func utf8AString(_ what: String) throws(GrammarError) -> String {
        try GrammarCursor.utf8(try cursor.astring(), what)
    }

    /// `"(" status-att *(SP status-att) ")"`
    private mutating func statusAttributes() throws(GrammarError) -> [StatusAttribute] {
        try cursor.expect(ASCII.lparen, "'('")
        var list: [StatusAttribute] = []
        repeat {
            let word = try cursor.keyword()
            guard let att = StatusAttribute(rawValue: word) else { throw GrammarError("unknown status item \(word)") }
            if !list.contains(att) { list.append(att) }
        } while cursor.consume(ASCII.space)
        try cursor.expect(ASCII.rparen, "')'")
        return list
    }

    // MARK: - Commands

    private mutating func commandBody() throws(GrammarError) -> Command {
        let name = try cursor.keyword()
        switch name {
        case "CAPABILITY": return .capability
        case "NOOP": return .noop
        case "LOGOUT": return .logout
        case "STARTTLS": return .startTLS
        case "CHECK": return .check
        case "CLOSE": return .close
        case "UNSELECT": return .unselect
        case "EXPUNGE": return .expunge
        case "IDLE": return .idle
        case "NAMESPACE": return .namespace
        case "ID": return try id()
        case "LOGIN":
            // login = "LOGIN" SP userid SP password
            try cursor.space()
            let user = try utf8AString("user name")
            try cursor.space()
            return .login(username: user, password: try utf8AString("password"))
        case "AUTHENTICATE": return try authenticate()
        case "ENABLE":
            // enable = "ENABLE" 1*(SP capability)
            var caps: [String] = []
            repeat {
                try cursor.space()
                caps.append(try cursor.keyword())
            } while cursor.peek() == ASCII.space
            return .enable(caps)
        case "SELECT", "EXAMINE":
            try cursor.space()
            let mailbox = try mailbox()
            let params = try selectParameters()
            return name == "SELECT" ? .select(mailbox, params) : .examine(mailbox, params)
        case "CREATE": return try create()
        case "DELETE": try cursor.space(); return .delete(try mailbox())
        case "RENAME":
            try cursor.space()
            let from = try mailbox()
            try cursor.space()
            return .rename(from: from, to: try mailbox())
        case "SUBSCRIBE": try cursor.space(); return .subscribe(try mailbox())
        case "UNSUBSCRIBE": try cursor.space(); return .unsubscribe(try mailbox())
        case "LIST": return .list(try list())
        case "LSUB":
            try cursor.space()
            let reference = try decodeMailboxText(try cursor.astring(), utf8: utf8)
            try cursor.space()
            return .lsub(reference: reference, pattern: try decodeMailboxText(try cursor.listMailbox(), utf8: utf8))
        case "STATUS":
            try cursor.space()
            let mailbox = try mailbox()
            try cursor.space()
            return .status(mailbox, try statusAttributes())
        case "COMPRESS":
            try cursor.space()
            return .compress(algorithm: try cursor.keyword())
        case "GETQUOTA":
            try cursor.space()
            return .getQuota(root: try utf8AString("quota root"))
        case "GETQUOTAROOT":
            try cursor.space()
            return .getQuotaRoot(try mailbox())
        case "SETQUOTA": return try setQuota()
        case "APPEND":
            // The framer hands APPEND over as events once its message literal starts; arriving here means
            // the line ended without one.
            throw GrammarError("APPEND needs a message literal")
        case "UID":
            try cursor.space()
            return try uidCommand()
        default:
            return try selectedCommand(name, uid: false)
        }
    }

    private mutating func uidCommand() throws(GrammarError) -> Command {
        let name = try cursor.keyword()
        if name == "EXPUNGE" {
            try cursor.space()
            return .uidExpunge(try cursor.sequenceSet())
        }
        guard ["COPY", "MOVE", "FETCH", "SEARCH", "STORE", "SORT", "THREAD"].contains(name) else {
            throw GrammarError("unknown UID command \(name)")
        }
        return try selectedCommand(name, uid: true)
    }

    private mutating func selectedCommand(_ name: String, uid: Bool) throws(GrammarError) -> Command {
        switch name {
        case "SEARCH": return .search(try search(), uid: uid)
        case "FETCH": return try fetch(uid: uid)
        case "STORE": return try store(uid: uid)
        case "COPY", "MOVE":
            try cursor.space()
            let set = try cursor.sequenceSet()
            try cursor.space()
            let mailbox = try mailbox()
            return name == "COPY" ? .copy(set, mailbox, uid: uid) : .move(set, mailbox, uid: uid)
        case "SORT": return .sort(try sort(), uid: uid)
        case "THREAD": return .thread(try thread(), uid: uid)
        default: throw GrammarError("unknown command \(name)")
        }
    }

    /// id = "ID" SP id-params-list; id-params-list = "(" *(string SP nstring) ")" / nil (RFC 2971 §4)
    private mutating func id() throws(GrammarError) -> Command {
        try cursor.space()
        if cursor.consumeKeyword("NIL") { return .id(nil) }
        try cursor.expect(ASCII.lparen, "'(' or NIL")
        var fields: [IDField] = []
        if !cursor.consume(ASCII.rparen) {
            repeat {
                // RFC 2971 §3.3: at most 30 pairs.
                guard fields.count < 30 else { throw GrammarError("too many ID fields") }
                let key = try GrammarCursor.utf8(try cursor.string(), "ID field")
                try cursor.space()
                let value = try cursor.nstring().map { v throws(GrammarError) in try GrammarCursor.utf8(v, "ID value") }
                fields.append(IDField(key, value))
            } while cursor.consume(ASCII.space)
            try cursor.expect(ASCII.rparen, "')'")
        }
        return .id(fields)
    }

    /// authenticate = "AUTHENTICATE" SP auth-type [SP (base64 / "=")]
    private mutating func authenticate() throws(GrammarError) -> Command {
        try cursor.space()
        let mechanism = try cursor.keyword()
        guard cursor.consume(ASCII.space) else { return .authenticate(mechanism: mechanism, initialResponse: nil) }
        if cursor.consume(ASCII.equals) {
            return .authenticate(mechanism: mechanism, initialResponse: .empty)
        }
        let start = cursor.index
        while let b = cursor.peek(), b != ASCII.space { cursor.index += 1 }
        guard cursor.index > start, let data = IMAPBase64.decode(cursor.bytes[start..<cursor.index]) else {
            throw GrammarError("invalid base64 initial response")
        }
        return .authenticate(mechanism: mechanism, initialResponse: .data(data))
    }

    /// select-params = SP "(" select-param *(SP select-param) ")"
    /// select-param  = "CONDSTORE" / "QRESYNC" SP "(" uidvalidity SP mod-sequence-value [SP known-uids]
    ///                 [SP seq-match-data] ")"   (RFC 7162 §7)
    private mutating func selectParameters() throws(GrammarError) -> SelectParameters {
        var params = SelectParameters()
        guard cursor.consume(ASCII.space) else { return params }
        try cursor.expect(ASCII.lparen, "'('")
        if cursor.consume(ASCII.rparen) { return params }
        repeat {
            let word = try cursor.keyword()
            switch word {
            case "CONDSTORE":
                params.condStore = true
            case "QRESYNC":
                try cursor.space()
                try cursor.expect(ASCII.lparen, "'('")
                let validity = try cursor.nzNumber()
                try cursor.space()
                var q = QResyncParameters(uidValidity: validity, modSeq: try cursor.nzNumber64())
                if cursor.consume(ASCII.space) {
                    if cursor.peek() != ASCII.lparen {
                        q.knownUIDs = try cursor.sequenceSet(allowSaved: false)
                        if cursor.consume(ASCII.space) { try sequenceMatch(&q) }
                    } else {
                        try sequenceMatch(&q)
                    }
                }
                try cursor.expect(ASCII.rparen, "')'")
                params.qresync = q
            default:
                throw GrammarError("unknown select parameter \(word)")
            }
        } while cursor.consume(ASCII.space)
        try cursor.expect(ASCII.rparen, "')'")
        return params
    }

    /// seq-match-data = "(" known-sequence-set SP known-uid-set ")"
    private mutating func sequenceMatch(_ q: inout QResyncParameters) throws(GrammarError) {
        try cursor.expect(ASCII.lparen, "'('")
        q.knownSequenceNumbers = try cursor.sequenceSet(allowSaved: false)
        try cursor.space()
        q.knownSequenceUIDs = try cursor.sequenceSet(allowSaved: false)
        try cursor.expect(ASCII.rparen, "')'")
    }

    /// create = "CREATE" SP mailbox [create-params]; create-param = "USE" SP "(" [use-attr *(SP use-attr)] ")"
    /// (RFC 4466 §2.2, RFC 6154 §6)
    private mutating func create() throws(GrammarError) -> Command {
        try cursor.space()
        let mailbox = try mailbox()
        var uses: [MailboxAttribute] = []
        if cursor.consume(ASCII.space) {
            try cursor.expect(ASCII.lparen, "'('")
            repeat {
                let word = try cursor.keyword()
                guard word == "USE" else { throw GrammarError("unknown CREATE parameter \(word)") }
                try cursor.space()
                try cursor.expect(ASCII.lparen, "'('")
                if !cursor.consume(ASCII.rparen) {
                    repeat {
                        let start = cursor.index
                        try cursor.expect(ASCII.backslash, "special-use attribute")
                        _ = try cursor.atom()
                        guard let attr = MailboxAttribute(String(decoding: cursor.bytes[start..<cursor.index], as: UTF8.self)) else {
                            throw GrammarError("invalid special-use attribute")
                        }
                        uses.append(attr)
                    } while cursor.consume(ASCII.space)
                    try cursor.expect(ASCII.rparen, "')'")
                }
            } while cursor.consume(ASCII.space)
            try cursor.expect(ASCII.rparen, "')'")
        }
        return .create(mailbox, specialUse: uses)
    }

    /// ```
    /// list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
    /// list-select-opts = "(" [list-select-opt *(SP list-select-opt)] ")"
    /// mbox-or-pat = list-mailbox / patterns;  patterns = "(" list-mailbox *(SP list-mailbox) ")"
    /// list-return-opts = "RETURN" SP "(" [return-option *(SP return-option)] ")"
    /// ```
    /// (RFC 9051 §9, RFC 5258 §6, RFC 5819 §6, RFC 6154 §6)
    private mutating func list() throws(GrammarError) -> ListCommand {
        var command = ListCommand(reference: "", patterns: [])
        try cursor.space()
        if cursor.consume(ASCII.lparen) {
            command.isExtended = true
            if !cursor.consume(ASCII.rparen) {
                repeat {
                    let word = try cursor.keyword()
                    guard let option = ListSelectionOption(rawValue: word) else {
                        throw GrammarError("unknown LIST selection option \(word)")
                    }
                    if !command.selectionOptions.contains(option) { command.selectionOptions.append(option) }
                } while cursor.consume(ASCII.space)
                try cursor.expect(ASCII.rparen, "')'")
            }
            // RFC 5258 §3.1: RECURSIVEMATCH alone is an error.
            if command.selectionOptions == [.recursiveMatch] {
                throw GrammarError("RECURSIVEMATCH needs another selection option")
            }
            try cursor.space()
        }
        command.reference = try decodeMailboxText(try cursor.astring(), utf8: utf8)
        try cursor.space()
        if cursor.consume(ASCII.lparen) {
            command.isExtended = true
            repeat {
                command.patterns.append(try decodeMailboxText(try cursor.listMailbox(), utf8: utf8))
            } while cursor.consume(ASCII.space)
            try cursor.expect(ASCII.rparen, "')'")
        } else {
            command.patterns.append(try decodeMailboxText(try cursor.listMailbox(), utf8: utf8))
        }
        if cursor.consume(ASCII.space) {
            command.isExtended = true
            try cursor.expectKeyword("RETURN")
            try cursor.space()
            try cursor.expect(ASCII.lparen, "'('")
            if !cursor.consume(ASCII.rparen) {
                repeat {
                    let word = try cursor.keyword()
                    switch word {
                    case "SUBSCRIBED": command.returnOptions.append(.subscribed)
                    case "CHILDREN": command.returnOptions.append(.children)
                    case "SPECIAL-USE": command.returnOptions.append(.specialUse)
                    case "STATUS":
                        try cursor.space()
                        command.returnOptions.append(.status(try statusAttributes()))
                    default: throw GrammarError("unknown LIST return option \(word)")
                    }
                } while cursor.consume(ASCII.space)
                try cursor.expect(ASCII.rparen, "')'")
            }
        }
        return command
    }

    /// setquota = "SETQUOTA" SP quota-root SP setquota-list;
    /// setquota-list = "(" [setquota-resource *(SP setquota-resource)] ")" (RFC 9208 §7)
    private mutating func setQuota() throws(GrammarError) -> Command {
        try cursor.space()
        let root = try utf8AString("quota root")
        try cursor.space()
        try cursor.expect(ASCII.lparen, "'('")
        var limits: [QuotaLimit] = []
        if !cursor.consume(ASCII.rparen) {
            repeat {
                let resource = try cursor.keyword()
                try cursor.space()
                limits.append(QuotaLimit(resource: resource, limit: try cursor.number64()))
            } while cursor.consume(ASCII.space)
            try cursor.expect(ASCII.rparen, "')'")
        }
        return .setQuota(root: root, limits: limits)
    }

    /// search = "SEARCH" [search-return-opts] SP search-program;
    /// search-program = ["CHARSET" SP charset SP] search-key *(SP search-key)
    private mutating func search() throws(GrammarError) -> SearchCommand {
        try cursor.space()
        var returnOptions: [SearchReturnOption]?
        if cursor.isKeywordNext("RETURN") {
            returnOptions = try searchReturnOptions()
            try cursor.space()
        }
        var charset: String?
        if cursor.consumeKeyword("CHARSET") {
            try cursor.space()
            charset = try self.charset()
            try cursor.space()
        }
        return SearchCommand(returnOptions: returnOptions, charset: charset, key: try searchKeys())
    }

    /// fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att /
    ///         "(" fetch-att *(SP fetch-att) ")") [fetch-modifiers]
    private mutating func fetch(uid: Bool) throws(GrammarError) -> Command {
        try cursor.space()
        let set = try cursor.sequenceSet()
        try cursor.space()
        var attributes = try fetchAttributes()
        var modifiers = FetchModifiers()
        if cursor.consume(ASCII.space) { modifiers = try fetchModifiers() }
        // RFC 7162 §3.2.6: VANISHED only with UID FETCH and CHANGEDSINCE.
        if modifiers.vanished && (!uid || modifiers.changedSince == nil) {
            throw GrammarError("VANISHED requires UID FETCH with CHANGEDSINCE")
        }
        // RFC 7162 §3.1.4.1: CHANGEDSINCE implies MODSEQ in the response.
        if modifiers.changedSince != nil && !attributes.contains(.modSeq) { attributes.append(.modSeq) }
        return .fetch(set, attributes, modifiers, uid: uid)
    }

    /// store = "STORE" SP sequence-set [store-modifiers] SP store-att-flags
    /// store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
    private mutating func store(uid: Bool) throws(GrammarError) -> Command {
        try cursor.space()
        let set = try cursor.sequenceSet()
        try cursor.space()
        var unchangedSince: UInt64?
        if cursor.consume(ASCII.lparen) {
            repeat {
                let word = try cursor.keyword()
                guard word == "UNCHANGEDSINCE" else { throw GrammarError("unknown STORE modifier \(word)") }
                try cursor.space()
                unchangedSince = try cursor.number64()
            } while cursor.consume(ASCII.space)
            try cursor.expect(ASCII.rparen, "')'")
            try cursor.space()
        }
        let operation: StoreCommand.Operation
        if cursor.consume(ASCII.plus) { operation = .add } else if cursor.consume(ASCII.minus) { operation = .remove } else {
            operation = .replace
        }
        let word = try cursor.keyword()
        guard word == "FLAGS" || word == "FLAGS.SILENT" else { throw GrammarError("expected FLAGS") }
        try cursor.space()
        var flags: [Flag] = []
        if cursor.peek() == ASCII.lparen {
            flags = try cursor.flagList()
        } else {
            repeat { flags.append(try cursor.flag()) } while cursor.consume(ASCII.space)
        }
        return .store(set, StoreCommand(operation: operation, silent: word == "FLAGS.SILENT", flags: flags,
                                        unchangedSince: unchangedSince), uid: uid)
    }

    /// sort = "SORT" [search-return-opts] SP sort-criteria SP search-criteria (RFC 5256 §4, RFC 5267 §5)
    private mutating func sort() throws(GrammarError) -> SortCommand {
        try cursor.space()
        var returnOptions: [SearchReturnOption]?
        if cursor.isKeywordNext("RETURN") {
            returnOptions = try searchReturnOptions()
            try cursor.space()
        }
        try cursor.expect(ASCII.lparen, "'('")
        var criteria: [SortCriterion] = []
        repeat {
            let reverse = cursor.consumeKeyword("REVERSE")
            if reverse { try cursor.space() }
            let word = try cursor.keyword()
            guard let key = SortKey(rawValue: word) else { throw GrammarError("unknown sort key \(word)") }
            criteria.append(SortCriterion(key, reverse: reverse))
        } while cursor.consume(ASCII.space)
        try cursor.expect(ASCII.rparen, "')'")
        try cursor.space()
        let charset = try self.charset()
        try cursor.space()
        return SortCommand(criteria: criteria, charset: charset, key: try searchKeys(), returnOptions: returnOptions)
    }

    /// thread = "THREAD" SP thread-alg SP search-criteria (RFC 5256 §4)
    private mutating func thread() throws(GrammarError) -> ThreadCommand {
        try cursor.space()
        let word = try cursor.keyword()
        let algorithm: ThreadAlgorithm
        switch word {
        case "ORDEREDSUBJECT": algorithm = .orderedSubject
        case "REFERENCES": algorithm = .references
        default: algorithm = .other(word)
        }
        try cursor.space()
        let charset = try self.charset()
        try cursor.space()
        return ThreadCommand(algorithm: algorithm, charset: charset, key: try searchKeys())
    }
}

extension GrammarCursor {
    /// True (without consuming) when `keyword` is next as a whole atom.
    mutating func isKeywordNext(_ keyword: String) -> Bool {
        let saved = index
        defer { index = saved }
        return consumeKeyword(keyword)
    }
}

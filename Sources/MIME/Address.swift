/// One mailbox of an address header (RFC 5322 §3.4 `mailbox`), in raw form for IMAP and decodable
/// for display.
///
/// `displayName` keeps RFC 2047 encoded words as they are (IMAP ENVELOPE sends them undecoded);
/// quotes and quoted-pair escapes are removed. `localPart` is as written, quotes included, so
/// `localPart@domain` is a usable address.
public struct MailAddress: Sendable, Hashable, Codable {
    public var displayName: [UInt8]?
    /// obs-route (RFC 5322 §4.4), e.g. `@relay1,@relay2`, sent as the IMAP `addr-adl`.
    public var route: [UInt8]?
    public var localPart: [UInt8]?
    public var domain: [UInt8]?

    public init(displayName: [UInt8]? = nil, route: [UInt8]? = nil, localPart: [UInt8]?, domain: [UInt8]?) {
        self.displayName = displayName
        self.route = route
        self.localPart = localPart
        self.domain = domain
    }

    /// The display name with encoded words decoded.
    public var decodedDisplayName: String? { displayName.map { EncodedWord.decode($0) } }

    /// `local@domain` (or just the local part when the domain is missing).
    public var address: String {
        let local = Charset.decodeGuessing(localPart ?? [])
        guard let domain, !domain.isEmpty else { return local }
        return local + "@" + Charset.decodeGuessing(domain)
    }
}

/// An element of an address list: a mailbox or a named group of mailboxes (RFC 5322 §3.4 `group`).
public enum AddressListItem: Sendable, Hashable, Codable {
    case mailbox(MailAddress)
    case group(name: [UInt8], members: [MailAddress])

    /// All mailboxes, groups flattened.
    public var mailboxes: [MailAddress] {
        switch self {
        case .mailbox(let m): return [m]
        case .group(_, let members): return members
        }
    }
}

/// Lenient RFC 5322 §3.4 address-list parser including the obsolete syntax of §4.4 (routes,
/// empty list elements, CFWS anywhere) and common breakage (missing domain, unquoted dots and
/// 8-bit bytes in display names, unterminated angle brackets, quotes or groups).
public enum AddressParser {
    /// Most mailboxes kept from one field, against hostile input.
    public static let maxAddresses = 10_000

    enum Token: Equatable {
        case atom([UInt8])
        case quoted(content: [UInt8], raw: [UInt8])
        case domainLiteral([UInt8])
        case special(UInt8)
        case comment([UInt8])
    }

    struct Lexeme {
        var token: Token
        var spaceBefore: Bool
    }

    /// Parses an (unfolded or raw) field value.
    public static func parse(_ value: [UInt8]) -> [AddressListItem] {
        let lex = tokenize(value)
        var items: [AddressListItem] = []
        var count = 0
        var group: (name: [UInt8], members: [MailAddress])? = nil
        var i = 0

        func emit(_ m: MailAddress) {
            guard count < maxAddresses else { return }
            count &+= 1
            if group != nil { group?.members.append(m) } else { items.append(.mailbox(m)) }
        }

        while i < lex.count, count < maxAddresses {
            // Collect a phrase / local-part run up to a structural special.
            var run: [Lexeme] = []
            var lastComment: [UInt8]? = nil
            while i < lex.count {
                let t = lex[i].token
                if case .special(let s) = t, s == ASCII.less || s == ASCII.colon || s == ASCII.semicolon
                    || s == ASCII.comma || s == ASCII.at {
                    break
                }
                if case .comment(let c) = t {
                    lastComment = c
                } else if case .special(let s) = t, s == ASCII.greater {
                    // Stray ">": ignore.
                } else {
                    run.append(lex[i])
                }
                i &+= 1
            }
            guard i < lex.count, case .special(let s) = lex[i].token else {
                if !run.isEmpty { emit(MailAddress(localPart: localPart(run), domain: nil)) }
                break
            }
            switch s {
            case ASCII.colon:
                i &+= 1
                if group == nil {
                    group = (phrase(run) ?? [], [])
                } else if !run.isEmpty {
                    emit(MailAddress(localPart: localPart(run), domain: nil))
                }
            case ASCII.semicolon:
                i &+= 1
                if !run.isEmpty { emit(MailAddress(localPart: localPart(run), domain: nil)) }
                if let g = group {
                    items.append(.group(name: g.name, members: g.members))
                    group = nil
                }
            case ASCII.comma:
                i &+= 1
                if !run.isEmpty { emit(MailAddress(localPart: localPart(run), domain: nil)) }
            case ASCII.less:
                i &+= 1
                var m = parseAngle(lex, &i)
                m.displayName = phrase(run)
                if m.displayName == nil, let c = lastComment ?? trailingComment(lex, i) { m.displayName = c }
                emit(m)
                skipToSeparator(lex, &i)
            case ASCII.at:
                i &+= 1
                let local = localPart(run)
                let domain = parseDomain(lex, &i, stopAtGreater: false)
                var m = MailAddress(localPart: local, domain: domain)
                // c-client / Dovecot practice: "addr (Full Name)" uses the comment as the name.
                if let c = trailingComment(lex, i) ?? lastComment, !c.isEmpty { m.displayName = c }
                emit(m)
                skipToSeparator(lex, &i)
            default:
                i &+= 1
            }
        }
        if let g = group { items.append(.group(name: g.name, members: g.members)) }
        return items
    }

    /// angle-addr = "<" [obs-route] addr-spec ">"; the "<" is consumed already.
    static func parseAngle(_ lex: [Lexeme], _ i: inout Int) -> MailAddress {
        var route: [UInt8]? = nil
        // obs-route = obs-domain-list ":"  where obs-domain-list = *(CFWS / ",") "@" domain *("," [CFWS] ["@" domain])
        if i < lex.count, lex[i].token == .special(ASCII.at) {
            var j = i
            var r: [UInt8] = []
            var sawColon = false
            while j < lex.count {
                let t = lex[j].token
                if t == .special(ASCII.colon) { sawColon = true; j &+= 1; break }
                if t == .special(ASCII.greater) { break }
                r.append(contentsOf: tokenText(t))
                j &+= 1
            }
            if sawColon {
                route = r
                i = j
            }
        }
        var run: [Lexeme] = []
        while i < lex.count {
            let t = lex[i].token
            if t == .special(ASCII.at) || t == .special(ASCII.greater) { break }
            if case .comment = t { i &+= 1; continue }
            // Lenient: a "," or ";" ends an unterminated angle address.
            if t == .special(ASCII.comma) || t == .special(ASCII.semicolon) { break }
            run.append(lex[i])
            i &+= 1
        }
        let local = localPart(run)
        var domain: [UInt8]? = nil
        if i < lex.count, lex[i].token == .special(ASCII.at) {
            i &+= 1
            domain = parseDomain(lex, &i, stopAtGreater: true)
        }
        if i < lex.count, lex[i].token == .special(ASCII.greater) { i &+= 1 }
        return MailAddress(route: route, localPart: local, domain: domain)
    }

    /// domain = dot-atom / domain-literal / obs-domain.
    static func parseDomain(_ lex: [Lexeme], _ i: inout Int, stopAtGreater: Bool) -> [UInt8]? {
        var out: [UInt8] = []
        while i < lex.count {
            let t = lex[i].token
            switch t {
            case .atom(let a): out.append(contentsOf: a)
            case .domainLiteral(let d): out.append(contentsOf: d)
            case .special(let s) where s == ASCII.dot: out.append(s)
            case .quoted(let c, _): out.append(contentsOf: c)
            default:
                return out.isEmpty ? nil : out
            }
            i &+= 1
            // An atom separated by whitespace from the domain starts something else.
            if i < lex.count, lex[i].spaceBefore, case .atom = lex[i].token, !stopAtGreater { break }
        }
        return out.isEmpty ? nil : out
    }

    static func skipToSeparator(_ lex: [Lexeme], _ i: inout Int) {
        while i < lex.count {
            let t = lex[i].token
            if t == .special(ASCII.comma) { i &+= 1; return }
            if t == .special(ASCII.semicolon) { return }
            i &+= 1
        }
    }

    static func trailingComment(_ lex: [Lexeme], _ i: Int) -> [UInt8]? {
        var j = i
        while j < lex.count {
            if case .comment(let c) = lex[j].token {
                let t = c.trimmingWhitespace
                if !t.isEmpty { return t }
                j &+= 1
                continue
            }
            return nil
        }
        return nil
    }

    /// A display phrase: words separated by single spaces, quoted strings unquoted.
    static func phrase(_ run: [Lexeme]) -> [UInt8]? {
        var out: [UInt8] = []
        for l in run {
            let text: [UInt8]
            switch l.token {
            case .atom(let a): text = a
            case .quoted(let c, _): text = c
            case .special(let s): text = [s]
            case .domainLiteral(let d): text = d
            case .comment: continue
            }
            if l.spaceBefore, !out.isEmpty { out.append(ASCII.space) }
            out.append(contentsOf: text)
        }
        return out.isEmpty ? nil : out
    }

    /// A local part: words joined without spaces, quoted strings kept quoted.
    static func localPart(_ run: [Lexeme]) -> [UInt8]? {
        var out: [UInt8] = []
        for l in run {
            switch l.token {
            case .atom(let a): out.append(contentsOf: a)
            case .quoted(_, let raw): out.append(contentsOf: raw)
            case .special(let s): out.append(s)
            case .domainLiteral(let d): out.append(contentsOf: d)
            case .comment: continue
            }
        }
        return out.isEmpty ? nil : out
    }

    static func tokenText(_ t: Token) -> [UInt8] {
        switch t {
        case .atom(let a): return a
        case .quoted(_, let raw): return raw
        case .special(let s): return [s]
        case .domainLiteral(let d): return d
        case .comment: return []
        }
    }

    static func tokenize(_ v: [UInt8]) -> [Lexeme] {
        var out: [Lexeme] = []
        var i = 0
        var space = false
        while i < v.count {
            let b = v[i]
            if ASCII.isWSP(b) || b == ASCII.cr || b == ASCII.lf {
                space = true
                i &+= 1
                continue
            }
            switch b {
            case ASCII.dquote:
                var s = StructuredScanner(v)
                s.pos = i
                let content = s.quotedString()
                out.append(Lexeme(token: .quoted(content: content, raw: Array(v[i..<s.pos])), spaceBefore: space))
                i = s.pos
            case ASCII.lparen:
                var s = StructuredScanner(v)
                s.pos = i
                let content = s.skipComment()
                out.append(Lexeme(token: .comment(content), spaceBefore: space))
                i = s.pos
            case ASCII.lbracket:
                let start = i
                while i < v.count, v[i] != ASCII.rbracket { i &+= 1 }
                if i < v.count { i &+= 1 }
                out.append(Lexeme(token: .domainLiteral(Array(v[start..<i])), spaceBefore: space))
            case ASCII.less, ASCII.greater, ASCII.at, ASCII.comma, ASCII.semicolon, ASCII.colon, ASCII.dot,
                 ASCII.rbracket, ASCII.rparen, ASCII.backslash:
                out.append(Lexeme(token: .special(b), spaceBefore: space))
                i &+= 1
            default:
                let start = i
                while i < v.count {
                    let c = v[i]
                    if ASCII.isWSP(c) || c == ASCII.cr || c == ASCII.lf || c == ASCII.dquote || c == ASCII.lparen
                        || c == ASCII.lbracket || c == ASCII.less || c == ASCII.greater || c == ASCII.at
                        || c == ASCII.comma || c == ASCII.semicolon || c == ASCII.colon || c == ASCII.dot
                        || c == ASCII.rbracket || c == ASCII.rparen || c == ASCII.backslash {
                        break
                    }
                    i &+= 1
                }
                out.append(Lexeme(token: .atom(Array(v[start..<i])), spaceBefore: space))
            }
            space = false
        }
        return out
    }
}

extension HeaderBlock {
    /// Mailboxes and groups of the first field named `name` (e.g. "From", "To").
    public func addresses(_ name: String, in buffer: UnsafeRawBufferPointer) -> [AddressListItem] {
        guard let raw = rawValue(name, in: buffer) else { return [] }
        return AddressParser.parse(raw)
    }
}

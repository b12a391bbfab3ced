import Testing
@testable import IMAPProtocol

/// A client-side writer for commands, test-only: generated commands are written, parsed back, and must
/// come out equal (parse ∘ write = identity), whole and split at every byte.
struct CommandWriter {
    let encoder = ResponseEncoder()
    var out: [UInt8] = []

    mutating func w(_ s: String) { out.append(contentsOf: s.utf8) }
    mutating func astring(_ s: String) { encoder.appendAString(Array(s.utf8), into: &out) }
    mutating func string(_ s: String) { encoder.appendString(Array(s.utf8), into: &out) }
    mutating func mailbox(_ m: MailboxName) { encoder.appendMailbox(m, into: &out) }

    mutating func seq(_ s: SequenceSet) {
        switch s {
        case .lastSearchResult: w("$")
        case .ranges(let ranges):
            func n(_ x: SequenceNumber) -> String { if case .number(let v) = x { return "\(v)" } else { return "*" } }
            w(ranges.map { $0.first == $0.last ? n($0.first) : "\(n($0.first)):\(n($0.last))" }.joined(separator: ","))
        }
    }

    mutating func key(_ k: SearchKey, top: Bool = false) {
        switch k {
        case .and(let keys):
            if !top { w("(") }
            for (i, x) in keys.enumerated() { if i > 0 { w(" ") }; key(x) }
            if !top { w(")") }
        case .all: w("ALL")
        case .seen: w("SEEN")
        case .unseen: w("UNSEEN")
        case .flagged: w("FLAGGED")
        case .deleted: w("DELETED")
        case .keyword(let f): w("KEYWORD \(f.name)")
        case .subject(let s): w("SUBJECT "); astring(s)
        case .body(let s): w("BODY "); astring(s)
        case .header(let f, let v): w("HEADER "); astring(f); w(" "); astring(v)
        case .since(let d): w("SINCE \(d)")
        case .sentBefore(let d): w("SENTBEFORE \"\(d)\"")
        case .larger(let n): w("LARGER \(n)")
        case .uid(let s): w("UID "); seq(s)
        case .sequenceNumbers(let s): seq(s)
        case .modSeq(let n, _): w("MODSEQ \(n)")
        case .younger(let n): w("YOUNGER \(n)")
        case .not(let x): w("NOT "); key(x)
        case .or(let a, let b): w("OR "); key(a); w(" "); key(b)
        default: Issue.record("writer lacks \(k)")
        }
    }

    mutating func section(_ s: SectionSpec) { w("[\(s.imapString)]") }

    mutating func fetchAttribute(_ a: FetchAttribute) {
        switch a {
        case .envelope: w("ENVELOPE")
        case .flags: w("FLAGS")
        case .internalDate: w("INTERNALDATE")
        case .uid: w("UID")
        case .rfc822Size: w("RFC822.SIZE")
        case .rfc822: w("RFC822")
        case .rfc822Header: w("RFC822.HEADER")
        case .rfc822Text: w("RFC822.TEXT")
        case .modSeq: w("MODSEQ")
        case .bodyStructure(let ext): w(ext ? "BODYSTRUCTURE" : "BODY")
        case .bodySection(let s, let p, let peek):
            w(peek ? "BODY.PEEK" : "BODY"); section(s)
            if let p { w("<\(p.offset).\(p.length)>") }
        case .binary(let part, let p, let peek):
            w(peek ? "BINARY.PEEK" : "BINARY"); w("[\(part.map(String.init).joined(separator: "."))]")
            if let p { w("<\(p.offset).\(p.length)>") }
        case .binarySize(let part): w("BINARY.SIZE[\(part.map(String.init).joined(separator: "."))]")
        }
    }

    mutating func write(_ t: TaggedCommand) -> [UInt8] {
        out = []
        w(t.tag + " ")
        switch t.command {
        case .login(let u, let p): w("LOGIN "); astring(u); w(" "); astring(p)
        case .select(let m, let p), .examine(let m, let p):
            w(t.command.name + " "); mailbox(m)
            if p.condStore { w(" (CONDSTORE)") }
        case .create(let m, let uses):
            w("CREATE "); mailbox(m)
            if !uses.isEmpty { w(" (USE (" + uses.map(\.name).joined(separator: " ") + "))") }
        case .rename(let a, let b): w("RENAME "); mailbox(a); w(" "); mailbox(b)
        case .status(let m, let atts): w("STATUS "); mailbox(m); w(" (" + atts.map(\.rawValue).joined(separator: " ") + ")")
        case .copy(let s, let m, let uid), .move(let s, let m, let uid):
            w(t.command.name + " "); seq(s); w(" "); mailbox(m); _ = uid
        case .uidExpunge(let s): w("UID EXPUNGE "); seq(s)
        case .store(let s, let st, _):
            w(t.command.name + " "); seq(s)
            if let u = st.unchangedSince { w(" (UNCHANGEDSINCE \(u))") }
            w(st.operation == .add ? " +" : st.operation == .remove ? " -" : " ")
            w(st.silent ? "FLAGS.SILENT (" : "FLAGS (")
            w(st.flags.map(\.name).joined(separator: " ") + ")")
        case .fetch(let s, let atts, let mods, _):
            w(t.command.name + " "); seq(s); w(" (")
            for (i, a) in atts.enumerated() { if i > 0 { w(" ") }; fetchAttribute(a) }
            w(")")
            if let c = mods.changedSince { w(" (CHANGEDSINCE \(c)\(mods.vanished ? " VANISHED" : ""))") }
        case .search(let s, _):
            w(t.command.name)
            if let r = s.returnOptions { w(" RETURN (" + r.map(\.rawValue).joined(separator: " ") + ")") }
            if let c = s.charset { w(" CHARSET \(c)") }
            w(" "); key(s.key, top: true)
        case .sort(let s, _):
            w(t.command.name + " (")
            w(s.criteria.map { ($0.reverse ? "REVERSE " : "") + $0.key.rawValue }.joined(separator: " "))
            w(") \(s.charset) "); key(s.key, top: true)
        case .list(let l):
            w("LIST ")
            if !l.selectionOptions.isEmpty { w("(" + l.selectionOptions.map(\.rawValue).joined(separator: " ") + ") ") }
            string(ModifiedUTF7.encode(l.reference)); w(" ")
            if l.patterns.count == 1 { string(ModifiedUTF7.encode(l.patterns[0])) } else {
                w("("); for (i, p) in l.patterns.enumerated() { if i > 0 { w(" ") }; string(ModifiedUTF7.encode(p)) }; w(")")
            }
        case .id(let fields):
            w("ID (")
            for (i, f) in (fields ?? []).enumerated() {
                if i > 0 { w(" ") }
                string(f.name); w(" ")
                encoder.appendNString(f.value.map { Array($0.utf8) }, into: &out)
            }
            w(")")
        default:
            w(t.command.name)
        }
        w("\r\n")
        return out
    }
}

@Suite("Round trips: parse(write(command)) == command over generated commands")
struct RoundTripTests {
    struct Generator {
        var rng: SplitMix64
        mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        mutating func pick<T>(_ xs: [T]) -> T { xs[int(xs.count)] }

        mutating func text() -> String {
            pick(["x", "hello world", "quote\"and\\backslash", "Grüße", "日本語", "NIL", "multi\r\nline", "a]b", "%*", "", "{5}"])
        }
        mutating func mailbox() -> MailboxName {
            MailboxName(pick(["INBOX", "inbox", "Sent Items", "台北/日本語", "A&B", "a\"b", "Archive/2024", "~peter"]))
        }
        mutating func number() -> UInt32 { pick([1, 2, 7, 100, 4_294_967_295, UInt32(1 + int(5000))]) }
        mutating func seqNumber() -> SequenceNumber { int(5) == 0 ? .last : .number(number()) }
        mutating func seq() -> SequenceSet {
            if int(8) == 0 { return .lastSearchResult }
            return .ranges((0...int(3)).map { _ in int(2) == 0 ? SequenceRange(seqNumber()) : SequenceRange(seqNumber(), seqNumber()) })
        }
        mutating func date() -> IMAPDate { IMAPDate(year: 1990 + int(40), month: 1 + int(12), day: 1 + int(28))! }
        mutating func key(depth: Int) -> SearchKey {
            let leaf = depth > 3 || int(3) == 0
            if !leaf {
                switch int(3) {
                case 0: return .not(key(depth: depth + 1))
                case 1: return .or(key(depth: depth + 1), key(depth: depth + 1))
                default: return .and((0...int(2) + 1).map { _ in key(depth: depth + 1) })
                }
            }
            switch int(14) {
            case 0: return .all
            case 1: return .seen
            case 2: return .unseen
            case 3: return .keyword(pick([Flag("$Junk")!, Flag("NonJunk")!]))
            case 4: return .subject(text())
            case 5: return .body(text())
            case 6: return .header(field: pick(["Message-ID", "X-Foo", ""]), value: text())
            case 7: return .since(date())
            case 8: return .sentBefore(date())
            case 9: return .larger(UInt64(int(1 << 20)))
            case 10: return .uid(seq())
            case 11: return .sequenceNumbers(seq())
            case 12: return .modSeq(UInt64(1 + int(1 << 30)), entry: nil)
            default: return .younger(UInt32(1 + int(100_000)))
            }
        }
        mutating func section() -> SectionSpec {
            let part: [UInt32] = int(2) == 0 ? [] : (0...int(3)).map { _ in UInt32(1 + int(9)) }
            var texts: [SectionText?] = [nil, .header, .text, .headerFields(["FROM", "X-A"]), .headerFieldsNot(["DATE"])]
            if !part.isEmpty { texts.append(.mime) }
            return SectionSpec(part: part, text: pick(texts))
        }
        mutating func fetchAttribute() -> FetchAttribute {
            let partial: Partial? = int(3) == 0 ? Partial(offset: UInt64(int(1000)), length: UInt64(1 + int(1000))) : nil
            switch int(10) {
            case 0: return .bodySection(section(), partial: partial, peek: int(2) == 0)
            case 1: return .binary(part: (0..<int(3)).map { _ in UInt32(1 + int(9)) }, partial: partial, peek: int(2) == 0)
            case 2: return .binarySize(part: [UInt32(1 + int(9))])
            default: return pick([.envelope, .flags, .internalDate, .uid, .rfc822Size, .rfc822, .rfc822Header, .rfc822Text,
                                  .modSeq, .bodyStructure(extensible: true), .bodyStructure(extensible: false)])
            }
        }
        mutating func command() -> Command {
            let uid = int(2) == 0
            switch int(14) {
            case 0: return .login(username: text(), password: text())
            case 1: return .select(mailbox(), SelectParameters(condStore: int(2) == 0))
            case 2: return .create(mailbox(), specialUse: int(2) == 0 ? [] : [pick(MailboxAttribute.specialUse)])
            case 3: return .rename(from: mailbox(), to: mailbox())
            case 4: return .status(mailbox(), Array(Set((0...int(4)).map { _ in pick(StatusAttribute.allCases) })).sorted { $0.rawValue < $1.rawValue })
            case 5: return .copy(seq(), mailbox(), uid: uid)
            case 6: return .move(seq(), mailbox(), uid: uid)
            case 7: return .uidExpunge(seq())
            case 8:
                return .store(seq(), StoreCommand(operation: pick([.add, .remove, .replace]), silent: int(2) == 0,
                                                  flags: Array(Set((0..<int(3)).map { _ in pick([Flag.seen, .deleted, .draft, Flag("$Label1")!]) })).sorted { $0.name < $1.name },
                                                  unchangedSince: int(2) == 0 ? nil : UInt64(int(1 << 40))), uid: uid)
            case 9:
                var atts = (0...int(4)).map { _ in fetchAttribute() }
                var mods = FetchModifiers()
                if int(3) == 0 {
                    mods.changedSince = UInt64(1 + int(1 << 30))
                    mods.vanished = uid && int(2) == 0
                    if !atts.contains(.modSeq) { atts.append(.modSeq) }
                }
                return .fetch(seq(), atts, mods, uid: uid)
            case 10:
                let options: [SearchReturnOption]? = int(2) == 0 ? nil : Array(SearchReturnOption.allCases.prefix(int(5)))
                return .search(SearchCommand(returnOptions: options, charset: pick([nil, "UTF-8", "US-ASCII"]), key: key(depth: 0)), uid: uid)
            case 11:
                return .sort(SortCommand(criteria: [SortCriterion(pick(SortKey.allCases), reverse: int(2) == 0)], charset: "UTF-8", key: key(depth: 0)), uid: uid)
            case 12:
                return .list(ListCommand(selectionOptions: int(2) == 0 ? [] : [.subscribed], reference: pick(["", "Archive/"]),
                                         patterns: int(2) == 0 ? ["*"] : ["INBOX", "台北/%"], isExtended: false))
            default:
                return .id([IDField("name", text()), IDField("version", int(2) == 0 ? nil : text())])
            }
        }
    }

    @Test("generated commands survive write → parse, whole and byte by byte", arguments: [1, 2, 3, 4])
    func generated(seed: UInt64) {
        var generator = Generator(rng: SplitMix64(seed: seed))
        var writer = CommandWriter()
        for i in 0..<250 {
            var command = generator.command()
            // The parser marks LIST with selection options or several patterns as extended.
            if case .list(var l) = command {
                l.isExtended = !l.selectionOptions.isEmpty || l.patterns.count > 1
                command = .list(l)
            }
            // A top-level AND of one key is written as that key.
            let tagged = TaggedCommand(tag: "t\(i)", command: command)
            let wire = writer.write(tagged)
            let parsed = events(wire).filter { $0 != .continuationRequired }
            #expect(parsed == [.command(normalized(tagged))], "\(String(decoding: wire, as: UTF8.self))")
            if i % 10 == 0 {
                #expect(events(wire, chunkSize: 1) == events(wire))
            }
        }
    }

    /// Nested single-element ANDs collapse when parsed; everything else is kept as generated.
    func normalized(_ t: TaggedCommand) -> TaggedCommand {
        func n(_ k: SearchKey) -> SearchKey {
            switch k {
            case .and(let ks): return ks.count == 1 ? n(ks[0]) : .and(ks.map(n))
            case .not(let x): return .not(n(x))
            case .or(let a, let b): return .or(n(a), n(b))
            default: return k
            }
        }
        var t = t
        switch t.command {
        case .search(var s, let uid): s.key = n(s.key); t.command = .search(s, uid: uid)
        case .sort(var s, let uid): s.key = n(s.key); t.command = .sort(s, uid: uid)
        default: break
        }
        return t
    }
}

import Foundation
import IMAPProtocol
import MIME
import MailStore

/// What SORT and THREAD compare, read from one message's header (RFC 5256).
struct SortableMessage {
    var index: Int
    var uid: UID
    var internalDate: Int64
    var size: Int64
    /// Date header in UTC, else the internal date (RFC 5256 §2.2).
    var sentDate: Int64
    var from: String
    var to: String
    var cc: String
    var subject: BaseSubject
    var messageID: String?
    /// References, else the first In-Reply-To id (RFC 5256 §4 step 1).
    var references: [String]

    init(index: Int, record: MessageRecord, message: MappedMessage?) {
        self.index = index
        uid = record.uid
        internalDate = Int64(record.internalDate.timeIntervalSince1970)
        size = record.size
        guard let message else {
            sentDate = internalDate
            from = ""; to = ""; cc = ""
            subject = BaseSubject(nil)
            references = []
            return
        }
        let buffer = message.buffer
        let header = HeaderBlock.parse(buffer, in: 0..<message.count)
        let envelope = Envelope(header: header, in: buffer)
        sentDate = envelope.date.flatMap(MessageDate.parse).map(\.secondsSince1970) ?? internalDate
        // The addr-mailbox (local part) of the first address, compared case-insensitively (RFC 5256 §3).
        func first(_ list: [AddressListItem]) -> String {
            list.lazy.flatMap(\.mailboxes).first?.localPart.map { String(decoding: $0, as: UTF8.self).lowercased() } ?? ""
        }
        from = first(envelope.from)
        to = first(envelope.to)
        cc = first(envelope.cc)
        subject = BaseSubject(envelope.subject)
        messageID = envelope.messageID.flatMap { Self.messageIDs($0).first }
        var refs = header.rawValue("References", in: buffer).map(Self.messageIDs) ?? []
        if refs.isEmpty, let reply = envelope.inReplyTo.flatMap({ Self.messageIDs($0).first }) { refs = [reply] }
        references = refs
    }

    /// The `<...>` ids in a header value, at most 1,000 (a hostile References cannot grow the tree without bound).
    static func messageIDs(_ value: [UInt8]) -> [String] {
        var out: [String] = []
        var start: Int?
        for (i, byte) in value.enumerated() {
            if byte == UInt8(ascii: "<") {
                start = i
            } else if byte == UInt8(ascii: ">"), let s = start {
                if i > s + 1 { out.append(String(decoding: value[s...i], as: UTF8.self)) }
                start = nil
                if out.count >= 1_000 { break }
            }
        }
        return out
    }
}

extension IMAPSession {
    /// The matching messages with what SORT/THREAD compare.
    private func sortable(_ key: SearchKey, box: SelectedMailbox, mail: any IMAPAccountStore) async throws -> [SortableMessage] {
        let (found, loaded) = try await matchingIndices(key, box: box, in: mail, usesModSeq: Self.mentionsModSeq(key))
        var records = loaded
        if records.isEmpty, !found.isEmpty {
            let ranges = NumberSet(found.map { box.uid(at: $0) }).ranges
            for r in try await mail.messages(mailboxID: box.id, uids: ranges) { records[r.uid] = r }
        }
        var out: [SortableMessage] = []
        out.reserveCapacity(found.count)
        for index in found {
            guard let record = records[box.uid(at: index)] else { continue }
            let message = try? MappedMessage(path: mail.blobFilePath(record.blobID))
            out.append(SortableMessage(index: index, record: record, message: message))
        }
        return out
    }

    private static func compare(_ a: String, _ b: String) -> Int {
        if a == b { return 0 }
        return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) ? -1 : 1
    }

    private static func compare<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : (a > b ? 1 : 0) }

    /// SORT / UID SORT (RFC 5256 §3): ties are broken by sequence number.
    func sort(_ tag: String, _ command: SortCommand, uid: Bool) async throws -> Outcome {
        guard let box = selected else { return bad(tag, "No mailbox selected") }
        let mail = try requireMail()
        if command.returnOptions != nil { return bad(tag, code: .cannot, "SORT RETURN (ESORT) is not supported") }
        let messages = try await sortable(command.key, box: box, mail: mail)
        let sorted = messages.sorted { a, b in
            for criterion in command.criteria {
                var order: Int
                switch criterion.key {
                case .arrival: order = Self.compare(a.internalDate, b.internalDate)
                case .date: order = Self.compare(a.sentDate, b.sentDate)
                case .size: order = Self.compare(a.size, b.size)
                case .from, .displayFrom: order = Self.compare(a.from, b.from)
                case .to, .displayTo: order = Self.compare(a.to, b.to)
                case .cc: order = Self.compare(a.cc, b.cc)
                case .subject: order = Self.compare(a.subject.text.lowercased(), b.subject.text.lowercased())
                }
                if criterion.reverse { order = -order }
                if order != 0 { return order < 0 }
            }
            return a.index < b.index
        }
        untagged(.sort(sorted.map { uid ? $0.uid : UInt32($0.index + 1) }, modSeq: nil))
        return try await complete(tag, .sort(command, uid: uid))
    }

    /// THREAD / UID THREAD (RFC 5256 §3 ORDEREDSUBJECT, §4 REFERENCES).
    func thread(_ tag: String, _ command: ThreadCommand, uid: Bool) async throws -> Outcome {
        guard let box = selected else { return bad(tag, "No mailbox selected") }
        let mail = try requireMail()
        let threads: [ThreadNode]
        switch command.algorithm {
        case .orderedSubject:
            threads = Self.orderedSubjectThreads(try await sortable(command.key, box: box, mail: mail), uid: uid)
        case .references:
            var builder = ReferencesThreader(try await sortable(command.key, box: box, mail: mail))
            threads = builder.threads(uid: uid)
        case .other(let name):
            return bad(tag, code: .cannot, "Unsupported threading algorithm \(name)")
        }
        untagged(.thread(threads))
        return try await complete(tag, .thread(command, uid: uid))
    }

    /// ORDEREDSUBJECT: messages grouped by base subject; in each group, the first by sent date is the
    /// parent of all the others; groups ordered by their first message's date.
    static func orderedSubjectThreads(_ messages: [SortableMessage], uid: Bool) -> [ThreadNode] {
        func number(_ m: SortableMessage) -> UInt32 { uid ? m.uid : UInt32(m.index + 1) }
        let sorted = messages.sorted { a, b in
            let s = compare(a.subject.text.lowercased(), b.subject.text.lowercased())
            if s != 0 { return s < 0 }
            if a.sentDate != b.sentDate { return a.sentDate < b.sentDate }
            return a.index < b.index
        }
        var groups: [[SortableMessage]] = []
        for m in sorted {
            if let last = groups.last?.first, last.subject.text.lowercased() == m.subject.text.lowercased() {
                groups[groups.count - 1].append(m)
            } else {
                groups.append([m])
            }
        }
        groups.sort { a, b in
            a[0].sentDate != b[0].sentDate ? a[0].sentDate < b[0].sentDate : a[0].index < b[0].index
        }
        return groups.map { group in
            ThreadNode([number(group[0])], children: group.dropFirst().map { ThreadNode([number($0)]) })
        }
    }
}

/// The REFERENCES threading algorithm (RFC 5256 §4, after Jamie Zawinski's), over containers kept in an
/// array and linked by index.
struct ReferencesThreader {
    struct Container {
        var message: Int?
        var parent: Int?
        var children: [Int] = []
    }

    private let messages: [SortableMessage]
    private var containers: [Container] = []
    private var byID: [String: Int] = [:]

    init(_ messages: [SortableMessage]) {
        self.messages = messages.sorted { $0.index < $1.index }
    }

    private mutating func container(_ id: String) -> Int {
        if let c = byID[id] { return c }
        containers.append(Container())
        byID[id] = containers.count - 1
        return containers.count - 1
    }

    /// Whether `a` is `b` or one of its ancestors.
    private func isAncestor(_ a: Int, of b: Int) -> Bool {
        var current: Int? = b
        var steps = 0
        while let c = current, steps <= containers.count {
            if c == a { return true }
            current = containers[c].parent
            steps += 1
        }
        return false
    }

    private mutating func link(_ child: Int, to parent: Int) {
        if let old = containers[child].parent { containers[old].children.removeAll { $0 == child } }
        containers[child].parent = parent
        containers[parent].children.append(child)
    }

    private mutating func unlink(_ child: Int) {
        if let old = containers[child].parent { containers[old].children.removeAll { $0 == child } }
        containers[child].parent = nil
    }

    private func date(_ c: Int) -> (Int64, Int) {
        if let m = containers[c].message { return (messages[m].sentDate, messages[m].index) }
        if let first = containers[c].children.first { return date(first) }
        return (Int64.max, Int.max)
    }

    private func subject(_ c: Int) -> BaseSubject? {
        if let m = containers[c].message { return messages[m].subject }
        return containers[c].children.first.flatMap { containers[$0].message.map { messages[$0].subject } }
    }

    private mutating func sortChildren(_ c: Int) {
        for child in containers[c].children { sortChildren(child) }
        var children = containers[c].children
        children.sort { date($0) < date($1) }
        containers[c].children = children
    }

    /// Step 3: dummies without children go; a dummy's children take its place (at the root only when it
    /// has just one).
    private mutating func prune(_ list: [Int], root: Bool) -> [Int] {
        var out: [Int] = []
        for c in list {
            containers[c].children = prune(containers[c].children, root: false)
            for child in containers[c].children { containers[child].parent = c }
            if containers[c].message == nil {
                if containers[c].children.isEmpty { continue }
                if !root || containers[c].children.count == 1 {
                    out.append(contentsOf: containers[c].children)
                    continue
                }
            }
            out.append(c)
        }
        return out
    }

    mutating func threads(uid: Bool) -> [ThreadNode] {
        // Step 1: containers by Message-ID; missing or duplicate ids get a unique one.
        var own: [Int] = []
        for (m, message) in messages.enumerated() {
            var id = message.messageID ?? ""
            if id.isEmpty || byID[id].map({ containers[$0].message != nil }) == true { id = "\u{0}unique-\(m)" }
            let c = container(id)
            containers[c].message = m
            own.append(c)
            // 1A: the references linked in order, without changing existing parents or making loops.
            var previous: Int?
            for ref in message.references {
                let r = container(ref)
                if let p = previous, containers[r].parent == nil, !isAncestor(r, of: p) { link(r, to: p) }
                previous = r
            }
            // 1B: the message becomes a child of its last reference (replacing an older link), else a root.
            if let p = previous, !isAncestor(c, of: p) {
                link(c, to: p)
            } else if previous == nil {
                unlink(c)
            }
        }
        // Steps 2-4: the root set, pruned and ordered by date.
        var roots = prune((0..<containers.count).filter { containers[$0].parent == nil }, root: true)
        for r in roots {
            containers[r].parent = nil
            sortChildren(r)
        }
        roots.sort { date($0) < date($1) }
        // Step 5: roots with the same base subject are gathered.
        var table: [String: Int] = [:]
        for r in roots {
            guard let s = subject(r), !s.text.isEmpty else { continue }
            let key = s.text.lowercased()
            guard let existing = table[key] else { table[key] = r; continue }
            let isDummy = containers[r].message == nil, existingIsDummy = containers[existing].message == nil
            if (isDummy && !existingIsDummy)
                || (!existingIsDummy && (subject(existing)?.isReplyOrForward ?? false) && !isDummy && !s.isReplyOrForward) {
                table[key] = r
            }
        }
        var merged: [Int] = []
        var replaced: [Int: Int] = [:]
        for r in roots {
            guard let s = subject(r), !s.text.isEmpty, var target = table[s.text.lowercased()], target != r else {
                // The table's own container (or its new dummy parent), or a root without a subject.
                merged.append(replaced[r] ?? r)
                continue
            }
            target = replaced[target] ?? target
            let isDummy = containers[r].message == nil, targetIsDummy = containers[target].message == nil
            if isDummy && targetIsDummy {
                for child in containers[r].children { link(child, to: target) }
            } else if targetIsDummy {
                link(r, to: target)
            } else if s.isReplyOrForward && !(subject(target)?.isReplyOrForward ?? false) {
                link(r, to: target)
            } else {
                containers.append(Container())
                let dummy = containers.count - 1
                link(target, to: dummy)
                link(r, to: dummy)
                replaced[target] = dummy
                if let i = merged.firstIndex(of: target) { merged[i] = dummy }
            }
        }
        // Step 6: siblings by date.
        for r in merged { sortChildren(r) }
        return merged.map { node($0, uid: uid) }
    }

    private func node(_ c: Int, uid: Bool) -> ThreadNode {
        let numbers = containers[c].message.map { m in [uid ? messages[m].uid : UInt32(messages[m].index + 1)] } ?? []
        return ThreadNode(numbers, children: containers[c].children.map { node($0, uid: uid) })
    }
}

import Foundation
import IMAPProtocol
import MIME
import MailStore

/// One message as SEARCH sees it; header and text are read only when a key needs them.
private final class SearchCandidate {
    let record: MessageRecord
    let sequenceNumber: UInt32
    let path: String
    private var mapped: MappedMessage?
    private var header: HeaderBlock?
    private var bodyText: String?

    init(record: MessageRecord, sequenceNumber: UInt32, path: String) {
        self.record = record
        self.sequenceNumber = sequenceNumber
        self.path = path
    }

    private func message() throws -> MappedMessage {
        if let mapped { return mapped }
        let m = try MappedMessage(path: path)
        mapped = m
        return m
    }

    func headerBlock() throws -> (HeaderBlock, MappedMessage) {
        let m = try message()
        if let header { return (header, m) }
        let h = HeaderBlock.parse(m.buffer, in: 0..<m.count)
        header = h
        return (h, m)
    }

    /// Decoded text of the text parts, lowercased (RFC 9051 §6.4.4 BODY).
    func text() throws -> String {
        if let bodyText { return bodyText }
        let m = try message()
        let parsed = MessageParser.parse(m.buffer)
        let text = parsed.searchableText(in: m.buffer).map(\.text).joined(separator: "\n").lowercased()
        bodyText = text
        return text
    }
}

extension IMAPSession {
    /// SEARCH / UID SEARCH (RFC 9051 §6.4.4) with ESEARCH (RFC 4731), SEARCHRES (RFC 5182) and MODSEQ
    /// (RFC 7162 §3.1.5). Keys are evaluated over the store's index first (flags, dates, sizes, UIDs);
    /// TEXT/BODY come from the full-text index (caught up first); headers, and text needles too short
    /// for the index, are read from the message only when a key needs them.
    func search(_ tag: String, _ command: SearchCommand, uid: Bool) async throws -> Outcome {
        guard var box = selected else { return bad(tag, "No mailbox selected") }
        let mail = try requireMail()
        let usesModSeq = Self.mentionsModSeq(command.key)
        if usesModSeq { condStore = true }
        let (found, records) = try await matchingIndices(command.key, box: box, in: mail, usesModSeq: usesModSeq)
        let numbers = found.map { uid ? box.uid(at: $0) : UInt32($0 + 1) }
        let highest = usesModSeq ? found.compactMap { records[box.uid(at: $0)]?.modSeq }.max() : nil
        var options = command.returnOptions
        if options == nil, isRev2 { options = [] }
        if let options {
            if options.contains(.save) {
                box.savedSearch = NumberSet(found.map { box.uid(at: $0) })
                selected = box
            }
            let wanted = options.isEmpty ? [.all] : options
            // RFC 5182 §2.4: SAVE alone answers with no ESEARCH.
            if wanted != [.save] {
                var reply = ESearchResponse(tag: tag, uid: uid)
                if wanted.contains(.min) { reply.min = numbers.first }
                if wanted.contains(.max) { reply.max = numbers.last }
                if wanted.contains(.count) { reply.count = UInt32(clamping: numbers.count) }
                if wanted.contains(.all), !numbers.isEmpty { reply.all = NumberSet(numbers) }
                reply.modSeq = highest
                untagged(.esearch(reply))
            }
        } else {
            untagged(.search(numbers, modSeq: highest))
        }
        return try await complete(tag, .search(command, uid: uid))
    }

    /// Indices (in the session's view) of the messages matching `key`, and the records that were loaded
    /// on the way (empty when the view and the text index answered alone).
    func matchingIndices(_ key: SearchKey, box: SelectedMailbox, in mail: any IMAPAccountStore,
                         usesModSeq: Bool) async throws -> (found: [Int], records: [UID: MessageRecord]) {
        var records: [UID: MessageRecord] = [:]
        let answers = box.count > 0 ? try await textSearchAnswers(for: key, mailboxID: box.id, in: mail) : TextSearchAnswers()
        var found: [Int] = []
        // Keys the session's own view answers (UIDs, sequence numbers, flags while that view is current)
        // together with the text index need no message records: a body search on a large mailbox stays
        // a walk over UIDs.
        var viewIsCurrent = false
        if box.count > 0, !usesModSeq, Self.isAnsweredByView(key, answers) {
            if Self.mentionsFlags(key) {
                viewIsCurrent = try await mail.highestModSeq(mailboxID: box.id) == box.knownModSeq
            } else {
                viewIsCurrent = true
            }
        }
        if viewIsCurrent {
            for index in 0..<box.count where Self.viewMatches(key, index, box: box, answers: answers) {
                found.append(index)
            }
        } else if box.count > 0 {
            for r in try await mail.messages(mailboxID: box.id, uids: [1...UID.max]) { records[r.uid] = r }
            for index in 0..<box.count {
                guard let record = records[box.uid(at: index)] else { continue }
                let candidate = SearchCandidate(record: record, sequenceNumber: UInt32(index + 1),
                                                path: mail.blobFilePath(record.blobID))
                if try matches(key, candidate, box: box, answers: answers) { found.append(index) }
            }
        }
        return (found, records)
    }

    static func mentionsModSeq(_ key: SearchKey) -> Bool {
        switch key {
        case .modSeq: return true
        case .not(let k): return mentionsModSeq(k)
        case .or(let a, let b): return mentionsModSeq(a) || mentionsModSeq(b)
        case .and(let keys): return keys.contains(where: mentionsModSeq)
        default: return false
        }
    }

    private static func mentionsFlags(_ key: SearchKey) -> Bool {
        if flagMatch(key, []) != nil { return true }
        switch key {
        case .not(let k): return mentionsFlags(k)
        case .or(let a, let b): return mentionsFlags(a) || mentionsFlags(b)
        case .and(let keys): return keys.contains(where: mentionsFlags)
        default: return false
        }
    }

    /// Whether the key needs only UIDs, sequence numbers, flags and text-index answers.
    private static func isAnsweredByView(_ key: SearchKey, _ answers: TextSearchAnswers) -> Bool {
        if flagMatch(key, []) != nil { return true }
        switch key {
        case .all, .uid, .sequenceNumbers: return true
        case .body(let s): return s.isEmpty || answers.uids(s, .body) != nil
        case .text(let s): return s.isEmpty || answers.uids(s, .text) != nil
        case .not(let k): return isAnsweredByView(k, answers)
        case .or(let a, let b): return isAnsweredByView(a, answers) && isAnsweredByView(b, answers)
        case .and(let keys): return keys.allSatisfy { isAnsweredByView($0, answers) }
        default: return false
        }
    }

    /// ``matches(_:_:box:answers:)`` over the session's view, for keys ``isAnsweredByView(_:_:)`` accepts.
    private static func viewMatches(_ key: SearchKey, _ index: Int, box: SelectedMailbox, answers: TextSearchAnswers) -> Bool {
        if let result = flagMatch(key, box.flags(at: index)) { return result }
        switch key {
        case .all: return true
        case .body(let s): return s.isEmpty || answers.uids(s, .body)?.contains(box.uid(at: index)) == true
        case .text(let s): return s.isEmpty || answers.uids(s, .text)?.contains(box.uid(at: index)) == true
        case .uid(let set):
            return set.resolved(largest: box.lastUID, savedResult: box.savedSearch).contains(box.uid(at: index))
        case .sequenceNumbers(let set):
            return sequenceSet(set, box: box).contains(UInt32(index + 1))
        case .not(let k): return !viewMatches(k, index, box: box, answers: answers)
        case .or(let a, let b):
            return viewMatches(a, index, box: box, answers: answers) || viewMatches(b, index, box: box, answers: answers)
        case .and(let keys): return keys.allSatisfy { viewMatches($0, index, box: box, answers: answers) }
        default: return false
        }
    }

    /// The resolved numbers of a message-sequence set (`$` read from the saved search).
    private static func sequenceSet(_ set: SequenceSet, box: SelectedMailbox) -> NumberSet {
        let saved: NumberSet
        if case .lastSearchResult = set {
            saved = NumberSet(box.savedSearch.compactMap { box.index(of: $0).map { UInt32($0 + 1) } })
        } else {
            saved = NumberSet()
        }
        return set.resolved(largest: UInt32(clamping: box.count), savedResult: saved)
    }

    /// Flag keys (RFC 9051 §6.4.4); nil for keys about something else.
    private static func flagMatch(_ key: SearchKey, _ flags: Set<String>) -> Bool? {
        switch key {
        case .answered: return flags.contains("\\Answered")
        case .deleted: return flags.contains("\\Deleted")
        case .draft: return flags.contains("\\Draft")
        case .flagged: return flags.contains("\\Flagged")
        case .seen: return flags.contains("\\Seen")
        case .unanswered: return !flags.contains("\\Answered")
        case .undeleted: return !flags.contains("\\Deleted")
        case .undraft: return !flags.contains("\\Draft")
        case .unflagged: return !flags.contains("\\Flagged")
        case .unseen: return !flags.contains("\\Seen")
        // \Recent is never set here (RFC 9051 dropped it), so nothing is NEW or RECENT and all is OLD.
        case .new, .recent: return false
        case .old: return true
        case .keyword(let flag): return flags.contains { $0.caseInsensitiveCompare(flag.name) == .orderedSame }
        case .unkeyword(let flag): return !flags.contains { $0.caseInsensitiveCompare(flag.name) == .orderedSame }
        default: return nil
        }
    }

    private func matches(_ key: SearchKey, _ m: SearchCandidate, box: SelectedMailbox, answers: TextSearchAnswers) throws -> Bool {
        if let result = Self.flagMatch(key, m.record.flags) { return result }
        switch key {
        case .all: return true
        case .from(let s): return try headerContains(m, ["From"], s)
        case .to(let s): return try headerContains(m, ["To"], s)
        case .cc(let s): return try headerContains(m, ["Cc"], s)
        case .bcc(let s): return try headerContains(m, ["Bcc"], s)
        case .subject(let s): return try headerContains(m, ["Subject"], s)
        case .header(let field, let value): return try headerContains(m, [field], value)
        case .body(let s):
            if s.isEmpty { return true }
            if let uids = answers.uids(s, .body) { return uids.contains(m.record.uid) }
            return try m.text().contains(s.lowercased())
        case .text(let s):
            if s.isEmpty { return true }
            if let uids = answers.uids(s, .text) { return uids.contains(m.record.uid) }
            if try m.text().contains(s.lowercased()) { return true }
            let (header, mapped) = try m.headerBlock()
            return header.fields.contains { field in
                let value = EncodedWord.decode(field.unfoldedValue(in: mapped.buffer))
                return value.range(of: s, options: .caseInsensitive) != nil
            }
        case .before(let d): return Self.day(of: m.record.internalDate) < d.daysSince1970
        case .on(let d): return Self.day(of: m.record.internalDate) == d.daysSince1970
        case .since(let d): return Self.day(of: m.record.internalDate) >= d.daysSince1970
        case .sentBefore(let d): return try sentDay(m).map { $0 < d.daysSince1970 } ?? false
        case .sentOn(let d): return try sentDay(m).map { $0 == d.daysSince1970 } ?? false
        case .sentSince(let d): return try sentDay(m).map { $0 >= d.daysSince1970 } ?? false
        case .larger(let n): return UInt64(clamping: m.record.size) > n
        case .smaller(let n): return UInt64(clamping: m.record.size) < n
        case .older(let seconds): return Date().timeIntervalSince(m.record.internalDate) >= TimeInterval(seconds)
        case .younger(let seconds): return Date().timeIntervalSince(m.record.internalDate) <= TimeInterval(seconds)
        case .uid(let set):
            return set.resolved(largest: box.lastUID, savedResult: box.savedSearch).contains(m.record.uid)
        case .sequenceNumbers(let set):
            return Self.sequenceSet(set, box: box).contains(m.sequenceNumber)
        case .modSeq(let value, _): return m.record.modSeq >= value
        case .not(let k): return try !matches(k, m, box: box, answers: answers)
        case .or(let a, let b): return try matches(a, m, box: box, answers: answers) || matches(b, m, box: box, answers: answers)
        case .and(let keys):
            for k in keys where try !matches(k, m, box: box, answers: answers) { return false }
            return true
        case .answered, .deleted, .draft, .flagged, .seen, .unanswered, .undeleted, .undraft, .unflagged, .unseen,
             .new, .recent, .old, .keyword, .unkeyword:
            return false  // answered by flagMatch above
        }
    }

    /// Days since 1970 of an internal date, in UTC (the server's zone for date keys).
    private static func day(of date: Date) -> Int {
        Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
    }

    /// The Date header's calendar day in its own zone (RFC 9051 §6.4.4: time and zone disregarded).
    private func sentDay(_ m: SearchCandidate) throws -> Int? {
        let (header, mapped) = try m.headerBlock()
        guard let raw = header.rawValue("Date", in: mapped.buffer), let date = MessageDate.parse(raw) else { return nil }
        let local = date.secondsSince1970 + Int64(date.zoneOffsetSeconds)
        return Int(local >= 0 ? local / 86_400 : (local - 86_399) / 86_400)
    }

    /// Case-insensitive substring of any field with one of the names; an empty string matches presence.
    private func headerContains(_ m: SearchCandidate, _ names: [String], _ needle: String) throws -> Bool {
        let (header, mapped) = try m.headerBlock()
        for name in names {
            for field in header.all(name, in: mapped.buffer) {
                if needle.isEmpty { return true }
                let value = EncodedWord.decode(field.unfoldedValue(in: mapped.buffer))
                if value.range(of: needle, options: .caseInsensitive) != nil { return true }
            }
        }
        return false
    }
}

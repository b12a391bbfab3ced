import IMAPProtocol
import MailStore

/// The selected mailbox as one session sees it: message sequence numbers are positions in `uids`
/// (RFC 9051 §2.3.1.2), and they change only when this session announces it (EXISTS, EXPUNGE). The flags
/// and mod-sequences are the last ones sent to the client, so a refresh sends only differences.
struct SelectedMailbox {
    let id: Int64
    var name: String
    let readOnly: Bool
    let uidValidity: UIDValidity
    /// Ascending UIDs; sequence number n is `uids[n - 1]`.
    private(set) var uids: [UID] = []
    private(set) var flags: [Set<String>] = []
    private(set) var modSeqs: [ModSeq] = []
    /// The mailbox HIGHESTMODSEQ up to which changes were taken in.
    var knownModSeq: ModSeq
    /// SEARCH RETURN (SAVE) result, as UIDs (RFC 5182: `$`).
    var savedSearch = NumberSet()

    init(id: Int64, name: String, readOnly: Bool, uidValidity: UIDValidity, highestModSeq: ModSeq, messages: [MessageRecord]) {
        self.id = id
        self.name = name
        self.readOnly = readOnly
        self.uidValidity = uidValidity
        knownModSeq = highestModSeq
        uids.reserveCapacity(messages.count)
        flags.reserveCapacity(messages.count)
        modSeqs.reserveCapacity(messages.count)
        // Stores list messages by UID already; sorting is only for those that do not.
        let ordered = zip(messages, messages.dropFirst()).allSatisfy { $0.uid < $1.uid }
        for m in ordered ? messages : messages.sorted(by: { $0.uid < $1.uid }) {
            uids.append(m.uid)
            flags.append(m.flags)
            modSeqs.append(m.modSeq)
        }
    }

    var count: Int { uids.count }
    var lastUID: UID { uids.last ?? 0 }

    /// The index of `uid`, by binary search.
    func index(of uid: UID) -> Int? {
        var low = 0, high = uids.count - 1
        while low <= high {
            let mid = (low + high) / 2
            if uids[mid] == uid { return mid }
            if uids[mid] < uid { low = mid + 1 } else { high = mid - 1 }
        }
        return nil
    }

    /// First index whose UID is ≥ `uid`.
    private func lowerBound(_ uid: UID) -> Int {
        var low = 0, high = uids.count
        while low < high {
            let mid = (low + high) / 2
            if uids[mid] < uid { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Indices addressed by a sequence set, ascending. For UIDs, numbers that are not in the mailbox are
    /// ignored (RFC 9051 §6.4.9); for sequence numbers the caller has checked the range.
    func indices(_ set: SequenceSet, uid: Bool) -> [Int] {
        if uid {
            let resolved = set.resolved(largest: lastUID, savedResult: savedSearch)
            var out: [Int] = []
            for r in resolved.ranges {
                var i = lowerBound(r.lowerBound)
                while i < uids.count, uids[i] <= r.upperBound {
                    out.append(i)
                    i += 1
                }
            }
            return out
        }
        let saved: NumberSet
        if case .lastSearchResult = set {
            saved = NumberSet(savedSearch.compactMap { index(of: $0).map { UInt32($0 + 1) } })
        } else {
            saved = NumberSet()
        }
        let resolved = set.resolved(largest: UInt32(clamping: uids.count), savedResult: saved)
        var out: [Int] = []
        for r in resolved.ranges {
            for n in r { out.append(Int(n) - 1) }
        }
        return out
    }

    /// Whether a message-sequence set names a number beyond the message count (a client error).
    func hasInvalidSequenceNumber(_ set: SequenceSet) -> Bool {
        guard let largest = set.largestExplicitNumber else { return false }
        return Int(largest) > uids.count
    }

    func uid(at index: Int) -> UID { uids[index] }
    func flags(at index: Int) -> Set<String> { flags[index] }
    func modSeq(at index: Int) -> ModSeq { modSeqs[index] }

    mutating func update(index: Int, flags newFlags: Set<String>, modSeq: ModSeq) {
        flags[index] = newFlags
        modSeqs[index] = modSeq
    }

    /// Takes in this session's own flag change, which the store gave `modSeq`. When that directly follows
    /// the mod-sequence this view is current to, no other change can lie between them (mod-sequences of
    /// changes are unique and increasing, RFC 7162 §3.1), so the view is current to `modSeq` without
    /// reading the mailbox's changes back.
    mutating func tookOwnChange(_ modSeq: ModSeq?) {
        if let modSeq, modSeq == knownModSeq &+ 1 { knownModSeq = modSeq }
    }

    mutating func append(_ record: MessageRecord) {
        uids.append(record.uid)
        flags.append(record.flags)
        modSeqs.append(record.modSeq)
    }

    /// Removes one message; returns its former sequence number.
    @discardableResult
    mutating func remove(at index: Int) -> UInt32 {
        uids.remove(at: index)
        flags.remove(at: index)
        modSeqs.remove(at: index)
        return UInt32(index + 1)
    }

    /// The untagged updates a delta calls for, applied to this view (RFC 9051 §7.4.1, §7.5.1).
    /// `includeModSeq`: CONDSTORE is on, so flag changes carry MODSEQ (RFC 7162 §3.1.4.2).
    mutating func apply(_ delta: MailboxDelta, includeModSeq: Bool) -> [UntaggedData] {
        var out: [UntaggedData] = []
        if let surviving = delta.survivingUIDs {
            let alive = Set(surviving)
            let bound = lastUID
            var i = 0
            while i < uids.count {
                if uids[i] <= bound && !alive.contains(uids[i]) {
                    out.append(.expunge(remove(at: i)))
                } else {
                    i += 1
                }
            }
        }
        var added = false
        for record in delta.changed {
            if let i = index(of: record.uid) {
                let changedFlags = flags[i] != record.flags
                let changedModSeq = modSeqs[i] != record.modSeq
                update(index: i, flags: record.flags, modSeq: record.modSeq)
                if changedFlags || (includeModSeq && changedModSeq) {
                    var values: [FetchValue] = [.uid(record.uid), .flags(IMAPFlags.wire(record.flags))]
                    if includeModSeq { values.append(.modSeq(record.modSeq)) }
                    out.append(.fetch(UInt32(i + 1), values))
                }
            } else if record.uid > lastUID {
                append(record)
                added = true
            }
        }
        if added { out.append(.exists(UInt32(clamping: uids.count))) }
        knownModSeq = max(knownModSeq, delta.highestModSeq)
        return out
    }
}

/// Conversions between the store's flag names and the wire type.
enum IMAPFlags {
    static let system: [String] = ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"]

    /// Wire flags, system flags first, then keywords alphabetically (stable output for clients and tests).
    static func wire(_ names: Set<String>) -> [Flag] {
        let systemFirst = system.filter(names.contains)
        let keywords = names.subtracting(system).sorted()
        return (systemFirst + keywords).compactMap(Flag.init)
    }

    /// Store names of client-given flags; `\Recent` cannot be set by clients (RFC 3501 §2.3.2).
    static func names(_ flags: [Flag]) -> Set<String> {
        Set(flags.filter { $0 != .recent }.map(\.name))
    }
}

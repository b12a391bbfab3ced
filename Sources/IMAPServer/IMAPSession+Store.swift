import Foundation
import IMAPProtocol
import MailStore

extension IMAPSession {
    /// STORE / UID STORE (RFC 9051 §6.4.6; UNCHANGEDSINCE and MODIFIED, RFC 7162 §3.1.3).
    func storeFlags(_ tag: String, _ set: SequenceSet, _ store: StoreCommand, uid: Bool) async throws -> Outcome {
        guard var box = selected else { return bad(tag, "No mailbox selected") }
        let mail = try requireMail()
        if box.readOnly { return no(tag, code: .readOnly, "Mailbox is read-only") }
        if !uid, box.hasInvalidSequenceNumber(set) { return bad(tag, "Invalid message sequence number") }
        if store.unchangedSince != nil { condStore = true }
        let indices = box.indices(set, uid: uid)
        let change: FlagChange
        switch store.operation {
        case .replace: change = .replace
        case .add: change = .add
        case .remove: change = .remove
        }
        let result = try await mail.updateFlags(mailboxID: box.id, uids: indices.map { box.uid(at: $0) }, change: change,
                                                flags: IMAPFlags.names(store.flags), unchangedSince: store.unchangedSince)
        for state in result.states {
            guard let i = box.index(of: state.uid) else { continue }
            let previousModSeq = box.modSeq(at: i)
            box.update(index: i, flags: state.flags, modSeq: state.modSeq)
            // .SILENT suppresses the FLAGS echo, but with CONDSTORE a changed MODSEQ is still reported
            // (RFC 7162 §3.1.3).
            if store.silent {
                if condStore, state.modSeq != previousModSeq {
                    untagged(.fetch(UInt32(i + 1), [.uid(state.uid), .modSeq(state.modSeq)]))
                }
                continue
            }
            var values: [FetchValue] = []
            if uid { values.append(.uid(state.uid)) }
            values.append(.flags(IMAPFlags.wire(state.flags)))
            if condStore { values.append(.modSeq(state.modSeq)) }
            untagged(.fetch(UInt32(i + 1), values))
            try await writeIfLarge()
        }
        box.tookOwnChange(result.modSeq)
        selected = box
        var code: ResponseCode?
        if !result.modified.isEmpty {
            let numbers = uid ? result.modified : result.modified.compactMap { box.index(of: $0).map { UInt32($0 + 1) } }
            code = .modified(NumberSet(numbers))
        }
        return try await complete(tag, .store(set, store, uid: uid), code: code,
                                  text: code == nil ? nil : "Some messages were modified meanwhile")
    }

    /// COPY / MOVE and their UID forms (RFC 9051 §6.4.7, MOVE RFC 6851, COPYUID RFC 4315 §3).
    func copy(_ tag: String, _ set: SequenceSet, to destination: MailboxName, uid: Bool, move: Bool) async throws -> Outcome {
        guard var box = selected else { return bad(tag, "No mailbox selected") }
        let mail = try requireMail()
        if move, box.readOnly { return no(tag, code: .readOnly, "Mailbox is read-only") }
        if !uid, box.hasInvalidSequenceNumber(set) { return bad(tag, "Invalid message sequence number") }
        let uids = box.indices(set, uid: uid).map { box.uid(at: $0) }
        let command: Command = move ? .move(set, destination, uid: uid) : .copy(set, destination, uid: uid)
        guard !uids.isEmpty else { return try await complete(tag, command, text: "No messages") }
        let result: CopyResult
        let gate = StorageQuotaGate.shared
        let accountID = account?.id ?? ""
        // A copy adds its size to the account's usage (a move does not): checked and stored under the
        // account's gate (RFC 9208 §5: OVERQUOTA, nothing copied).
        if !move { await gate.acquire(accountID) }
        do {
            if !move {
                let adding = try await mail.messages(mailboxID: box.id, uids: NumberSet(uids).ranges).reduce(Int64(0)) { $0 &+ $1.size }
                if await wouldExceedStorage(adding: adding) {
                    await gate.release(accountID)
                    return no(tag, code: .overQuota, "Mailbox storage quota exceeded")
                }
            }
            result = try await mail.copyMessages(mailboxID: box.id, uids: uids, to: Self.storeName(destination), move: move)
            if !move { await gate.release(accountID) }
        } catch MailStoreError.noSuchMailbox {
            if !move { await gate.release(accountID) }
            return no(tag, code: .tryCreate, "No such destination mailbox")
        } catch {
            if !move { await gate.release(accountID) }
            throw error
        }
        let code: ResponseCode? = result.sourceUIDs.isEmpty ? nil
            : .copyUID(uidValidity: result.destinationUIDValidity, source: NumberSet(result.sourceUIDs),
                       destination: NumberSet(result.destinationUIDs))
        guard move else { return try await complete(tag, command, code: code) }
        // RFC 6851 §4.3: COPYUID goes in an untagged OK before the EXPUNGEs.
        if let code { untagged(.ok, code: code, text: "Moved") }
        for moved in result.sourceUIDs {
            if let i = box.index(of: moved) { untagged(.expunge(box.remove(at: i))) }
        }
        selected = box
        return try await complete(tag, command)
    }

    /// EXPUNGE and UID EXPUNGE (RFC 9051 §6.4.3, UIDPLUS RFC 4315 §2.1): removes messages marked
    /// \Deleted (within `only` for UID EXPUNGE) and reports each removal.
    func expunge(_ tag: String, only: SequenceSet?, uid: Bool) async throws -> Outcome {
        guard var box = selected else { return bad(tag, "No mailbox selected") }
        let mail = try requireMail()
        if box.readOnly { return no(tag, code: .readOnly, "Mailbox is read-only") }
        let ranges: [ClosedRange<UID>]
        if let only {
            ranges = NumberSet(box.indices(only, uid: true).map { box.uid(at: $0) }).ranges
        } else {
            ranges = [1...UID.max]
        }
        var doomed: [UID] = []
        if !ranges.isEmpty {
            doomed = try await mail.messages(mailboxID: box.id, uids: ranges).filter { $0.flags.contains("\\Deleted") }.map(\.uid)
        }
        let removed = try await mail.expungeMessages(mailboxID: box.id, uids: doomed)
        for gone in removed {
            if let i = box.index(of: gone) { untagged(.expunge(box.remove(at: i))) }
        }
        selected = box
        return try await complete(tag, only.map { .uidExpunge($0) } ?? .expunge)
    }
}

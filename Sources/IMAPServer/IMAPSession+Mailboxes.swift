import Foundation
import IMAPProtocol
import MailStore

extension IMAPSession {
    static let delimiter: Character = "/"

    /// Keywords announced in FLAGS besides those in use (RFC 9051 §2.3.2, RFC 5788 registry).
    static let commonKeywords: Set<String> = ["$Forwarded", "$MDNSent", "$Junk", "$NotJunk"]

    func requireMail() throws -> any IMAPAccountStore {
        guard let mail else { throw MailStoreError.accountGone(account?.id ?? "") }
        return mail
    }

    static func attribute(for use: SpecialUse) -> MailboxAttribute {
        switch use {
        case .drafts: return .drafts
        case .sent: return .sent
        case .junk: return .junk
        case .trash: return .trash
        case .archive: return .archive
        }
    }

    static func specialUse(for attribute: MailboxAttribute) -> SpecialUse? {
        switch attribute {
        case .drafts: return .drafts
        case .sent: return .sent
        case .junk: return .junk
        case .trash: return .trash
        case .archive: return .archive
        default: return nil
        }
    }

    /// A client-given name without a trailing delimiter (RFC 9051 §6.3.4), INBOX normalised.
    static func storeName(_ name: MailboxName) -> String {
        var text = name.normalized(delimiter: delimiter).name
        while text.count > 1, text.last == delimiter { text.removeLast() }
        return MailboxName(text).name
    }

    // MARK: SELECT / EXAMINE / CLOSE

    /// SELECT / EXAMINE (RFC 9051 §6.3.2, §6.3.3; CONDSTORE RFC 7162 §3.1.8).
    func select(_ tag: String, _ name: MailboxName, _ params: SelectParameters, readOnly: Bool) async throws -> Outcome {
        let mail = try requireMail()
        if selected != nil {
            selected = nil
            state = .authenticated
            untagged(.ok, code: .closed, text: "Previous mailbox closed")
        }
        if params.qresync != nil { return bad(tag, "QRESYNC is not supported") }
        if params.condStore { condStore = true }
        guard let info = try await mail.mailbox(named: Self.storeName(name)) else {
            return no(tag, code: .nonExistent, "No such mailbox")
        }
        let messages = try await mail.messages(in: info.name)
        let box = SelectedMailbox(id: info.id, name: info.name, readOnly: readOnly, uidValidity: info.uidValidity,
                                  highestModSeq: info.highestModSeq, messages: messages)
        var keywords = Self.commonKeywords
        for m in messages { keywords.formUnion(m.flags) }
        let flags = IMAPFlags.wire(keywords.union(IMAPFlags.system))
        untagged(.flags(flags))
        untagged(.ok, code: .permanentFlags(readOnly ? [] : flags, allowsNewKeywords: !readOnly), text: "Flags permitted")
        untagged(.exists(UInt32(clamping: box.count)))
        if !isRev2 {
            untagged(.recent(0))
            if let first = messages.firstIndex(where: { !$0.flags.contains("\\Seen") }) {
                untagged(.ok, code: .unseen(UInt32(first + 1)), text: "First unseen")
            }
        }
        untagged(.ok, code: .uidValidity(box.uidValidity), text: "UIDs valid")
        untagged(.ok, code: .uidNext(max(info.uidNext, box.lastUID &+ 1)), text: "Predicted next UID")
        untagged(.ok, code: .highestModSeq(info.highestModSeq), text: "Highest")
        if isRev2 {
            untagged(.list(ListResponse(attributes: info.specialUse.map { [Self.attribute(for: $0)] } ?? [],
                                        delimiter: Self.delimiter, mailbox: MailboxName(info.name))))
        }
        selected = box
        state = .selected
        tagged(tag, .ok, code: readOnly ? .readOnly : .readWrite, text: readOnly ? "EXAMINE completed" : "SELECT completed")
        return .proceed
    }

    /// CLOSE (expunges silently, RFC 9051 §6.4.1) and UNSELECT (RFC 3691).
    func closeMailbox(_ tag: String, expunge: Bool) async throws -> Outcome {
        let mail = try requireMail()
        if expunge, let box = selected, !box.readOnly {
            let current = try await mail.messages(mailboxID: box.id, uids: [1...UID.max])
            let doomed = current.filter { $0.flags.contains("\\Deleted") }.map(\.uid)
            if !doomed.isEmpty { _ = try await mail.expungeMessages(mailboxID: box.id, uids: doomed) }
        }
        selected = nil
        state = .authenticated
        tagged(tag, .ok, text: expunge ? "CLOSE completed" : "UNSELECT completed")
        return .proceed
    }

    // MARK: CREATE / DELETE / RENAME / SUBSCRIBE

    /// CREATE [USE (...)] (RFC 9051 §6.3.4, RFC 6154 §5.2): missing superiors are created too.
    func create(_ tag: String, _ name: MailboxName, specialUse attributes: [MailboxAttribute]) async throws -> Outcome {
        let mail = try requireMail()
        let target = Self.storeName(name)
        if target == "INBOX" { return no(tag, code: .alreadyExists, "INBOX always exists") }
        var use: SpecialUse?
        for attribute in attributes {
            guard let mapped = Self.specialUse(for: attribute), use == nil else {
                return no(tag, code: .other("USEATTR", nil), "Unsupported special-use attribute \(attribute.name)")
            }
            use = mapped
        }
        if try await mail.mailboxID(named: target) != nil { return no(tag, code: .alreadyExists, "Mailbox already exists") }
        try await createSuperiors(of: target, in: mail)
        _ = try await mail.createMailbox(target, specialUse: use)
        return try await complete(tag, .create(name, specialUse: attributes))
    }

    private func createSuperiors(of name: String, in mail: any IMAPAccountStore) async throws {
        let parts = name.split(separator: Self.delimiter, omittingEmptySubsequences: false)
        guard parts.count > 1 else { return }
        for depth in 1..<parts.count {
            let parent = parts[0..<depth].joined(separator: String(Self.delimiter))
            if try await mail.mailboxID(named: parent) == nil {
                do {
                    _ = try await mail.createMailbox(parent, specialUse: nil)
                } catch MailStoreError.mailboxExists {
                    // Created concurrently: fine.
                }
            }
        }
    }

    /// DELETE (RFC 9051 §6.3.5). INBOX cannot be deleted.
    func delete(_ tag: String, _ name: MailboxName) async throws -> Outcome {
        let mail = try requireMail()
        let target = Self.storeName(name)
        if target == "INBOX" { return no(tag, code: .cannot, "INBOX cannot be deleted") }
        guard try await mail.mailboxID(named: target) != nil else { return no(tag, code: .nonExistent, "No such mailbox") }
        try await mail.deleteMailbox(target)
        if selected?.name == target {
            selected = nil
            state = .authenticated
        }
        return try await complete(tag, .delete(name))
    }

    /// RENAME (RFC 9051 §6.3.6): children move along; renaming INBOX moves its messages to the new
    /// mailbox and leaves INBOX empty.
    func rename(_ tag: String, from: MailboxName, to: MailboxName) async throws -> Outcome {
        let mail = try requireMail()
        let source = Self.storeName(from), target = Self.storeName(to)
        guard let info = try await mail.mailboxID(named: source) else { return no(tag, code: .nonExistent, "No such mailbox") }
        if try await mail.mailboxID(named: target) != nil { return no(tag, code: .alreadyExists, "Target mailbox already exists") }
        if target == source || target.hasPrefix(source + String(Self.delimiter)) {
            return no(tag, code: .cannot, "Cannot rename a mailbox into itself")
        }
        try await createSuperiors(of: target, in: mail)
        if source == "INBOX" {
            _ = try await mail.createMailbox(target, specialUse: nil)
            let uids = try await mail.messages(in: "INBOX").map(\.uid)
            if !uids.isEmpty { _ = try await mail.copyMessages(mailboxID: info.id, uids: uids, to: target, move: true) }
        } else {
            try await mail.renameMailbox(source, to: target)
            if selected?.id == info.id { selected?.name = target }
        }
        return try await complete(tag, .rename(from: from, to: to))
    }

    func subscribe(_ tag: String, _ name: MailboxName, _ on: Bool) async throws -> Outcome {
        let mail = try requireMail()
        let target = Self.storeName(name)
        do {
            try await mail.setSubscribed(target, subscribed: on)
        } catch MailStoreError.noSuchMailbox {
            if !on { return try await complete(tag, .unsubscribe(name)) }
            return no(tag, code: .nonExistent, "No such mailbox")
        }
        return try await complete(tag, on ? .subscribe(name) : .unsubscribe(name))
    }

    // MARK: LIST / LSUB

    /// One name in the hierarchy: a mailbox, or a superior that exists only as part of other names.
    private struct ListEntry {
        var name: String
        var info: MailboxInfo?
        var hasChildren = false
        var hasSubscribedChild = false
    }

    private func hierarchy(_ boxes: [MailboxInfo]) -> [ListEntry] {
        var entries: [String: ListEntry] = [:]
        for box in boxes { entries[box.name] = ListEntry(name: box.name, info: box) }
        for box in boxes {
            let parts = box.name.split(separator: Self.delimiter, omittingEmptySubsequences: false)
            guard parts.count > 1 else { continue }
            for depth in 1..<parts.count {
                let parent = parts[0..<depth].joined(separator: String(Self.delimiter))
                var entry = entries[parent] ?? ListEntry(name: parent, info: nil)
                entry.hasChildren = true
                if box.subscribed { entry.hasSubscribedChild = true }
                entries[parent] = entry
            }
        }
        return entries.values.sorted { a, b in
            if (a.name == "INBOX") != (b.name == "INBOX") { return a.name == "INBOX" }
            return a.name < b.name
        }
    }

    /// LIST, basic and extended (RFC 9051 §6.3.9, RFC 5258, SPECIAL-USE RFC 6154, LIST-STATUS RFC 5819).
    func list(_ tag: String, _ command: ListCommand) async throws -> Outcome {
        let mail = try requireMail()
        if !command.isExtended, command.patterns == [""] {
            untagged(.list(ListResponse(attributes: [.noSelect], delimiter: Self.delimiter, mailbox: MailboxName(""))))
            return try await complete(tag, .list(command))
        }
        let patterns = command.patterns.map { ListPattern(reference: command.reference, pattern: $0, delimiter: Self.delimiter) }
        let selectSubscribed = command.selectionOptions.contains(.subscribed)
        let selectSpecialUse = command.selectionOptions.contains(.specialUse)
        let recursive = command.selectionOptions.contains(.recursiveMatch)
        var returnSubscribed = selectSubscribed
        var statusItems: [StatusAttribute]?
        for option in command.returnOptions {
            switch option {
            case .subscribed: returnSubscribed = true
            case .status(let items): statusItems = items
            case .children, .specialUse: break
            }
        }
        for entry in hierarchy(try await mail.mailboxes()) where patterns.contains(where: { $0.matches(entry.name) }) {
            let subscribed = entry.info?.subscribed ?? false
            var childInfo: [ListExtendedItem] = []
            if selectSubscribed {
                if !subscribed {
                    guard recursive, entry.hasSubscribedChild else { continue }
                    childInfo = [.childInfo(["SUBSCRIBED"])]
                } else if recursive, entry.hasSubscribedChild {
                    childInfo = [.childInfo(["SUBSCRIBED"])]
                }
            }
            if selectSpecialUse, entry.info?.specialUse == nil { continue }
            var attributes: [MailboxAttribute] = []
            if entry.info == nil {
                attributes.append(command.isExtended ? .nonExistent : .noSelect)
            }
            attributes.append(entry.hasChildren ? .hasChildren : .hasNoChildren)
            if let use = entry.info?.specialUse { attributes.append(Self.attribute(for: use)) }
            if returnSubscribed, subscribed { attributes.append(.subscribed) }
            untagged(.list(ListResponse(attributes: attributes, delimiter: Self.delimiter, mailbox: MailboxName(entry.name),
                                        extended: childInfo)))
            if let statusItems, let info = entry.info {
                untagged(.status(MailboxName(info.name), try await statusValues(info, statusItems)))
            }
            try await writeIfLarge()
        }
        return try await complete(tag, .list(command))
    }

    /// LSUB (IMAP4rev1, RFC 3501 §6.3.9).
    func lsub(_ tag: String, reference: String, pattern: String) async throws -> Outcome {
        let mail = try requireMail()
        let matcher = ListPattern(reference: reference, pattern: pattern, delimiter: Self.delimiter)
        for box in try await mail.mailboxes() where box.subscribed && matcher.matches(box.name) {
            untagged(.lsub(ListResponse(attributes: [], delimiter: Self.delimiter, mailbox: MailboxName(box.name))))
        }
        return try await complete(tag, .lsub(reference: reference, pattern: pattern))
    }

    // MARK: STATUS

    /// STATUS (RFC 9051 §6.3.11; SIZE RFC 8438; HIGHESTMODSEQ RFC 7162 §3.1.9 turns CONDSTORE on).
    func status(_ tag: String, _ name: MailboxName, _ items: [StatusAttribute]) async throws -> Outcome {
        let mail = try requireMail()
        guard let info = try await mail.mailbox(named: Self.storeName(name)) else {
            return no(tag, code: .nonExistent, "No such mailbox")
        }
        if items.contains(.highestModSeq) { condStore = true }
        untagged(.status(name, try await statusValues(info, items)))
        return try await complete(tag, .status(name, items))
    }

    func statusValues(_ info: MailboxInfo, _ items: [StatusAttribute]) async throws -> [StatusValue] {
        var deleted: UInt32?
        if items.contains(.deleted) {
            deleted = UInt32(clamping: try await requireMail().messages(in: info.name).filter { $0.flags.contains("\\Deleted") }.count)
        }
        return items.map { item in
            switch item {
            case .messages: return .messages(UInt32(clamping: info.messageCount))
            case .uidNext: return .uidNext(info.uidNext)
            case .uidValidity: return .uidValidity(info.uidValidity)
            case .unseen: return .unseen(UInt32(clamping: info.unseenCount))
            case .deleted: return .deleted(deleted ?? 0)
            case .size: return .size(UInt64(clamping: info.totalSize))
            case .recent: return .recent(0)
            case .highestModSeq: return .highestModSeq(info.highestModSeq)
            case .appendLimit: return .appendLimit(UInt64(clamping: appendLimit))
            }
        }
    }
}

import Foundation
import IMAPProtocol
import MailStore

/// An APPEND in progress: its messages are spooled to files as they arrive, never held in memory, and
/// stored when the command line ends (RFC 9051 §6.3.12, MULTIAPPEND RFC 3502).
struct AppendState {
    struct Spooled {
        var path: String
        var flags: Set<String>
        var date: Date
    }

    var tag: String
    var mailbox: String
    var mailboxID: Int64
    var spooled: [Spooled] = []
    var current: FileHandle?
    var currentPath: String?
    var currentFlags: Set<String> = []
    var currentDate = Date()
    var writeFailed = false
    /// Bytes of the messages spooled so far.
    var spooledBytes: Int64 = 0
}

extension IMAPSession {
    func appendMessageStarts(_ message: AppendMessage) async throws -> Outcome {
        guard state != .notAuthenticated, let mail else {
            parser.rejectAppend()
            return bad(message.tag, "Log in first")
        }
        if append == nil {
            let target = Self.storeName(message.mailbox)
            let info: (id: Int64, name: String)?
            do {
                info = try await mail.mailboxID(named: target)
            } catch MailStoreError.invalidMailboxName {
                info = nil
            }
            guard let info else {
                parser.rejectAppend()
                return no(message.tag, code: .tryCreate, "No such mailbox")
            }
            append = AppendState(tag: message.tag, mailbox: info.name, mailboxID: info.id)
        }
        // RFC 9208 §5: refused before the data is sent when the message cannot fit (checked again, with
        // the exact sizes and under the account's gate, before storing).
        let pending = (append?.spooledBytes ?? 0) &+ Int64(clamping: message.size)
        if await wouldExceedStorage(adding: pending) {
            parser.rejectAppend()
            discardAppend()
            return no(message.tag, code: .overQuota, "Mailbox storage quota exceeded")
        }
        let path = settings.temporaryDirectory + "/imap-append-" + UUID().uuidString + ".eml"
        do {
            try FileManager.default.createDirectory(atPath: settings.temporaryDirectory, withIntermediateDirectories: true)
            // open(2), not FileManager.createFile (a temporary file renamed: a crash could leave it behind).
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw MailStoreError.io("cannot create spool file") }
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            append?.current = handle
            append?.currentPath = path
        } catch {
            logger.error("IMAP APPEND spool failed: \(error)")
            parser.rejectAppend()
            discardAppend()
            return no(message.tag, code: .serverBug, "Cannot accept the message now, try again later")
        }
        append?.currentFlags = IMAPFlags.names(message.flags)
        append?.currentDate = message.internalDate.map { Date(timeIntervalSince1970: TimeInterval($0.secondsSince1970)) } ?? Date()
        if message.needsContinuation {
            send(.continuation("Ready for literal data"))
            try await flushOutput()
        }
        return .proceed
    }

    func appendData(_ chunk: ArraySlice<UInt8>) {
        guard let handle = append?.current, append?.writeFailed == false else { return }
        do {
            try handle.write(contentsOf: chunk)
        } catch {
            append?.writeFailed = true
        }
    }

    func appendMessageEnds() {
        guard var state = append, let handle = state.current, let path = state.currentPath else { return }
        try? handle.close()
        state.spooled.append(AppendState.Spooled(path: path, flags: state.currentFlags, date: state.currentDate))
        state.spooledBytes &+= Int64(clamping: (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        state.current = nil
        state.currentPath = nil
        append = state
    }

    /// Stores the spooled messages and answers with APPENDUID (RFC 4315 §3). Each message is durable
    /// (fsync'd, indexed) before the OK. A MULTIAPPEND is all or nothing: on a failure, the messages
    /// already stored by this command are removed again.
    func appendEnds(tag: String) async throws -> Outcome {
        guard let state = append, let mail else { return no(tag, code: .serverBug, "No APPEND in progress") }
        defer { discardAppend() }
        if state.writeFailed { return no(tag, code: .serverBug, "Could not spool the message, try again later") }
        var uids: [UID] = []
        var validity: UIDValidity = 0
        let gate = StorageQuotaGate.shared
        let accountID = account?.id ?? ""
        // Check and store under the account's gate: two sessions cannot both take the last bytes.
        await gate.acquire(accountID)
        if await wouldExceedStorage(adding: state.spooledBytes) {
            await gate.release(accountID)
            return no(tag, code: .overQuota, "Mailbox storage quota exceeded")
        }
        do {
            for message in state.spooled {
                let receipt = try await mail.deliver(.file(path: message.path, prefix: []), to: state.mailbox,
                                                     flags: message.flags, internalDate: message.date)
                uids.append(receipt.uid)
                validity = receipt.uidValidity
            }
            await gate.release(accountID)
        } catch {
            await gate.release(accountID)
            if !uids.isEmpty { _ = try? await mail.expungeMessages(mailboxID: state.mailboxID, uids: uids) }
            if let error = error as? MailStoreError, case .noSuchMailbox = error {
                return no(tag, code: .tryCreate, "No such mailbox")
            }
            logger.error("IMAP APPEND failed: \(error)")
            return no(tag, code: .serverBug, "Could not store the message, try again later")
        }
        await recordTraffic(state.spooledBytes)
        let code: ResponseCode? = uids.isEmpty ? nil : .appendUID(uidValidity: validity, uids: NumberSet(uids))
        return try await complete(tag, .noop, code: code, text: "APPEND completed")
    }

    /// Drops an APPEND in progress and its spool files.
    func discardAppend() {
        guard let state = append else { return }
        try? state.current?.close()
        if let path = state.currentPath { unlink(path) }
        for message in state.spooled { unlink(message.path) }
        append = nil
    }
}

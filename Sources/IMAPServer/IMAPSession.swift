import Foundation
import IMAPProtocol
import Logging
import MailServerCore
import MailStore

/// One IMAP conversation (RFC 9051, with IMAP4rev1 RFC 3501 clients served too): not authenticated →
/// authenticated → selected → logout (RFC 9051 §3).
///
/// The session reads with ``IMAPCommandParser`` (one line at a time at command boundaries, so graceful
/// shutdown can interrupt a waiting session; raw bytes inside a command for literals and APPEND data) and
/// answers through ``ResponseEncoder``. Other sessions' and SMTP's changes reach it through a
/// ``MailboxChangeSubscription``; they are sent as untagged responses only where RFC 9051 §7.4.1 allows
/// (never an EXPUNGE while answering FETCH, STORE or SEARCH by sequence number).
public final class IMAPSession {
    enum State: Equatable {
        case notAuthenticated, authenticated, selected, logout
    }

    enum Outcome {
        case proceed, close
    }

    let connection: MailConnection
    let settings: IMAPServerSettings
    let store: any MailStore
    let throttle: LoginThrottle
    let feed: MailboxChangeFeed
    /// Storage extras and the weekly transfer ledger (RFC 9208 QUOTA; issue 7); nil: plans only, nothing counted.
    let quotas: (any QuotaLedger)?
    let logger: Logger

    var parser: IMAPCommandParser
    var encoder = ResponseEncoder()
    var output: [UInt8] = []
    var state: State = .notAuthenticated
    var account: Account?
    var mail: (any IMAPAccountStore)?
    var subscription: MailboxChangeSubscription?
    var selected: SelectedMailbox?
    var errors = 0
    var authFailures = 0
    /// ENABLEd extensions (RFC 5161), uppercased.
    var enabled: Set<String> = []
    /// CONDSTORE is active: enabled, or used by a command (RFC 7162 §3.1).
    var condStore = false
    var append: AppendState?
    /// Set once COMPRESS DEFLATE is in effect (RFC 4978): every byte after its OK goes through it.
    var deflate: DeflateStreams?
    /// When this session last pruned the full-text index of removed messages.
    var lastIndexPrune: ContinuousClock.Instant?

    /// Output is written to the connection in pieces of about this size, and flushed before every read.
    static let outputChunk = 64 * 1024

    public init(connection: MailConnection, settings: IMAPServerSettings, store: any MailStore,
                throttle: LoginThrottle = .shared, feed: MailboxChangeFeed = .shared, quotas: (any QuotaLedger)? = nil,
                logger: Logger) {
        self.connection = connection
        self.settings = settings
        self.store = store
        self.throttle = throttle
        self.feed = feed
        self.quotas = quotas
        var logger = logger
        if settings.logIPAddresses, let address = connection.remoteAddress { logger[metadataKey: "client"] = "\(address)" }
        self.logger = logger
        parser = IMAPCommandParser(limits: IMAPCommandParser.Limits(maximumAppendSize: UInt64(max(0, settings.maximumMessageSize))))
    }

    var isRev2: Bool { enabled.contains("IMAP4REV2") }

    /// The largest APPEND (RFC 7889): the server's limit, lowered by the account's plan (issue 7).
    var appendLimit: Int {
        let planLimit = account.flatMap { settings.messageSizePerPlan[$0.plan] } ?? Int.max
        return max(0, min(settings.maximumMessageSize, planLimit))
    }

    // MARK: Loop

    public func run() async {
        connection.idleTimeout = settings.loginTimeout
        do {
            untagged(.ok, code: .capability(capabilities), text: "Skjold IMAP4rev2 server ready")
            try await flushOutput()
            try await loop()
        } catch MailConnectionError.timeout {
            untagged(.bye, text: "Autologout; idle or too slow")
            try? await flushOutput()
        } catch MailConnectionError.shuttingDown {
            untagged(.bye, code: .unavailable, text: "Server shutting down, try again later")
            try? await flushOutput()
        } catch {
            logger.debug("IMAP session ended: \(error)")
        }
        discardAppend()
        subscription?.cancel()
        subscription = nil
        await connection.close()
    }

    private func loop() async throws {
        while state != .logout {
            guard let event = try await nextEvent() else { return }
            // IDLE runs in the session's task: it waits long, and its own frames are small.
            if case .command(let tagged) = event, case .idle = tagged.command {
                if try await handle(tagged) == .close { return }
            } else if try await handleInChildTask(event) == .close {
                return
            }
        }
    }

    /// Handles one parser event in a child task. A task keeps every slab its async frames ever needed until
    /// it ends (the runtime's task allocator reuses them but never frees them), so commands run in the
    /// session's own task would leave each session holding its deepest command's frames for its lifetime:
    /// kilobytes per connection, for hours, in thousands of idling sessions. The session's task itself only
    /// ever waits for input.
    private func handleInChildTask(_ event: IMAPCommandEvent) async throws -> Outcome {
        try await inChildTask { session in try await session.handle(event) }
    }

    /// Runs `body` on this session in a child task and waits for it (see ``handleInChildTask(_:)``).
    func inChildTask<T: Sendable>(_ body: @escaping @Sendable (IMAPSession) async throws -> T) async throws -> T {
        let session = SessionReference(self)
        return try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body(session.value) }
            guard let result = try await group.next() else { throw CancellationError() }
            return result
        }
    }

    /// The next parser event, reading more input as needed; nil at end of input.
    func nextEvent() async throws -> IMAPCommandEvent? {
        while true {
            if let event = parser.next() { return event }
            try await flushOutput()
            if let deflate {
                // Compressed: lines cannot be found before inflating, so raw bytes are read (bounded, so
                // a hostile stream cannot inflate without limit) and the parser finds the lines.
                guard let bytes = try await connection.readBytes(max: DeflateStreams.maximumRead) else { return nil }
                parser.append(try inflate(bytes, with: deflate))
            } else if parser.hasBufferedInput {
                // Inside a command (a literal): it must keep up the minimum data rate (slow-client defence).
                connection.beginTransfer()
                guard let bytes = try await connection.readBytes(max: Self.outputChunk) else { return nil }
                parser.append(bytes)
            } else {
                // At a command boundary: a line read that graceful shutdown may interrupt.
                connection.endTransfer()
                switch try await connection.readLine(maxLength: parser.limits.maximumLineLength + 2) {
                case .line(let bytes):
                    parser.append(bytes)
                    parser.append([0x0D, 0x0A])
                case .tooLong:
                    untagged(.bad, code: .tooBig, text: "Command line too long")
                    if countError() == .close { return nil }
                case .eof:
                    return nil
                }
            }
        }
    }

    private func handle(_ event: IMAPCommandEvent) async throws -> Outcome {
        switch event {
        case .command(let tagged):
            return try await handle(tagged)
        case .continuationRequired:
            output.append(contentsOf: encoder.encode(.continuation("Ready for literal data")))
            try await flushOutput()
            return .proceed
        case .appendMessage(let message):
            return try await appendMessageStarts(message)
        case .appendData(let chunk):
            appendData(chunk)
            return .proceed
        case .appendMessageEnd:
            appendMessageEnds()
            return .proceed
        case .appendEnd(let tag):
            return try await appendEnds(tag: tag)
        case .authenticationResponse, .idleDone:
            // Only expected inside AUTHENTICATE / IDLE, which read their own lines.
            untagged(.bad, code: .clientBug, text: "Unexpected continuation line")
            return countError()
        case .error(let error):
            discardAppend()
            return try await refuse(error)
        }
    }

    /// Maps a grammar refusal to its reply (see ``IMAPParseError``).
    private func refuse(_ error: IMAPParseError) async throws -> Outcome {
        let status: ResponseStatus
        let code: ResponseCode?
        let text: String
        switch error.kind {
        case .syntax(let message): (status, code, text) = (.bad, .parse, "Syntax error: \(message)")
        case .lineTooLong: (status, code, text) = (.bad, .tooBig, "Command line too long")
        case .literalTooLarge: (status, code, text) = (.bad, .tooBig, "Literal too large")
        case .messageTooLarge: (status, code, text) = (.no, .tooBig, "Message larger than APPENDLIMIT \(appendLimit)")
        case .unsupportedCharset: (status, code, text) = (.no, .badCharset(["UTF-8", "US-ASCII"]), "Unsupported charset")
        }
        if error.isFatal {
            untagged(.bye, code: code, text: "Cannot continue: \(text)")
            try await flushOutput()
            return .close
        }
        if let tag = error.tag {
            tagged(tag, status, code: code, text: text)
        } else {
            untagged(status == .no ? .no : .bad, code: code, text: text)
        }
        return status == .bad ? countError() : .proceed
    }

    /// Counts an invalid command; past the limit the session ends with BYE.
    func countError() -> Outcome {
        errors += 1
        if errors > settings.maximumErrors {
            untagged(.bye, code: .limit, text: "Too many invalid commands")
            return .close
        }
        return .proceed
    }

    // MARK: Output

    func send(_ response: Response) {
        encoder.encode(response, into: &output)
    }

    func untagged(_ status: UntaggedStatus, code: ResponseCode? = nil, text: String) {
        send(.untaggedStatus(status, code: code, text: text))
    }

    func untagged(_ data: UntaggedData) {
        send(.untagged(data))
    }

    func tagged(_ tag: String, _ status: ResponseStatus, code: ResponseCode? = nil, text: String) {
        send(.tagged(tag: tag, status: status, code: code, text: text))
    }

    /// `tag BAD` counted against the error limit.
    func bad(_ tag: String, code: ResponseCode? = .clientBug, _ text: String) -> Outcome {
        tagged(tag, .bad, code: code, text: text)
        return countError()
    }

    /// `tag NO` (a refusal, not a client error).
    func no(_ tag: String, code: ResponseCode?, _ text: String) -> Outcome {
        tagged(tag, .no, code: code, text: text)
        return .proceed
    }

    /// Sends what is buffered when it grew large; keeps memory bounded on big FETCH responses. Flushed, not
    /// only written: under TLS, unflushed writes wait in the TLS handler (they do not count against the
    /// channel's writability), so a large response would otherwise be held whole and sent only at its end.
    func writeIfLarge() async throws {
        if output.count >= Self.outputChunk { try await writeOutput(flush: true) }
    }

    func writeOutput(flush: Bool) async throws {
        guard !output.isEmpty || flush else { return }
        // The buffer is handed over, not copied. A session that streams a large response gets a new one
        // of the chunk size; others start small again, so an idling session holds no output buffer.
        var bytes = output
        output = []
        if bytes.count >= Self.outputChunk { output.reserveCapacity(Self.outputChunk + Self.outputChunk / 4) }
        if let deflate {
            do {
                bytes = try deflate.compress(bytes)
            } catch {
                throw MailConnectionError.closed
            }
        }
        try await connection.write(bytes, flush: flush)
    }

    func flushOutput() async throws {
        try await writeOutput(flush: true)
    }

    // MARK: Capabilities

    var capabilities: [String] {
        var caps = ["IMAP4rev1", "IMAP4rev2"]
        if state == .notAuthenticated {
            if connection.offersStartTLS { caps.append("STARTTLS") }
            if connection.isTLS { caps.append("AUTH=PLAIN") } else { caps.append("LOGINDISABLED") }
            caps += ["SASL-IR", "ID", "ENABLE", "LITERAL+"]
            return caps
        }
        caps += ["IDLE", "NAMESPACE", "UIDPLUS", "MOVE", "UNSELECT", "ENABLE", "SPECIAL-USE", "CREATE-SPECIAL-USE",
                 "LIST-EXTENDED", "LIST-STATUS", "CHILDREN", "ID", "LITERAL+", "SASL-IR", "ESEARCH", "SEARCHRES",
                 "CONDSTORE", "APPENDLIMIT=\(appendLimit)", "STATUS=SIZE", "UTF8=ACCEPT", "BINARY",
                 "MULTIAPPEND", "WITHIN", "QUOTA", "QUOTA=RES-STORAGE"]
        caps += ["SORT", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES"]
        if deflate == nil { caps.append("COMPRESS=DEFLATE") }
        return caps
    }

    // MARK: Dispatch

    /// Which commands each state allows (RFC 9051 §6); nil when allowed, else the refusal text.
    private func refusal(for command: Command) -> String? {
        switch command {
        case .capability, .noop, .logout, .id:
            return nil
        case .startTLS, .authenticate, .login:
            return state == .notAuthenticated ? nil : "Already authenticated"
        case .enable, .select, .examine, .create, .delete, .rename, .subscribe, .unsubscribe, .list, .lsub,
             .namespace, .status, .idle, .compress, .getQuota, .getQuotaRoot, .setQuota:
            return state == .notAuthenticated ? "Log in first" : nil
        case .check, .close, .unselect, .expunge, .uidExpunge, .search, .fetch, .store, .copy, .move, .sort, .thread:
            switch state {
            case .selected: return nil
            case .notAuthenticated: return "Log in first"
            default: return "No mailbox selected"
            }
        }
    }

    private func handle(_ tagged: TaggedCommand) async throws -> Outcome {
        let tag = tagged.tag
        if let refusal = refusal(for: tagged.command) {
            return bad(tag, refusal)
        }
        let outcome: Outcome
        do {
            // IDLE waits long: it does not go through `dispatch`, whose frame is large (it holds every
            // command's locals) and would stay allocated for as long as the client idles.
            if case .idle = tagged.command {
                outcome = try await idle(tag)
            } else {
                outcome = try await dispatch(tag, tagged.command)
            }
        } catch let error as MailConnectionError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as MailStoreError {
            outcome = no(tag, code: Self.code(for: error), Self.text(for: error))
        } catch {
            logger.error("IMAP \(tagged.command.name) failed: \(error)")
            outcome = no(tag, code: .serverBug, "Internal error, try again later")
        }
        return outcome
    }

    static func code(for error: MailStoreError) -> ResponseCode {
        switch error {
        case .noSuchMailbox: return .nonExistent
        case .mailboxExists: return .alreadyExists
        case .invalidMailboxName: return .cannot
        case .cannotDelete: return .cannot
        case .noSuchMessage: return .expungeIssued
        case .accountGone: return .unavailable
        case .io: return .serverBug
        }
    }

    static func text(for error: MailStoreError) -> String {
        switch error {
        case .noSuchMailbox: return "No such mailbox"
        case .mailboxExists: return "Mailbox already exists"
        case .invalidMailboxName: return "Invalid mailbox name"
        case .cannotDelete(_, let reason): return reason
        case .noSuchMessage: return "Message no longer exists"
        case .accountGone: return "Account no longer available"
        case .io: return "Storage error, try again later"
        }
    }

    private func dispatch(_ tag: String, _ command: Command) async throws -> Outcome {
        switch command {
        case .capability:
            untagged(.capability(capabilities))
            return try await complete(tag, command)
        case .noop, .check:
            return try await complete(tag, command)
        case .logout:
            untagged(.bye, text: "Logging out")
            tagged(tag, .ok, text: "LOGOUT completed")
            try await flushOutput()
            state = .logout
            return .close
        case .id:
            untagged(.id([IDField("name", "Skjold"), IDField("vendor", "Skjold")]))
            return try await complete(tag, command)
        case .startTLS:
            return try await startTLS(tag)
        case .login(let user, let password):
            return try await login(tag, user: user, password: password)
        case .authenticate(let mechanism, let initial):
            return try await authenticate(tag, mechanism: mechanism, initialResponse: initial)
        case .enable(let names):
            return try await enable(tag, names)
        case .namespace:
            untagged(.namespace(personal: [NamespaceDescription(prefix: "", delimiter: "/")], other: nil, shared: nil))
            return try await complete(tag, command)
        case .select(let name, let params):
            return try await select(tag, name, params, readOnly: false)
        case .examine(let name, let params):
            return try await select(tag, name, params, readOnly: true)
        case .create(let name, let specialUse):
            return try await create(tag, name, specialUse: specialUse)
        case .delete(let name):
            return try await delete(tag, name)
        case .rename(let from, let to):
            return try await rename(tag, from: from, to: to)
        case .subscribe(let name):
            return try await subscribe(tag, name, true)
        case .unsubscribe(let name):
            return try await subscribe(tag, name, false)
        case .list(let listCommand):
            return try await list(tag, listCommand)
        case .lsub(let reference, let pattern):
            return try await lsub(tag, reference: reference, pattern: pattern)
        case .status(let name, let items):
            return try await status(tag, name, items)
        case .idle:
            return try await idle(tag)
        case .getQuota(let root):
            return try await getQuota(tag, root: root)
        case .getQuotaRoot(let name):
            return try await getQuotaRoot(tag, name)
        case .setQuota:
            // RFC 9208 §4.1.3: limits come from the account's plan, set by the administrator.
            return no(tag, code: .noPerm, "Quotas are set by the administrator")
        case .compress(let algorithm):
            return try await compress(tag, algorithm: algorithm)
        case .sort(let sortCommand, let uid):
            return try await sort(tag, sortCommand, uid: uid)
        case .thread(let threadCommand, let uid):
            return try await thread(tag, threadCommand, uid: uid)
        case .close:
            return try await closeMailbox(tag, expunge: true)
        case .unselect:
            return try await closeMailbox(tag, expunge: false)
        case .expunge:
            return try await expunge(tag, only: nil, uid: false)
        case .uidExpunge(let set):
            return try await expunge(tag, only: set, uid: true)
        case .fetch(let set, let attributes, let modifiers, let uid):
            return try await fetch(tag, set, attributes, modifiers, uid: uid)
        case .store(let set, let store, let uid):
            return try await storeFlags(tag, set, store, uid: uid)
        case .copy(let set, let destination, let uid):
            return try await copy(tag, set, to: destination, uid: uid, move: false)
        case .move(let set, let destination, let uid):
            return try await copy(tag, set, to: destination, uid: uid, move: true)
        case .search(let searchCommand, let uid):
            return try await search(tag, searchCommand, uid: uid)
        }
    }

    /// Inflates compressed input; a corrupt stream ends the session (nothing after it can be trusted).
    func inflate(_ bytes: [UInt8], with deflate: DeflateStreams) throws -> [UInt8] {
        do {
            return try deflate.decompress(bytes)
        } catch {
            logger.debug("IMAP compressed input invalid: \(error)")
            throw MailConnectionError.closed
        }
    }

    /// COMPRESS DEFLATE (RFC 4978 §3): the OK is the last uncompressed response.
    func compress(_ tag: String, algorithm: String) async throws -> Outcome {
        guard algorithm.uppercased() == "DEFLATE" else { return bad(tag, code: .cannot, "Unknown compression algorithm") }
        if deflate != nil { return no(tag, code: .other("COMPRESSIONACTIVE", nil), "Compression is already active") }
        let streams: DeflateStreams
        do {
            streams = try DeflateStreams()
        } catch {
            logger.error("IMAP COMPRESS setup failed: \(error)")
            return no(tag, code: .serverBug, "Compression unavailable")
        }
        tagged(tag, .ok, text: "DEFLATE active")
        try await flushOutput()
        deflate = streams
        return .proceed
    }

    /// Sends pending mailbox updates (where allowed) and `tag OK`.
    func complete(_ tag: String, _ command: Command, code: ResponseCode? = nil, text: String? = nil) async throws -> Outcome {
        try await sendUpdates(allowExpunge: Self.allowsExpungeResponses(command))
        tagged(tag, .ok, code: code, text: text ?? "\(command.name) completed")
        return .proceed
    }

    /// RFC 9051 §7.4.1 / §7.5.1: no EXPUNGE while answering FETCH, STORE or SEARCH by sequence number
    /// (the client could not match later numbers). UID variants may see them.
    static func allowsExpungeResponses(_ command: Command) -> Bool {
        switch command {
        case .fetch(_, _, _, let uid), .store(_, _, let uid), .search(_, let uid), .sort(_, let uid), .thread(_, let uid):
            return uid
        default:
            return true
        }
    }

    /// Takes in changes to the selected mailbox made elsewhere and queues their untagged responses. When
    /// expunges may not be announced now, nothing is taken in (sequence numbers must not move); the next
    /// allowed moment sends everything.
    func sendUpdates(allowExpunge: Bool) async throws {
        // Taken first, also without a selection, so a pending notice cannot keep waking IDLE.
        _ = subscription?.takeChanges()
        guard var box = selected, let mail else { return }
        // One read: it answers "nothing new" by itself when HIGHESTMODSEQ has not moved.
        let delta: MailboxDelta
        do {
            delta = try await mail.delta(mailboxID: box.id, since: box.knownModSeq, knownUIDBound: box.lastUID,
                                         knownCount: box.count)
        } catch MailStoreError.noSuchMailbox {
            // Deleted by another session: nothing more can be done with it (RFC 9051 §7.1: BYE would be
            // allowed; clients cope better with an empty mailbox and a NO on the next command).
            return
        }
        guard delta.highestModSeq > box.knownModSeq else { return }
        if delta.survivingUIDs != nil && !allowExpunge { return }
        // Held only by `box` while it changes: its arrays are updated in place, not copied (a copy per
        // refresh costs a large mailbox's size on every APPEND or push).
        selected = nil
        let updates = box.apply(delta, includeModSeq: condStore)
        selected = box
        for update in updates { untagged(update) }
    }
}

/// The session, handed to the child task that runs one of its commands. `@unchecked`: the session's task
/// waits for that child to finish before touching the session again, so only one task uses it at a time.
struct SessionReference: @unchecked Sendable {
    let value: IMAPSession
    init(_ value: IMAPSession) { self.value = value }
}

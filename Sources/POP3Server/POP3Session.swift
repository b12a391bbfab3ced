import Foundation
import Logging
import MailServerCore
import MailStore
import POP3Protocol

/// One POP3 conversation (RFC 1939): AUTHORIZATION, TRANSACTION, UPDATE. The maildrop is the Inbox;
/// DELE only marks, and the marked messages are expunged at QUIT — a dropped connection deletes nothing.
public final class POP3Session {
    private let connection: MailConnection
    private let settings: POP3ServerSettings
    private let store: any MailStore
    private let throttle: LoginThrottle
    private let locks: MaildropLocks
    private let quotas: (any QuotaLedger)?
    private let logger: Logger

    private var pendingUser: String?
    private var maildrop: Maildrop?
    private var errors = 0
    private var authFailures = 0

    private enum Outcome { case proceed, close }

    /// The Inbox as it was at login: message numbers are fixed for the session (RFC 1939 §5).
    private struct Maildrop {
        var account: Account
        var mail: any AccountMailStore
        var uidValidity: UIDValidity
        var messages: [MessageRecord]
        var deleted = Set<Int>()

        func uidl(_ index: Int) -> String {
            // Dovecot's default format (%08Xu%08Xv): stable forever, same for SMTP- and IMAP-delivered mail.
            Self.hex8(messages[index].uid) + Self.hex8(uidValidity)
        }

        static func hex8(_ value: UInt32) -> String {
            let hex = String(value, radix: 16, uppercase: true)
            return String(repeating: "0", count: max(0, 8 - hex.count)) + hex
        }
    }

    public init(connection: MailConnection, settings: POP3ServerSettings, store: any MailStore,
                throttle: LoginThrottle = .shared, locks: MaildropLocks = .shared, quotas: (any QuotaLedger)? = nil,
                logger: Logger) {
        self.connection = connection
        self.settings = settings
        self.store = store
        self.throttle = throttle
        self.locks = locks
        self.quotas = quotas
        var logger = logger
        if settings.logIPAddresses, let address = connection.remoteAddress { logger[metadataKey: "client"] = "\(address)" }
        self.logger = logger
    }

    public func run() async {
        connection.idleTimeout = settings.idleTimeout
        do {
            try await connection.write(POP3Response.ok("Skjold POP3 server ready"), flush: true)
            try await loop()
        } catch MailConnectionError.timeout {
            // Idle, or too slow within a command (slow-client deadline): temporary, come back later.
            try? await connection.write(POP3Response.err("Autologout; idle or too slow", code: .sysTemp), flush: true)
        } catch MailConnectionError.shuttingDown {
            try? await connection.write(POP3Response.err("Server shutting down, try again later", code: .sysTemp), flush: true)
        } catch {
            logger.debug("POP3 session ended: \(error)")
        }
        // Not through QUIT: nothing is deleted (RFC 1939 §6).
        if let maildrop { locks.release(maildrop.account.id) }
        maildrop = nil
        await connection.close()
    }

    private func loop() async throws {
        while true {
            let line: [UInt8]
            switch try await connection.readLine(maxLength: POP3CommandParser.maximumLineLength) {
            case .line(let bytes): line = bytes
            case .tooLong:
                if try await error("Command line too long") == .close { return }
                continue
            case .eof: return
            }
            let outcome: Outcome
            switch POP3CommandParser.parse(line: line) {
            case .success(let command): outcome = try await handle(command)
            case .failure(let syntaxError): outcome = try await error(syntaxError.description)
            }
            if outcome == .close { return }
        }
    }

    private func send(_ bytes: [UInt8]) async throws {
        try await connection.write(bytes)
    }

    private func error(_ text: String, code: POP3ResponseCode? = nil) async throws -> Outcome {
        errors += 1
        if errors > settings.maximumErrors {
            try await connection.write(POP3Response.err("Too many errors, closing connection"), flush: true)
            return .close
        }
        try await send(POP3Response.err(text, code: code))
        return .proceed
    }

    // MARK: Dispatch

    private func handle(_ command: POP3Command) async throws -> Outcome {
        switch command {
        case .capa:
            try await send(POP3Response.multiline("Capability list follows", lines: capabilities))
            return .proceed
        case .noop where maildrop != nil:
            try await send(POP3Response.ok())
            return .proceed
        case .quit:
            return try await quit()
        case .unknown(let verb):
            return try await error("Unknown command \(verb)")
        default:
            break
        }
        if maildrop == nil {
            return try await authorization(command)
        }
        return try await transaction(command)
    }

    private var capabilities: [String] {
        var lines = ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "EXPIRE NEVER", "IMPLEMENTATION Skjold"]
        if maildrop == nil {
            lines.insert("USER", at: 2)
            if connection.isTLS { lines.append("SASL PLAIN") }
            if connection.offersStartTLS { lines.append("STLS") }
        }
        return lines
    }

    // MARK: AUTHORIZATION

    private func authorization(_ command: POP3Command) async throws -> Outcome {
        switch command {
        case .stls:
            if connection.isTLS { return try await error("Already using TLS") }
            guard connection.offersStartTLS else { return try await error("STLS not available") }
            try await send(POP3Response.ok("Begin TLS negotiation"))
            do {
                try await connection.startTLS()
            } catch {
                logger.debug("STLS handshake failed: \(error)")
                return .close
            }
            pendingUser = nil
            return .proceed
        case .user(let name):
            guard connection.isTLS else { return try await tlsRequired() }
            pendingUser = name
            try await send(POP3Response.ok("Send PASS"))
            return .proceed
        case .pass(let password):
            guard connection.isTLS else { return try await tlsRequired() }
            guard let user = pendingUser else { return try await error("Send USER first") }
            pendingUser = nil
            return try await login(user, password: password)
        case .auth(let mechanism, let initialResponse):
            guard let mechanism else {
                // Not in RFC 5034, but widely used by clients to discover mechanisms.
                try await send(POP3Response.multiline("Supported mechanisms", lines: connection.isTLS ? ["PLAIN"] : []))
                return .proceed
            }
            guard connection.isTLS else { return try await tlsRequired() }
            guard mechanism == "PLAIN" else { return try await error("Unsupported authentication mechanism") }
            var response = initialResponse
            if response == nil {
                try await connection.write(POP3Response.continuation(), flush: true)
                switch try await connection.readLine(maxLength: 12_288, interruptible: false) {
                case .line(let bytes): response = String(decoding: bytes, as: UTF8.self)
                case .tooLong: return try await error("Authentication response too long")
                case .eof: return .close
                }
            }
            guard let text = response else { return .proceed }
            if text == "*" { return try await error("Authentication cancelled") }
            guard let credentials = PlainCredentials(base64: text == "=" ? "" : text) else {
                return try await loginFailed("")
            }
            if let authz = credentials.authorizationID, authz.lowercased() != credentials.authenticationID.lowercased() {
                return try await loginFailed(credentials.authenticationID)
            }
            return try await login(credentials.authenticationID, password: credentials.password)
        case .stat, .list, .retr, .dele, .rset, .top, .uidl, .noop:
            return try await error("Not logged in")
        case .capa, .quit, .unknown:
            return .proceed  // handled before
        }
    }

    private func tlsRequired() async throws -> Outcome {
        try await error("Plaintext authentication disallowed on non-secure connection; use STLS", code: .auth)
    }

    private func login(_ user: String, password: String) async throws -> Outcome {
        if throttle.check(login: user, address: connection.limitKey) == .refuse {
            return try await error("Too many failed logins, try again later", code: .sysTemp)
        }
        let account: Account?
        do {
            account = try await store.directory.authenticate(user, password: password)
        } catch {
            logger.error("POP3 authentication backend error: \(error)")
            return try await self.error("Temporary authentication failure", code: .sysTemp)
        }
        guard let account else { return try await loginFailed(user) }
        throttle.recordSuccess(login: user, address: connection.limitKey)
        guard locks.acquire(account.id) else {
            return try await error("Maildrop is in use by another POP3 session", code: .inUse)
        }
        do {
            let mail = try await store.mail(for: account)
            guard let inbox = try await mail.mailbox(named: "INBOX") else { throw MailStoreError.noSuchMailbox("INBOX") }
            let messages = try await mail.messages(in: "INBOX")
            maildrop = Maildrop(account: account, mail: mail, uidValidity: inbox.uidValidity, messages: messages)
        } catch {
            locks.release(account.id)
            logger.error("POP3 maildrop open failed: \(error)")
            return try await self.error("Cannot open maildrop, try again later", code: .sysTemp)
        }
        let count = maildrop?.messages.count ?? 0
        let octets = maildrop?.messages.reduce(Int64(0)) { $0 + $1.size } ?? 0
        try await send(POP3Response.ok("Logged in, \(count) messages (\(octets) octets)"))
        return .proceed
    }

    private func loginFailed(_ user: String) async throws -> Outcome {
        let delay = throttle.recordFailure(login: user, address: connection.limitKey)
        if delay > .zero {
            try await connection.flush()
            try await Task.sleep(for: delay)
        }
        authFailures += 1
        if authFailures >= settings.maximumAuthFailures {
            try await connection.write(POP3Response.err("Authentication failed, closing connection", code: .auth), flush: true)
            return .close
        }
        return try await error("Authentication failed", code: .auth)
    }

    // MARK: TRANSACTION

    private func transaction(_ command: POP3Command) async throws -> Outcome {
        guard var drop = maildrop else { return .proceed }
        switch command {
        case .stat:
            let live = drop.messages.indices.filter { !drop.deleted.contains($0) }
            let octets = live.reduce(Int64(0)) { $0 + drop.messages[$1].size }
            try await send(POP3Response.ok("\(live.count) \(octets)"))
        case .list(let number):
            if let number {
                guard let index = liveIndex(number, in: drop) else { return try await noSuchMessage(number) }
                try await send(POP3Response.ok("\(number) \(drop.messages[index].size)"))
            } else {
                let lines = drop.messages.indices.filter { !drop.deleted.contains($0) }.map { "\($0 + 1) \(drop.messages[$0].size)" }
                try await send(POP3Response.multiline("\(lines.count) messages", lines: lines))
            }
        case .uidl(let number):
            if let number {
                guard let index = liveIndex(number, in: drop) else { return try await noSuchMessage(number) }
                try await send(POP3Response.ok("\(number) \(drop.uidl(index))"))
            } else {
                let lines = drop.messages.indices.filter { !drop.deleted.contains($0) }.map { "\($0 + 1) \(drop.uidl($0))" }
                try await send(POP3Response.multiline("Unique-ID listing follows", lines: lines))
            }
        case .retr(let number):
            guard let index = liveIndex(number, in: drop) else { return try await noSuchMessage(number) }
            return try await stream(index, of: drop, bodyLines: nil)
        case .top(let number, let lines):
            guard let index = liveIndex(number, in: drop) else { return try await noSuchMessage(number) }
            return try await stream(index, of: drop, bodyLines: lines)
        case .dele(let number):
            guard let index = liveIndex(number, in: drop) else { return try await noSuchMessage(number) }
            drop.deleted.insert(index)
            maildrop = drop
            try await send(POP3Response.ok("Message \(number) deleted"))
        case .rset:
            drop.deleted.removeAll()
            maildrop = drop
            try await send(POP3Response.ok("\(drop.messages.count) messages"))
        case .noop:
            try await send(POP3Response.ok())
        case .user, .pass, .auth, .stls:
            return try await error("Already logged in")
        case .capa, .quit, .unknown:
            break
        }
        return .proceed
    }

    private func liveIndex(_ number: Int, in drop: Maildrop) -> Int? {
        let index = number - 1
        guard drop.messages.indices.contains(index), !drop.deleted.contains(index) else { return nil }
        return index
    }

    private func noSuchMessage(_ number: Int) async throws -> Outcome {
        try await error("No such message \(number)")
    }

    /// The refusal text when the account's weekly download allowance is used up, else nil. Listing,
    /// deleting and QUIT keep working, so the user can always clean up.
    private func bandwidthRefusal(_ account: Account) async -> String? {
        guard let quotas else { return nil }
        do {
            let extra = try await quotas.extras(ofAccount: account.id).bandwidthPerWeek
            let limit = (settings.bandwidthPerWeek[account.plan] ?? settings.defaultBandwidth) &+ extra
            let usage = try await quotas.trafficUsage(accountID: account.id, now: Date())
            guard usage.used >= limit else { return nil }
            let frees = usage.freesAt.map { "; it frees up from \(Self.utc($0))" } ?? ""
            return "Weekly download allowance of \(limit) bytes used up\(frees). Listing and deleting still work"
        } catch {
            logger.error("POP3 bandwidth check failed: \(error)")
            return nil
        }
    }

    static func utc(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// RETR / TOP: streams the stored file in chunks through the byte-stuffer; never the whole message in memory.
    private func stream(_ index: Int, of drop: Maildrop, bodyLines: Int?) async throws -> Outcome {
        let record = drop.messages[index]
        if let refusal = await bandwidthRefusal(drop.account) {
            return try await error(refusal, code: .sysPerm)
        }
        let handle: FileHandle
        do {
            let path = try await drop.mail.messagePath(in: "INBOX", uid: record.uid)
            guard let opened = FileHandle(forReadingAtPath: path) else { throw MailStoreError.noSuchMessage(record.uid) }
            handle = opened
        } catch {
            return try await self.error("Message \(index + 1) is no longer available", code: .sysTemp)
        }
        defer { try? handle.close() }
        try await send(POP3Response.ok(bodyLines == nil ? "\(record.size) octets" : "Top of message follows"))
        var stuffer = POP3ByteStuffer()
        var output: [UInt8] = []
        output.reserveCapacity(70_000)
        while true {
            let chunk: Data
            do {
                chunk = try handle.read(upToCount: 64 * 1024) ?? Data()
            } catch {
                // The +OK is out: end the response cleanly and close, the client sees a short message.
                logger.error("POP3 read failed: \(error)")
                return .close
            }
            if chunk.isEmpty { break }
            output.removeAll(keepingCapacity: true)
            var more = true
            let bytes = [UInt8](chunk)
            if let bodyLines {
                more = stuffer.encode(bytes[...], bodyLineLimit: bodyLines, into: &output)
            } else {
                stuffer.encode(bytes[...], into: &output)
            }
            // Flushed per chunk: unflushed output would pile up in memory.
            try await connection.write(output, flush: true)
            if !more { break }
        }
        output.removeAll(keepingCapacity: true)
        stuffer.finish(into: &output)
        try await connection.write(output)
        try? await quotas?.recordTraffic(accountID: drop.account.id, bytes: Int64(stuffer.messageOctets), now: Date())
        return .proceed
    }

    // MARK: UPDATE

    private func quit() async throws -> Outcome {
        guard let drop = maildrop else {
            try await connection.write(POP3Response.ok("Skjold POP3 server signing off"), flush: true)
            return .close
        }
        let uids = drop.deleted.sorted().map { drop.messages[$0].uid }
        do {
            if !uids.isEmpty { try await drop.mail.expunge(in: "INBOX", uids: uids) }
            try await connection.write(POP3Response.ok("Skjold POP3 server signing off (\(uids.count) messages deleted)"), flush: true)
        } catch {
            logger.error("POP3 expunge failed: \(error)")
            try await connection.write(POP3Response.err("Some deleted messages not removed", code: .sysTemp), flush: true)
        }
        return .close
    }
}

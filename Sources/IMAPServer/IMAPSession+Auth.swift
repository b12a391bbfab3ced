import Foundation
import IMAPProtocol
import MailServerCore
import MailStore

extension IMAPSession {
    /// STARTTLS (RFC 9051 §6.2.1). Input the client sent after the command is dropped (plaintext command
    /// injection), here and in the connection.
    func startTLS(_ tag: String) async throws -> Outcome {
        if connection.isTLS { return bad(tag, "TLS already active") }
        guard connection.offersStartTLS else { return no(tag, code: .cannot, "STARTTLS not available") }
        tagged(tag, .ok, text: "Begin TLS negotiation now")
        // Written but not flushed: `startTLS()` flushes it itself once the TLS handler is in place. Flushing
        // here would let a fast client's ClientHello arrive first and be discarded as injected plaintext.
        try await writeOutput(flush: false)
        parser.reset()
        do {
            try await connection.startTLS()
        } catch {
            logger.debug("IMAP STARTTLS handshake failed: \(error)")
            return .close
        }
        return .proceed
    }

    /// LOGIN (RFC 9051 §6.2.3): only over TLS (LOGINDISABLED before).
    func login(_ tag: String, user: String, password: String) async throws -> Outcome {
        guard connection.isTLS else {
            return no(tag, code: .privacyRequired, "Use STARTTLS first; plaintext login is disabled")
        }
        return try await checkPassword(tag, user: user, password: password)
    }

    /// AUTHENTICATE PLAIN (RFC 9051 §6.2.2, RFC 4616), with SASL-IR (RFC 4959).
    func authenticate(_ tag: String, mechanism: String, initialResponse: SASLInitialResponse?) async throws -> Outcome {
        guard mechanism == "PLAIN" else { return no(tag, code: .cannot, "Unsupported authentication mechanism") }
        guard connection.isTLS else {
            return no(tag, code: .privacyRequired, "Use STARTTLS first; authentication needs TLS")
        }
        var response: [UInt8]
        switch initialResponse {
        case .empty?: response = []
        case .data(let bytes)?: response = bytes
        case nil:
            send(.challenge([]))
            try await flushOutput()
            parser.expectAuthenticationResponse()
            guard let event = try await nextEvent() else { return .close }
            switch event {
            case .authenticationResponse(.data(let bytes)): response = bytes
            case .authenticationResponse(.cancel): return bad(tag, code: nil, "Authentication cancelled")
            case .error: return bad(tag, code: .parse, "Invalid authentication response")
            default: return bad(tag, code: .parse, "Expected an authentication response")
            }
        }
        // message = [authzid] UTF8NUL authcid UTF8NUL passwd (RFC 4616 §2)
        let fields = response.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count == 3,
              let authz = String(validating: Array(fields[0]), as: UTF8.self),
              let user = String(validating: Array(fields[1]), as: UTF8.self),
              let password = String(validating: Array(fields[2]), as: UTF8.self), !user.isEmpty else {
            return try await loginFailed(tag, user: "")
        }
        if !authz.isEmpty, authz.lowercased() != user.lowercased() {
            return try await loginFailed(tag, user: user, code: .authorizationFailed)
        }
        return try await checkPassword(tag, user: user, password: password)
    }

    private func checkPassword(_ tag: String, user: String, password: String) async throws -> Outcome {
        if throttle.check(login: user, address: connection.limitKey) == .refuse {
            return no(tag, code: .unavailable, "Too many failed logins, try again later")
        }
        let found: Account?
        do {
            found = try await store.directory.authenticate(user, password: password)
        } catch {
            logger.error("IMAP authentication backend error: \(error)")
            return no(tag, code: .unavailable, "Temporary authentication failure")
        }
        guard let account = found else { return try await loginFailed(tag, user: user) }
        throttle.recordSuccess(login: user, address: connection.limitKey)
        do {
            guard let mail = try await store.mail(for: account) as? any IMAPAccountStore else {
                return no(tag, code: .unavailable, "This storage backend does not serve IMAP")
            }
            try await mail.prepareForIMAP()
            self.mail = mail
        } catch {
            logger.error("IMAP mail store open failed: \(error)")
            return no(tag, code: .unavailable, "Mailbox unavailable, try again later")
        }
        self.account = account
        parser.limits.maximumAppendSize = UInt64(appendLimit)
        subscription = feed.subscribe(accountID: account.id)
        if let mail { BackgroundIndexer.shared.watch(mail, accountID: account.id, feed: feed, logger: logger) }
        state = .authenticated
        connection.idleTimeout = settings.idleTimeout
        tagged(tag, .ok, code: .capability(capabilities), text: "Logged in")
        return .proceed
    }

    private func loginFailed(_ tag: String, user: String, code: ResponseCode = .authenticationFailed) async throws -> Outcome {
        let delay = throttle.recordFailure(login: user, address: connection.limitKey)
        if delay > .zero {
            try await flushOutput()
            try await Task.sleep(for: delay)
        }
        authFailures += 1
        if authFailures >= settings.maximumAuthFailures {
            tagged(tag, .no, code: code, text: "Authentication failed")
            untagged(.bye, code: .limit, text: "Too many failed logins")
            try await flushOutput()
            return .close
        }
        return no(tag, code: code, "Authentication failed")
    }

    /// ENABLE (RFC 5161): CONDSTORE, UTF8=ACCEPT (RFC 6855), IMAP4rev2 (RFC 9051 §6.3.1).
    func enable(_ tag: String, _ names: [String]) async throws -> Outcome {
        var newly: [String] = []
        for name in names {
            let key = name.uppercased()
            guard ["CONDSTORE", "UTF8=ACCEPT", "IMAP4REV2"].contains(key), !enabled.contains(key) else { continue }
            enabled.insert(key)
            newly.append(name)
            switch key {
            case "CONDSTORE": condStore = true
            case "UTF8=ACCEPT", "IMAP4REV2":
                // Mailbox names and quoted strings are UTF-8 from now on (RFC 6855 §3, RFC 9051 §5.1).
                parser.utf8Enabled = true
                encoder.utf8Enabled = true
            default: break
            }
        }
        untagged(.enabled(newly))
        return try await complete(tag, .enable(names))
    }

    /// IDLE (RFC 2177): pushes changes as they happen until DONE. One wakeable read waits for the client's
    /// DONE and for mailbox changes at once (the change feed wakes it): no polling, no second task, so an
    /// idling session holds a pending read and little else. Pushes run in short-lived child tasks, whose
    /// frames are freed after each (see ``handleInChildTask(_:)``). The idle timeout counts from the start
    /// of the IDLE (RFC 9051 §5.4), not from the last push: pushes do not keep a silent client alive.
    func idle(_ tag: String) async throws -> Outcome {
        send(.continuation("idling"))
        guard let subscription else { return .close }
        let connection = self.connection
        subscription.setChangeHandler { connection.wake() }
        defer { subscription.setChangeHandler(nil) }
        try await pushInChildTask()
        parser.expectIdleDone()
        let ends = ContinuousClock.now + connection.idleTimeout
        while true {
            // DONE may have come along with IDLE, or with the last read.
            if let event = parser.next() { return try await idleEnded(tag, event) }
            let left = ends - ContinuousClock.now
            guard left > .zero else { throw MailConnectionError.timeout }
            let read = deflate != nil
                ? try await connection.readBytesOrWake(max: DeflateStreams.maximumRead, idleTimeout: left)
                : try await connection.readLineOrWake(maxLength: 1024, idleTimeout: left)
            switch read {
            case .woken:
                if subscription.hasChanges { try await pushInChildTask() }
            case .line(.line(let bytes)):
                parser.append(bytes)
                parser.append([0x0D, 0x0A])
            case .line(.tooLong):
                return bad(tag, code: .parse, "Expected DONE")
            case .line(.eof), .bytes(nil):
                return .close
            case .bytes(let bytes?):
                if let deflate { parser.append(try inflate(bytes, with: deflate)) }
            }
        }
    }

    /// Sends pending changes during IDLE, in a child task (its frames are freed when it ends: IDLE runs in
    /// the session's own task, which keeps whatever it allocates).
    private func pushInChildTask(flush: Bool = true) async throws {
        try await inChildTask { session in
            try await session.sendUpdates(allowExpunge: true)
            if flush { try await session.flushOutput() }
        }
    }

    /// The reply to what ended an IDLE: DONE, or anything else (a client error).
    private func idleEnded(_ tag: String, _ event: IMAPCommandEvent) async throws -> Outcome {
        switch event {
        case .idleDone:
            try await pushInChildTask(flush: false)
            tagged(tag, .ok, text: "IDLE terminated")
            return .proceed
        default:
            return bad(tag, code: .parse, "Expected DONE")
        }
    }
}

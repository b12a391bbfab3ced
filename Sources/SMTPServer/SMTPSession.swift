import Foundation
import Logging
import MailServerCore
import MailStore
import SMTPProtocol
import SkjoldConfig

/// One SMTP conversation (RFC 5321), MX or submission, as a plain loop over `MailConnection`:
/// read a command line, parse it with `SMTPCommandParser`, answer with an `SMTPReply`.
///
/// Replies are written without flushing; `MailConnection` flushes before it has to wait for input, so a
/// pipelining client (RFC 2920) gets all replies to its batch in one segment.
public final class SMTPSession {
    private let connection: MailConnection
    private let settings: SMTPServerSettings
    private let store: any MailStore
    private let throttle: LoginThrottle
    private let quotas: (any QuotaLedger)?
    private let protection: (any AccountProtection)?
    private let logger: Logger

    private var helo: String?
    private var extended = false
    private var account: Account?
    private var envelope: Envelope?
    private var errors = 0
    private var authFailures = 0
    /// BDAT transaction in progress: the chunks received so far.
    private var chunkSpool: MessageSpool?
    /// A BDAT transaction failed (e.g. too big); its remaining chunks are read and dropped until LAST.
    private var discardingChunks = false

    private enum Outcome {
        case proceed
        case close
    }

    public init(connection: MailConnection, settings: SMTPServerSettings, store: any MailStore,
                throttle: LoginThrottle = .shared, quotas: (any QuotaLedger)? = nil,
                protection: (any AccountProtection)? = nil, logger: Logger) {
        self.connection = connection
        self.settings = settings
        self.store = store
        self.throttle = throttle
        self.quotas = quotas
        self.protection = protection
        var logger = logger
        logger[metadataKey: "session"] = "\(RandomID.make().prefix(8))"
        if settings.logIPAddresses, let address = connection.remoteAddress {
            logger[metadataKey: "client"] = "\(address)"
        }
        self.logger = logger
    }

    /// Runs the session to its end; never throws (every failure ends in a reply or a closed connection).
    public func run() async {
        connection.idleTimeout = settings.idleTimeout
        do {
            try await send(.greeting(serverName: settings.hostname))
            try await loop()
        } catch MailConnectionError.timeout {
            try? await connection.write(SMTPReply.timeout.encode(), flush: true)
        } catch MailConnectionError.shuttingDown {
            try? await connection.write(SMTPReply.shuttingDown.encode(), flush: true)
        } catch {
            logger.debug("session ended: \(error)")
        }
        chunkSpool?.discard()
        await connection.close()
    }

    private func loop() async throws {
        while true {
            let line: [UInt8]
            switch try await connection.readLine(maxLength: SMTPCommandParser.maximumLineLength) {
            case .line(let bytes): line = bytes
            case .tooLong:
                if try await error(.lineTooLong) == .close { return }
                continue
            case .eof: return
            }
            let outcome: Outcome
            switch SMTPCommandParser.parse(line: line) {
            case .success(let command):
                outcome = try await handle(command)
            case .failure(let syntaxError):
                outcome = try await error(syntaxError.reply)
                if syntaxError.requiresConnectionClose { return }
            }
            if outcome == .close { return }
        }
    }

    // MARK: Replies

    private func send(_ reply: SMTPReply, flush: Bool = false) async throws {
        try await connection.write(reply.encode(), flush: flush)
    }

    /// Answers a client error and counts it; past the limit the session ends with 421.
    private func error(_ reply: SMTPReply) async throws -> Outcome {
        errors += 1
        if errors > settings.maximumErrors {
            try await send(.tooManyErrors, flush: true)
            return .close
        }
        try await send(reply)
        return .proceed
    }

    // MARK: Commands

    private func handle(_ command: SMTPCommand) async throws -> Outcome {
        switch command {
        case .ehlo(let domain):
            resetTransaction()
            helo = domain.description
            extended = true
            try await send(.ehlo(serverName: settings.hostname, capabilities: capabilities))
        case .helo(let domain):
            resetTransaction()
            helo = domain.description
            extended = false
            try await send(.helo(serverName: settings.hostname))
        case .startTLS:
            return try await startTLS()
        case .auth(let mechanism, let initialResponse):
            return try await authenticate(mechanism: mechanism, initialResponse: initialResponse)
        case .mail(let path, let params):
            return try await mail(path, params)
        case .rcpt(let path, let params):
            return try await rcpt(path, params)
        case .data:
            return try await data()
        case .bdat(let size, let last):
            return try await bdat(size: size, last: last)
        case .rset:
            resetTransaction()
            try await send(.ok)
        case .noop:
            try await send(.ok)
        case .vrfy:
            // RFC 5321 §3.5.3: 252 without confirming or denying that an account exists.
            try await send(.cannotVerify)
        case .expn:
            return try await error(.notImplemented)
        case .help:
            try await send(.help)
        case .quit:
            try await send(.bye, flush: true)
            return .close
        case .unknown:
            return try await error(.commandUnrecognized)
        }
        return .proceed
    }

    private var capabilities: EHLOCapabilities {
        EHLOCapabilities(
            tlsActive: connection.isTLS,
            tlsAvailable: connection.offersStartTLS,
            authAllowed: settings.role == .submission && connection.isTLS && account == nil,
            maximumMessageSize: settings.maximumMessageSize)
    }

    private func resetTransaction() {
        envelope = nil
        chunkSpool?.discard()
        chunkSpool = nil
        discardingChunks = false
    }

    // MARK: STARTTLS (RFC 3207)

    private func startTLS() async throws -> Outcome {
        if connection.isTLS { return try await error(.badSequence("TLS already active")) }
        guard connection.offersStartTLS else { return try await error(.tlsNotAvailable) }
        try await send(.readyToStartTLS)
        do {
            try await connection.startTLS()
        } catch {
            logger.debug("STARTTLS handshake failed: \(error)")
            return .close
        }
        // RFC 3207 §4.2: forget everything learned before the handshake; the client must EHLO again.
        resetTransaction()
        helo = nil
        extended = false
        account = nil
        return .proceed
    }

    // MARK: AUTH (RFC 4954)

    private func authenticate(mechanism: String, initialResponse: [UInt8]?) async throws -> Outcome {
        guard settings.role == .submission else { return try await error(.notImplemented) }
        guard connection.isTLS else { return try await error(.encryptionRequired) }
        guard helo != nil else { return try await error(.badSequence("Send EHLO first")) }
        guard account == nil else { return try await error(.badSequence("Already authenticated")) }
        guard envelope == nil else { return try await error(.badSequence("AUTH not allowed during a mail transaction")) }
        guard var exchange = SASLServerExchange(mechanism: mechanism) else {
            return try await error(.unsupportedAuthenticationMechanism)
        }
        var step = exchange.start(initialResponse: initialResponse)
        while case .challenge(let challenge) = step {
            try await send(.authenticationChallenge(challenge))
            // RFC 4954 §4: a response line may be up to 12288 octets.
            switch try await connection.readLine(maxLength: 12288, interruptible: false) {
            case .line(let line): step = exchange.receive(line: line)
            case .tooLong: return try await error(.authenticationLineTooLong)
            case .eof: return .close
            }
        }
        switch step {
        case .challenge:
            return .proceed  // not reached: the loop above runs until the exchange ends
        case .failure(let saslError):
            if saslError == .malformedResponse { return try await authFailed(login: "") }
            return try await error(saslError.reply)
        case .credentials(let credentials):
            if let authorizationID = credentials.authorizationID,
               authorizationID.lowercased() != credentials.authenticationID.lowercased() {
                return try await authFailed(login: credentials.authenticationID)
            }
            let login = credentials.authenticationID
            if throttle.check(login: login, address: connection.limitKey) == .refuse {
                try await send(.temporaryAuthenticationFailure)
                return .proceed
            }
            let found: Account?
            do {
                found = try await store.directory.authenticate(login, password: credentials.password)
            } catch {
                logger.error("authentication backend error: \(error)")
                try await send(.temporaryAuthenticationFailure)
                return .proceed
            }
            guard let found else { return try await authFailed(login: login) }
            throttle.recordSuccess(login: login, address: connection.limitKey)
            account = found
            try await send(.authenticationSucceeded)
            return .proceed
        }
    }

    private func authFailed(login: String) async throws -> Outcome {
        let delay = throttle.recordFailure(login: login, address: connection.limitKey)
        if delay > .zero {
            try await connection.flush()
            try await Task.sleep(for: delay)
        }
        authFailures += 1
        if authFailures >= settings.maximumAuthFailures {
            try await send(.authenticationFailed)
            try await send(.tooManyErrors, flush: true)
            return .close
        }
        return try await error(.authenticationFailed)
    }

    // MARK: Transaction

    private func mail(_ path: ReversePath, _ params: MailParameters) async throws -> Outcome {
        guard helo != nil else { return try await error(.badSequence("Send EHLO or HELO first")) }
        guard envelope == nil else { return try await error(.badSequence("Sender already specified")) }
        if settings.role == .submission {
            guard connection.isTLS else { return try await error(.mustIssueSTARTTLSFirst) }
            guard account != nil else { return try await error(.authenticationRequired) }
        }
        if let size = params.size, size > settings.maximumMessageSize
            || account.map({ size > settings.plan(of: $0).maxMessageSize }) == true {
            return try await error(.messageTooBig)
        }
        if params.body == .binaryMIME { return try await error(.parameterNotImplemented) }
        if path.needsSMTPUTF8 && !params.smtpUTF8 { return try await error(.utf8AddressWithoutSMTPUTF8) }
        let sender = path.mailbox?.description ?? ""
        if let account, let protection, try await protection.submissionPause(accountID: account.id) != nil {
            return try await error(Self.pausedReply)
        }
        if let account {
            // Submission: the envelope sender must be one of the account's own addresses.
            guard !sender.isEmpty, let address = try? EmailAddress(sender),
                  try await store.directory.senderAddresses(of: account).contains(address) else {
                return try await error(.senderNotOwned)
            }
        }
        envelope = Envelope(sender: sender, smtpUTF8: params.smtpUTF8,
                            dsn: DSNEnvelope(ret: params.ret?.rawValue, envelopeID: params.envelopeID),
                            declaredSize: params.size)
        try await send(.senderOK)
        return .proceed
    }

    private func rcpt(_ path: ForwardPath, _ params: RcptParameters) async throws -> Outcome {
        guard var current = envelope else { return try await error(.badSequence("Need MAIL before RCPT")) }
        if path.needsSMTPUTF8 && !current.smtpUTF8 { return try await error(.utf8AddressWithoutSMTPUTF8) }
        guard current.recipients.count < (account == nil ? settings.maximumRecipients : settings.maximumSubmissionRecipients) else {
            try await send(.tooManyRecipients)
            return .proceed
        }
        let address: String
        switch path {
        case .postmaster: address = "postmaster@" + settings.hostname
        case .mailbox(let mailbox): address = mailbox.description
        }
        let destination: EnvelopeRecipient.Destination
        if case .mailbox(let mailbox) = path, case .addressLiteral = mailbox.domain {
            // Address literals are never hosted here.
            guard settings.role == .submission else { return try await error(.relayDenied) }
            destination = .remote
        } else {
            let resolution: RecipientResolution
            do {
                resolution = try await store.directory.resolveRecipient(address)
            } catch is DirectoryError {
                return try await error(.badRecipientAddressSyntax)
            } catch {
                logger.error("recipient lookup failed: \(error)")
                try await send(.localError)
                return .proceed
            }
            switch resolution {
            case .local(let account, _):
                destination = .local(account)
            case .unknownUser:
                return try await error(.noSuchUser)
            case .notHosted:
                guard settings.role == .submission, account != nil else { return try await error(.relayDenied) }
                destination = .remote
            }
        }
        if case .local(let recipient) = destination {
            let plan = settings.plan(of: recipient)
            if let size = current.declaredSize, size > plan.maxMessageSize { return try await error(.messageTooBig) }
            if try await isOverQuota(recipient, plan: plan, adding: Int64(current.declaredSize ?? 0)) {
                // 452 4.2.2 is temporary: the sender keeps the message and retries after the owner cleans up.
                return try await error(.mailboxFull)
            }
        }
        if let account {
            // Submission: every accepted recipient counts against the sender's rolling daily allowance.
            let refusal = try await reserveOutgoing(for: account)
            if let refusal {
                try await send(refusal)
                return .proceed
            }
        }
        let notify = params.notify?.encoded
        let original = params.originalRecipient.map { "\($0.addressType);\($0.address)" }
        current.recipients.append(EnvelopeRecipient(address: address, destination: destination,
                                                    notify: notify, originalRecipient: original))
        envelope = current
        try await send(.recipientOK)
        return .proceed
    }

    /// Whether the recipient's mailbox is already at (or, with `adding`, would pass) its storage quota.
    private func isOverQuota(_ recipient: Account, plan: Plan, adding: Int64) async throws -> Bool {
        let extra = (try? await quotas?.extras(ofAccount: recipient.id))?.storage ?? 0
        let limit = plan.storage &+ extra
        do {
            let used = try await store.mail(for: recipient).storageUsed()
            return used >= limit || used &+ adding > limit
        } catch {
            logger.error("storage usage lookup failed: \(error)")
            return false
        }
    }

    static let pausedReply = SMTPReply(
        code: 450, enhancedCode: EnhancedStatusCode(4, 7, 1),
        text: "Sending is paused for this account after an unusual burst of outgoing mail; ask your administrator to unlock it")

    /// Counts one recipient against the account's daily allowance; the reply to send when it is used up,
    /// or when this recipient would make a burst (which pauses the account's submission).
    private func reserveOutgoing(for account: Account) async throws -> SMTPReply? {
        guard let quotas else { return nil }
        do {
            if let protection {
                let recent = try await quotas.outgoingCount(accountID: account.id,
                                                            since: Date() - TimeInterval(settings.burstWindow.components.seconds))
                if recent + 1 > settings.burstRecipients {
                    if try await protection.pauseSubmission(accountID: account.id, reason: "burst of \(recent + 1) recipients", now: Date()) {
                        logger.warning("submission paused for an account after a burst of outgoing mail",
                                       metadata: ["account": "\(account.id)"])
                    }
                    return Self.pausedReply
                }
            }
            let extra = try await quotas.extras(ofAccount: account.id).outgoingPerDay
            let limit = settings.plan(of: account).outgoingPerDay &+ extra
            let reservation = try await quotas.reserveOutgoing(accountID: account.id, count: 1, limit: limit, now: Date())
            guard !reservation.allowed else { return nil }
            let frees = reservation.freesAt.map { " It frees up from " + TraceHeaders.rfc5322Date($0) + "." } ?? ""
            return SMTPReply(code: 450, enhancedCode: EnhancedStatusCode(4, 7, 0),
                             text: "Daily sending quota of \(limit) recipients reached.\(frees)")
        } catch {
            logger.error("outgoing quota check failed: \(error)")
            return .localError
        }
    }

    /// The size limit of the transaction: the server's, the sender's plan's and every local recipient's plan's.
    private func transactionSizeLimit(_ envelope: Envelope) -> Int {
        var limit = settings.maximumMessageSize
        if let account { limit = min(limit, settings.plan(of: account).maxMessageSize) }
        for recipient in envelope.recipients {
            if case .local(let owner) = recipient.destination { limit = min(limit, settings.plan(of: owner).maxMessageSize) }
        }
        return limit
    }

    /// DATA (RFC 5321 §4.1.1.4): 354, then the dot-stuffed message up to CRLF.CRLF.
    private func data() async throws -> Outcome {
        guard let current = envelope else { return try await error(.badSequence("Need MAIL and RCPT before DATA")) }
        guard chunkSpool == nil else { return try await error(.badSequence("DATA not allowed after BDAT")) }
        guard !current.recipients.isEmpty else {
            return try await error(.noValidRecipients)
        }
        try await send(.startMailInput, flush: true)
        // The data must keep up the minimum rate (slow-client defence), not just a byte per idle timeout.
        connection.beginTransfer()
        defer { connection.endTransfer() }
        let limit = transactionSizeLimit(current)
        let spool = makeSpool(limit: limit)
        defer { spool.discard() }
        var decoder = DataDecoder(maximumMessageSize: limit)
        var body: [UInt8] = []
        body.reserveCapacity(64 * 1024)
        reading: while true {
            guard let chunk = try await connection.readBytes(max: 256 * 1024) else { return .close }
            body.removeAll(keepingCapacity: true)
            let status = decoder.decode(chunk[...], into: &body)
            spool.append(body)
            switch status {
            case .needMoreData:
                continue
            case .done(let consumed):
                if consumed < chunk.count { connection.unread(Array(chunk[consumed...])) }
                break reading
            }
        }
        envelope = nil
        if decoder.sizeLimitExceeded || spool.sizeLimitExceeded {
            try await send(.messageTooBig)
            return .proceed
        }
        try await finish(current, spool: spool)
        return .proceed
    }

    /// BDAT (RFC 3030): exactly `size` octets follow the command; LAST ends the message. The chunk is always
    /// read, even when the command is refused, so that its bytes are never taken as commands.
    private func bdat(size: Int, last: Bool) async throws -> Outcome {
        let accepting = !discardingChunks && envelope?.recipients.isEmpty == false
        if accepting && chunkSpool == nil, let current = envelope { chunkSpool = makeSpool(limit: transactionSizeLimit(current)) }
        let spool = accepting ? chunkSpool : nil
        var reader = BDATChunkReader(size: size)
        connection.beginTransfer()
        defer { connection.endTransfer() }
        while !reader.isComplete {
            guard let chunk = try await connection.readBytes(max: min(256 * 1024, reader.remaining)) else { return .close }
            let taken = reader.read(chunk[...])
            if taken.count < chunk.count { connection.unread(Array(chunk[taken.count...])) }
            spool?.append(taken)
        }
        if discardingChunks {
            // The rest of a message already refused as too big.
            if last { discardingChunks = false }
            try await send(.messageTooBig)
            return .proceed
        }
        guard let current = envelope else { return try await error(.badSequence("Need MAIL and RCPT before BDAT")) }
        guard let spool else { return try await error(.noValidRecipients) }
        if spool.sizeLimitExceeded {
            resetTransaction()
            discardingChunks = !last
            try await send(.messageTooBig)
            return .proceed
        }
        guard last else {
            try await send(SMTPReply(code: 250, enhancedCode: EnhancedStatusCode(2, 0, 0), text: "\(size) octets received"))
            return .proceed
        }
        chunkSpool = nil
        envelope = nil
        defer { spool.discard() }
        try await finish(current, spool: spool)
        return .proceed
    }

    private func makeSpool(limit: Int) -> MessageSpool {
        MessageSpool(directory: settings.spoolDirectory, inMemoryLimit: settings.inMemoryMessageLimit, maximumSize: limit)
    }

    /// Stores the message for every recipient and answers 250 only when all copies are durable.
    private func finish(_ envelope: Envelope, spool: MessageSpool) async throws {
        let id = RandomID.make()
        let tls = connection.tlsInfo
        let transport = TraceHeaders.Transport(extended: extended, authenticated: account != nil, utf8: envelope.smtpUTF8,
                                               tlsVersion: tls?.version, tlsCipher: tls?.cipher)
        let clientAddress = settings.logIPAddresses ? connection.remoteAddress : nil
        let now = Date()
        let hostname = settings.hostname
        let heloName = helo
        let received = TraceHeaders.received(helo: heloName, clientAddress: clientAddress, hostname: hostname,
                                             transport: transport, id: id, recipient: nil, date: now)
        do {
            let result = try await MessageDelivery(store: store).deliver(
                envelope: envelope, spool: spool, accountID: account?.id, received: received,
                receivedFor: { recipient in
                    TraceHeaders.received(helo: heloName, clientAddress: clientAddress, hostname: hostname,
                                          transport: transport, id: id, recipient: recipient, date: now)
                })
            if settings.logEnvelopes {
                logger.info("message accepted", metadata: [
                    "id": "\(id)", "from": "\(envelope.sender)",
                    "to": "\(envelope.recipients.map(\.address).joined(separator: ","))", "size": "\(spool.size)",
                ])
            } else {
                logger.debug("message accepted", metadata: [
                    "local": "\(result.local)", "queued": "\(result.queued != nil)", "size": "\(spool.size)",
                ])
            }
            if let account {
                // Uploads through submission count against the weekly bandwidth allowance.
                try? await quotas?.recordTraffic(accountID: account.id, bytes: Int64(spool.size), now: now)
            }
            try await send(.messageAccepted(queueID: result.queued ?? id))
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            logger.error("delivery failed: \(error)")
            try await send(.localError)
        }
    }
}

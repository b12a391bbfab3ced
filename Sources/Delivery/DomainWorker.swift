import Foundation
import Logging
import MailStore
import SkjoldConfig
import SMTPClient

/// One outbound connection's worth of work for one destination domain: resolves the next hops once, then
/// takes the domain's waiting items one by one and sends each as a transaction on the same connection
/// (reconnecting, to the next host, when a connection breaks).
struct DomainWorker: Sendable {
    let domain: String
    let environment: DeliveryEnvironment
    let scheduler: DeliveryScheduler

    /// What happened to one recipient in one attempt.
    enum Outcome {
        case delivered(reply: String)
        case failed(reply: String)
        case deferred(reply: String)
    }

    func run() async {
        await work()
        await scheduler.workerFinished(domain: domain)
    }

    private func work() async {
        let decision = await environment.router.route(domain: domain)
        let hops: [NextHop]
        switch decision {
        case .permanent(_, let reply):
            await resolveAll(first: nil, with: .failed(reply: reply), host: nil)
            return
        case .temporary(let reply):
            await resolveAll(first: nil, with: .deferred(reply: reply), host: nil)
            return
        case .hops(let found):
            hops = found
        }
        var connection: Connected?
        while let item = await nextItem(keepingOpen: connection != nil) {
            if connection == nil {
                switch await connect(hops) {
                case .success(let connected):
                    connection = connected
                case .failure(let failure):
                    // Nobody answers: everything waiting for this domain gets the same answer now.
                    await resolveAll(first: item, with: failure.outcome, host: failure.host)
                    return
                }
            }
            guard let current = connection else { break }
            let keep = await send(item, on: current)
            if !keep {
                await current.client.quit()
                connection = nil
            }
        }
        if let connection { await connection.client.quit() }
    }

    /// How long an open connection waits for more mail to the same domain before QUIT: queue runs come in
    /// batches, and a new connection (with its TLS handshake) costs far more than a short wait.
    static let linger: Duration = .milliseconds(1500)

    /// The next item, waiting up to `linger` for one when a connection is open.
    func nextItem(keepingOpen: Bool) async -> WorkItem? {
        if let item = await scheduler.nextItem(for: domain) { return item }
        guard keepingOpen else { return nil }
        let deadline = ContinuousClock.now + Self.linger
        while ContinuousClock.now < deadline, await !scheduler.isDraining {
            try? await Task.sleep(for: .milliseconds(50))
            if let item = await scheduler.nextItem(for: domain) { return item }
        }
        return nil
    }

    struct Connected {
        let client: SMTPClientConnection
        let hop: NextHop
    }

    struct ConnectFailure: Error {
        let outcome: Outcome
        let host: String?
    }

    /// Tries each next hop in order (RFC 5321 §5.1: all addresses of the preferred MX, then the next).
    func connect(_ hops: [NextHop]) async -> Result<Connected, ConnectFailure> {
        var last = ConnectFailure(outcome: .deferred(reply: "451 4.4.1 no next hop for \(domain)"), host: nil)
        var permanentEverywhere = true
        for hop in hops {
            var settings = SMTPClientSettings(heloName: environment.config.hostname)
            if hop.configured, environment.delivery.relay != nil {
                settings.tls = environment.delivery.relayTLS == .required ? .required : .opportunistic
                if let user = environment.delivery.relayUsername, let password = environment.delivery.relayPassword {
                    settings.credentials = SMTPClientCredentials(username: user, password: password)
                }
            }
            do {
                let client = try await SMTPClientConnection.connect(host: hop.address, port: hop.port, settings: settings,
                                                                    eventLoopGroup: environment.eventLoopGroup)
                return .success(Connected(client: client, hop: hop))
            } catch {
                let reply = Self.reply(for: error, hop: hop)
                if !error.isPermanent { permanentEverywhere = false }
                last = ConnectFailure(outcome: error.isPermanent ? .failed(reply: reply) : .deferred(reply: reply), host: hop.description)
                environment.logger.notice("delivery connection failed", metadata: ["to": "\(hop)", "error": "\(reply)"])
            }
        }
        // One host refusing for good while another was down is still worth a retry.
        if !permanentEverywhere, case .failed(let reply) = last.outcome {
            return .failure(ConnectFailure(outcome: .deferred(reply: reply), host: last.host))
        }
        return .failure(last)
    }

    static func reply(for error: SMTPClientError, hop: NextHop) -> String {
        switch error {
        case .greetingRefused(let reply), .heloRefused(let reply), .startTLSRefused(let reply), .authenticationFailed(let reply):
            return reply.description
        case .messageTooLarge(let limit):
            return "552 5.3.4 message larger than \(hop.host) accepts (\(limit) bytes)"
        case .smtpUTF8NotSupported:
            return "553 5.6.7 \(hop.host) does not support SMTPUTF8, needed for this address"
        case .tlsUnavailable:
            return "451 4.7.5 \(hop.host) does not offer STARTTLS, which is required for it"
        default:
            return "451 4.4.1 \(hop): \(error)"
        }
    }

    /// Sends one item; returns whether the connection can be used for the next one.
    func send(_ item: WorkItem, on connection: Connected) async -> Bool {
        let message = item.message
        let recipients = item.indices.map { message.recipients[$0] }
        let prefix = Array((message.signature ?? "").utf8)
        let outgoing = SMTPOutgoingMessage(
            sender: message.sender,
            recipients: recipients.map { SMTPOutgoingRecipient(address: $0.address, notify: $0.notify, originalRecipient: $0.originalRecipient) },
            prefix: prefix,
            body: .file(path: environment.queue.messagePath(id: message.id)),
            size: message.size + Int64(prefix.count),
            envelopeID: message.dsn.envelopeID, ret: message.dsn.ret,
            eightBit: true,
            smtpUTF8: ([message.sender] + recipients.map(\.address)).contains { $0.utf8.contains { $0 >= 0x80 } })
        let host = connection.hop.description
        let tls = connection.client.tls.map { "\($0.version) \($0.cipher)" } ?? "plaintext"
        var outcomes: [Int: Outcome] = [:]
        var reusable = true
        do {
            let result = try await connection.client.send(outgoing)
            for (position, index) in item.indices.enumerated() {
                let rcpt = position < result.recipients.count ? result.recipients[position] : nil
                if !result.mailFrom.isPositive {
                    outcomes[index] = result.mailFrom.isPermanent ? .failed(reply: result.mailFrom.description) : .deferred(reply: result.mailFrom.description)
                } else if let rcpt, !rcpt.isPositive {
                    outcomes[index] = rcpt.isPermanent ? .failed(reply: rcpt.description) : .deferred(reply: rcpt.description)
                } else if let data = result.data {
                    if data.isPositive {
                        outcomes[index] = .delivered(reply: data.description)
                    } else {
                        outcomes[index] = data.isPermanent ? .failed(reply: data.description) : .deferred(reply: data.description)
                    }
                } else {
                    outcomes[index] = .deferred(reply: "451 4.4.2 \(host): no reply to DATA")
                }
            }
        } catch {
            let reply = Self.reply(for: error, hop: connection.hop)
            for index in item.indices { outcomes[index] = error.isPermanent ? .failed(reply: reply) : .deferred(reply: reply) }
            // Size and SMTPUTF8 refusals are about this message only; the connection is still fine.
            switch error {
            case .messageTooLarge, .smtpUTF8NotSupported, .invalidArgument: reusable = true
            default: reusable = false
            }
        }
        log(message: message, outcomes: outcomes, host: host, tls: tls)
        await record(item, outcomes: outcomes, host: host)
        return reusable
    }

    /// The log line of one transaction: queue ID, counts, next hop, TLS (version and cipher) or plaintext, a
    /// reply. Recipient addresses only with `log_envelopes`.
    func log(message: QueuedMessage, outcomes: [Int: Outcome], host: String, tls: String) {
        var delivered = 0, failed = 0, deferred = 0
        var reply = ""
        for (_, outcome) in outcomes.sorted(by: { $0.key < $1.key }) {
            switch outcome {
            case .delivered(let r): delivered += 1; if reply.isEmpty { reply = r }
            case .failed(let r): failed += 1; reply = r
            case .deferred(let r): deferred += 1; reply = r
            }
        }
        var metadata: Logger.Metadata = [
            "queue": "\(message.id)", "via": "\(host)", "tls": "\(tls)",
            "delivered": "\(delivered)", "failed": "\(failed)", "deferred": "\(deferred)", "reply": "\(reply)",
        ]
        if environment.config.privacy.logEnvelopes {
            metadata["to"] = "\(outcomes.keys.sorted().map { message.recipients[$0].address }.joined(separator: ","))"
        }
        environment.logger.info("delivery attempt", metadata: metadata)
    }

    /// Writes the recipients' new states (durably) and tells the scheduler.
    func record(_ item: WorkItem, outcomes: [Int: Outcome], host: String?) async {
        var changes: [Int: QueuedRecipient] = [:]
        for (index, outcome) in outcomes {
            var recipient = item.message.recipients[index]
            switch outcome {
            case .delivered(let reply): recipient.state = .delivered; recipient.lastReply = reply
            case .failed(let reply): recipient.state = .failed; recipient.lastReply = reply
            case .deferred(let reply): recipient.lastReply = reply
            }
            recipient.remoteHost = host
            changes[index] = recipient
        }
        do {
            // The signature made for this attempt is kept with the first outcome, in the same write.
            let signature = item.message.signature
            try await environment.queue.update(id: item.message.id, recipients: changes, signature: signature)
        } catch {
            environment.logger.error("queue update failed: \(error)")
        }
        await scheduler.partDone(item.message.id, recipients: changes)
    }

    /// Gives `first` and every item still waiting for this domain the same outcome.
    func resolveAll(first: WorkItem?, with outcome: Outcome, host: String?) async {
        var items = first.map { [$0] } ?? []
        if first == nil, let item = await scheduler.nextItem(for: domain) { items.append(item) }
        items += await scheduler.takeAll(for: domain)
        for item in items {
            var outcomes: [Int: Outcome] = [:]
            for index in item.indices { outcomes[index] = outcome }
            let reply: String
            switch outcome {
            case .delivered(let r), .failed(let r), .deferred(let r): reply = r
            }
            var metadata: Logger.Metadata = ["queue": "\(item.message.id)", "domain-unreachable": "\(item.indices.count)", "reply": "\(reply)"]
            if environment.config.privacy.logEnvelopes { metadata["domain"] = "\(domain)" }
            environment.logger.info("delivery attempt", metadata: metadata)
            await record(item, outcomes: outcomes, host: host)
        }
    }
}

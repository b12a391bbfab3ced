import Foundation
import Logging
import MailStore
import NIOCore
import NIOPosix
import ServiceLifecycle
import SkjoldConfig
import SMTPClient

/// Outbound delivery: takes due messages from the queue, groups their recipients by destination domain,
/// delivers each domain's share over as few SMTP connections as the limits allow, records every recipient's
/// outcome durably right after its transaction, and answers the sender with notices (RFC 3464) for
/// failures, long delays and, when asked, successes.
///
/// Restarts: a recipient is marked delivered in the same moment its 250 arrives, so after a clean shutdown
/// (which lets running transactions finish) nothing is sent twice; whatever was pending is simply due again.
public final class DeliveryService: Service, Sendable {
    let scheduler: DeliveryScheduler
    let pollInterval: Duration

    public init(config: SkjoldConfig, queue: any OutboundQueue, directory: any MailDirectory, mailStore: any MailStore,
                dkimKeys: (any DKIMKeyStore)?, dns: (any MailDNS)?, logger: Logger,
                eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                pollInterval: Duration = .seconds(1)) {
        let environment = DeliveryEnvironment(
            config: config, queue: queue, directory: directory, mailStore: mailStore,
            signing: MessageSigning(keys: dkimKeys),
            router: Router(config: config.delivery, hostname: config.hostname, dns: dns),
            logger: logger, eventLoopGroup: eventLoopGroup)
        scheduler = DeliveryScheduler(environment: environment)
        self.pollInterval = pollInterval
    }

    /// Polls the queue (cheap: one indexed query), so that `skjold queue retry` from another process and new
    /// submissions are picked up within `pollInterval`; stops taking work at graceful shutdown and waits for
    /// running transactions.
    public func run() async throws {
        let scheduler = self.scheduler
        let interval = pollInterval
        if scheduler.environment.delivery.hold {
            scheduler.environment.logger.notice("outbound delivery on hold ([delivery] hold = true): mail stays queued")
            try? await gracefulShutdown()
            return
        }
        await withGracefulShutdownHandler {
            while !Task.isCancelled, await !scheduler.isDraining {
                let full = await scheduler.tick(now: Date())
                // A full batch means more may be due already: look again soon rather than after a whole interval.
                try? await Task.sleep(for: full ? .milliseconds(50) : interval)
            }
        } onGracefulShutdown: {
            Task { await scheduler.drain() }
        }
        await scheduler.drain()
        // Running transactions finish (their outcomes are recorded, so nothing is sent twice), but a stalled
        // receiver must not hold the whole server's shutdown for its full SMTP timeouts.
        let deadline = ContinuousClock.now + Self.shutdownGrace
        while ContinuousClock.now < deadline, !Task.isCancelled, await !scheduler.isIdle {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// How long shutdown waits for running transactions.
    static let shutdownGrace: Duration = .seconds(30)

    /// One pass, for tests and tools: schedules what is due now and waits until it has been tried.
    public func runOnce(now: Date = Date()) async {
        await scheduler.tick(now: now)
        await scheduler.waitForWorkers()
    }
}

/// What every part of delivery needs.
struct DeliveryEnvironment: Sendable {
    let config: SkjoldConfig
    let queue: any OutboundQueue
    let directory: any MailDirectory
    let mailStore: any MailStore
    let signing: MessageSigning
    let router: Router
    let logger: Logger
    let eventLoopGroup: any EventLoopGroup

    var delivery: DeliveryConfig { config.delivery }
}

/// Recipients of one message that go to one domain: one transaction.
struct WorkItem: Sendable {
    var message: QueuedMessage
    var indices: [Int]
}

/// Keeps the state of delivery in one place: messages in flight, the work waiting per domain, and the
/// connections open per domain and in all.
actor DeliveryScheduler {
    struct InFlight {
        var message: QueuedMessage
        var remainingParts: Int
        /// Some part was really tried (not merely dropped at shutdown).
        var tried = false
    }

    let environment: DeliveryEnvironment
    private var inFlight: [String: InFlight] = [:]
    private var waiting: [String: [WorkItem]] = [:]
    private var active: [String: Int] = [:]
    private var totalActive = 0
    private(set) var isDraining = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    /// Messages being finalized (DSNs and removal) outside of a worker.
    private var finalizing = 0

    init(environment: DeliveryEnvironment) {
        self.environment = environment
    }

    func drain() {
        isDraining = true
        // Work not yet started stays in the queue, due as before; the messages are no longer "in flight"
        // once their started parts end.
        for (_, items) in waiting {
            for item in items { partDone(item.message.id, recipients: [:], tried: false) }
        }
        waiting.removeAll()
        resumeIdleWaitersIfIdle()
    }

    /// No worker, notice or waiting item left.
    var isIdle: Bool { totalActive == 0 && finalizing == 0 && waiting.values.allSatisfy(\.isEmpty) }

    func waitForWorkers() async {
        if totalActive == 0 && finalizing == 0 && waiting.values.allSatisfy(\.isEmpty) { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    private func resumeIdleWaitersIfIdle() {
        guard totalActive == 0, finalizing == 0, waiting.values.allSatisfy(\.isEmpty) else { return }
        let waiters = idleWaiters
        idleWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    /// Finds what is due and starts it; returns whether it took a full batch.
    @discardableResult
    func tick(now: Date) async -> Bool {
        guard !isDraining else { return false }
        let capacity = max(50, environment.delivery.maxConnections * 20)
        let due: [QueuedMessage]
        do {
            due = try await environment.queue.due(at: now, limit: capacity, excluding: Set(inFlight.keys))
        } catch {
            environment.logger.error("queue read failed: \(error)")
            return false
        }
        for var message in due where inFlight[message.id] == nil && !isDraining {
            let maxAge = TimeInterval(environment.delivery.maxAge)
            if now.timeIntervalSince(message.createdAt) >= maxAge {
                var changes: [Int: QueuedRecipient] = [:]
                for (index, recipient) in message.recipients.enumerated() where recipient.state == .pending {
                    var failed = recipient
                    failed.state = .failed
                    let last = recipient.lastReply.map { "; last reply: \($0)" } ?? ""
                    failed.lastReply = "421 4.4.7 message expired after \(environment.delivery.maxAge / 3600) hours in the queue\(last)"
                    changes[index] = failed
                }
                try? await environment.queue.update(id: message.id, recipients: changes, signature: nil)
                for (index, recipient) in changes { message.recipients[index] = recipient }
            }
            let pending = message.recipients.indices.filter { message.recipients[$0].state == .pending }
            if pending.isEmpty {
                inFlight[message.id] = InFlight(message: message, remainingParts: 0)
                finalizing += 1
                let environment = self.environment
                let snapshot = message
                Task {
                    await Finalizer(environment: environment).finish(snapshot, now: Date())
                    self.finalized(snapshot.id)
                }
                continue
            }
            if message.signature == nil {
                message.signature = await environment.signing.signature(for: message, path: environment.queue.messagePath(id: message.id),
                                                                        logger: environment.logger)
            }
            var byDomain: [String: [Int]] = [:]
            var order: [String] = []
            for index in pending {
                let domain = Self.domain(of: message.recipients[index].address)
                if byDomain[domain] == nil { order.append(domain) }
                byDomain[domain, default: []].append(index)
            }
            inFlight[message.id] = InFlight(message: message, remainingParts: order.count)
            for domain in order {
                waiting[domain, default: []].append(WorkItem(message: message, indices: byDomain[domain] ?? []))
            }
            // Start at once: signing the next messages (a suspension point) must not hold up sending these.
            dispatch()
        }
        dispatch()
        return due.count >= capacity
    }

    private func finalized(_ id: String) {
        inFlight[id] = nil
        finalizing -= 1
        resumeIdleWaitersIfIdle()
    }

    static func domain(of address: String) -> String {
        guard let at = address.lastIndex(of: "@") else { return "" }
        return address[address.index(after: at)...].lowercased()
    }

    /// Starts workers while limits allow: per domain, no more connections than waiting items.
    private func dispatch() {
        guard !isDraining else { return }
        let perDomain = environment.delivery.maxConnectionsPerDomain
        let total = environment.delivery.maxConnections
        for (domain, items) in waiting where !items.isEmpty {
            while totalActive < total, active[domain, default: 0] < perDomain, active[domain, default: 0] < items.count {
                active[domain, default: 0] += 1
                totalActive += 1
                let worker = DomainWorker(domain: domain, environment: environment, scheduler: self)
                Task { await worker.run() }
            }
        }
    }

    /// The next item for a worker of `domain`, nil when there is none (or we are shutting down).
    func nextItem(for domain: String) -> WorkItem? {
        guard !isDraining, var items = waiting[domain], !items.isEmpty else { return nil }
        let item = items.removeFirst()
        waiting[domain] = items.isEmpty ? nil : items
        return item
    }

    /// Every item still waiting for `domain` (when the domain cannot be reached at all).
    func takeAll(for domain: String) -> [WorkItem] {
        let items = waiting[domain] ?? []
        waiting[domain] = nil
        return items
    }

    func workerFinished(domain: String) {
        active[domain, default: 1] -= 1
        if active[domain] == 0 { active[domain] = nil }
        totalActive -= 1
        dispatch()
        resumeIdleWaitersIfIdle()
    }

    /// A part of a message was tried; `recipients` are its new states (already durable).
    func partDone(_ id: String, recipients: [Int: QueuedRecipient], tried: Bool = true) {
        guard var entry = inFlight[id] else { return }
        for (index, recipient) in recipients { entry.message.recipients[index] = recipient }
        entry.remainingParts -= 1
        entry.tried = entry.tried || tried
        if entry.remainingParts > 0 {
            inFlight[id] = entry
            return
        }
        guard entry.tried else {
            // Nothing was attempted (shutdown came first): the message stays due as it was.
            inFlight[id] = nil
            return
        }
        inFlight[id] = entry
        finalizing += 1
        let environment = self.environment
        let message = entry.message
        Task {
            await Finalizer(environment: environment).finish(message, now: Date())
            self.finalized(id)
        }
    }
}

import Synchronization

/// Process-wide notice board of mailbox changes (new message, flags, expunge), per account: the store
/// posts the ids of mailboxes whose state changed after each commit, and IMAP sessions subscribe to wake
/// up (IDLE) or to know that a refresh is due. It carries no message data — a subscriber reads the
/// changes from the store itself — so a notice is never stale and missing one only delays an update.
public final class MailboxChangeFeed: Sendable {
    private struct State {
        var subscribers: [String: [UInt64: MailboxChangeSubscription]] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// The feed every store and session of this process uses.
    public static let shared = MailboxChangeFeed()

    /// Starts receiving the changes of `accountID`; call ``MailboxChangeSubscription/cancel()`` when done.
    public func subscribe(accountID: String) -> MailboxChangeSubscription {
        state.withLock { state in
            state.nextID &+= 1
            let subscription = MailboxChangeSubscription(feed: self, accountID: accountID, id: state.nextID)
            state.subscribers[accountID, default: [:]][state.nextID] = subscription
            return subscription
        }
    }

    /// Announces that the given mailboxes of `accountID` changed. Cheap and non-blocking.
    public func post(accountID: String, mailboxIDs: Set<Int64>) {
        guard !mailboxIDs.isEmpty else { return }
        let targets = state.withLock { Array(($0.subscribers[accountID] ?? [:]).values) }
        for subscription in targets { subscription.mark(mailboxIDs) }
    }

    /// Number of live subscriptions of an account (for tests and metrics).
    public func subscriberCount(accountID: String) -> Int {
        state.withLock { $0.subscribers[accountID]?.count ?? 0 }
    }

    fileprivate func remove(accountID: String, id: UInt64) {
        state.withLock { state in
            state.subscribers[accountID]?[id] = nil
            if state.subscribers[accountID]?.isEmpty == true { state.subscribers[accountID] = nil }
        }
    }
}

/// One session's view of the feed: the set of mailboxes changed since it last asked, and a way to wait
/// for the next change.
public final class MailboxChangeSubscription: Sendable {
    private struct State {
        var changed: Set<Int64> = []
        var waiter: CheckedContinuation<Void, Never>?
        var waiterID: UInt64 = 0
        var cancelled = false
        var onChange: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())
    private let feed: MailboxChangeFeed
    public let accountID: String
    private let id: UInt64

    fileprivate init(feed: MailboxChangeFeed, accountID: String, id: UInt64) {
        self.feed = feed
        self.accountID = accountID
        self.id = id
    }

    fileprivate func mark(_ mailboxIDs: Set<Int64>) {
        let (waiter, onChange) = state.withLock { state -> (CheckedContinuation<Void, Never>?, (@Sendable () -> Void)?) in
            state.changed.formUnion(mailboxIDs)
            defer { state.waiter = nil }
            return (state.waiter, state.onChange)
        }
        waiter?.resume()
        onChange?()
    }

    /// Calls `handler` on every change from now on (nil: stops), on the poster's thread: it must be cheap
    /// and not block (e.g. wake a connection's pending read). Called at once if a change is pending, so a
    /// change just before the handler was set is not missed.
    public func setChangeHandler(_ handler: (@Sendable () -> Void)?) {
        let pending = state.withLock { state -> Bool in
            state.onChange = handler
            return !state.changed.isEmpty
        }
        if pending { handler?() }
    }

    /// The mailboxes changed since the last call, and forgets them.
    public func takeChanges() -> Set<Int64> {
        state.withLock { state in
            defer { state.changed = [] }
            return state.changed
        }
    }

    /// True when a change arrived since the last ``takeChanges()``.
    public var hasChanges: Bool { state.withLock { !$0.changed.isEmpty } }

    /// Returns once a change is pending (at once if one already is), or when the task is cancelled.
    public func waitForChange() async {
        let token = state.withLock { state -> UInt64 in
            state.waiterID &+= 1
            return state.waiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if !state.changed.isEmpty || state.cancelled || Task.isCancelled || state.waiterID != token { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                // A newer wait replaced this one's token: nothing of ours to resume.
                guard state.waiterID == token else { return nil }
                state.waiterID &+= 1
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }

    /// Stops the subscription and releases a waiting task.
    public func cancel() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.cancelled = true
            state.onChange = nil
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
        feed.remove(accountID: accountID, id: id)
    }
}

/// Why a connection was turned away at accept time.
public enum ConnectionRefusal: Sendable, Equatable {
    /// The listener's `maxConnections` sessions are open.
    case tooManyConnections
    /// `maxConnectionsPerAddress` sessions are open from this client's address (IPv6: its /64).
    case tooManyFromAddress
}

/// The open connections of one listener: admission against the caps, the shutdown signal, and the
/// wait for sessions to end. Holds addresses only in memory, as limit keys; never logs them.
final class ConnectionRegistry: Sendable {
    enum Admission: Equatable {
        case admitted
        /// Send the refusal reply, then close.
        case refused(ConnectionRefusal)
        /// Over the cap while `maxRefusing` refusals are already in progress (a flood, or a flood of
        /// TLS clients that never finish the handshake the refusal needs): close without a word, so the
        /// refusals themselves cannot use up tasks and file descriptors without bound.
        case dropped
    }

    /// Aggregate counters, logged when the listener stops.
    struct Statistics: Sendable, Equatable {
        var accepted = 0
        var refused = 0
        var handshakeFailures = 0
        var forcedCloses = 0
    }

    private struct State {
        var sessions = 0
        /// Connections being refused (reply not yet sent, or TLS handshake for it in progress).
        var refusing = 0
        var perAddress: [String: Int] = [:]
        /// Every connection the listener is handling, admitted or being refused.
        var open: [ObjectIdentifier: MailConnection] = [:]
        var shuttingDown = false
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
        var drainWaitOver = false
        var statistics = Statistics()
    }

    private let maxConnections: Int
    private let maxConnectionsPerAddress: Int
    private let maxRefusing: Int
    private let state = LockedBox(State())

    init(maxConnections: Int, maxConnectionsPerAddress: Int, maxRefusing: Int? = nil) {
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
        self.maxRefusing = maxRefusing ?? max(64, maxConnections)
    }

    var statistics: Statistics { state.withLock { $0.statistics } }

    /// Counts the connection against the caps (if admitted) and tracks it for shutdown. A connection
    /// accepted after shutdown began is told at once.
    func admit(_ connection: MailConnection) -> Admission {
        let (admission, shuttingDown) = state.withLock { state -> (Admission, Bool) in
            state.open[ObjectIdentifier(connection)] = connection
            let fromAddress = state.perAddress[connection.limitKey, default: 0]
            var admission: Admission
            if state.sessions >= maxConnections {
                admission = .refused(.tooManyConnections)
                state.statistics.refused += 1
            } else if fromAddress >= maxConnectionsPerAddress {
                admission = .refused(.tooManyFromAddress)
                state.statistics.refused += 1
            } else {
                admission = .admitted
                state.sessions += 1
                state.perAddress[connection.limitKey] = fromAddress + 1
                state.statistics.accepted += 1
            }
            if case .refused = admission {
                if state.refusing >= maxRefusing {
                    admission = .dropped
                } else {
                    state.refusing += 1
                }
            }
            return (admission, state.shuttingDown)
        }
        if shuttingDown { connection.beginShutdown() }
        return admission
    }

    /// Forgets a connection once closed; `admission` is what `admit` returned for it.
    func remove(_ connection: MailConnection, admission: Admission) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard state.open.removeValue(forKey: ObjectIdentifier(connection)) != nil else { return [] }
            switch admission {
            case .admitted:
                state.sessions -= 1
                let remaining = state.perAddress[connection.limitKey, default: 1] - 1
                state.perAddress[connection.limitKey] = remaining > 0 ? remaining : nil
            case .refused:
                state.refusing -= 1
            case .dropped:
                break
            }
            guard state.open.isEmpty else { return [] }
            defer { state.drainWaiters = [] }
            return state.drainWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func countHandshakeFailure() {
        state.withLock { $0.statistics.handshakeFailures += 1 }
    }

    /// Marks shutdown and signals every open connection. Idempotent.
    func beginShutdown() {
        let connections = state.withLock { state -> [MailConnection] in
            guard !state.shuttingDown else { return [] }
            state.shuttingDown = true
            return Array(state.open.values)
        }
        for connection in connections { connection.beginShutdown() }
    }

    /// Waits until no connection is open, or `timeout` passes, or the task is cancelled.
    /// Returns whether all connections ended.
    func waitUntilEmpty(timeout: Duration) async -> Bool {
        state.withLock { $0.drainWaitOver = false }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = self.state.withLock { state -> Bool in
                        if state.open.isEmpty || state.drainWaitOver { return true }
                        state.drainWaiters.append(continuation)
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
                return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            // Release the drain waiter if the timer won, so the group can finish.
            let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.drainWaitOver = true
                defer { state.drainWaiters = [] }
                return state.drainWaiters
            }
            for waiter in waiters { waiter.resume() }
            group.cancelAll()
            return first
        }
    }

    /// Closes every connection still open, dropping unsent output.
    func abortAll() {
        let connections = state.withLock { state -> [MailConnection] in
            state.statistics.forcedCloses += state.open.count
            return Array(state.open.values)
        }
        for connection in connections { connection.abort() }
    }
}

import Synchronization

/// Group commit: concurrent callers hand in one item each, and the items that arrive while a commit is
/// running are made durable together by the next one: one WAL fsync for the whole batch instead of one per
/// message, which is what SQLite's serialised writer makes the bottleneck under many SMTP sessions.
///
/// No caller waits for company: an idle committer commits a lone item at once, so a single delivery is as
/// fast as before. The first caller to arrive while no batch runs leads: it commits its own item plus
/// everyone waiting, resumes them with their own results, and hands the lead to the oldest caller that
/// arrived meanwhile. So every caller runs at most one batch, and a caller is resumed only after the batch
/// holding its item finished.
final class GroupCommit<Item: Sendable, Output: Sendable>: Sendable {
    /// Makes the batch durable; returns one result per item, in order. A failed item must not have been
    /// committed, a successful one must be on disk.
    typealias Commit = @Sendable ([Item]) async -> [Result<Output, any Error>]

    private enum Signal: Sendable {
        case lead
        case done(Result<Output, any Error>)
    }

    private struct Waiter: Sendable {
        let item: Item
        let continuation: CheckedContinuation<Signal, Never>
    }

    private struct State: Sendable {
        var leading = false
        var waiters: [Waiter] = []
    }

    private let state = Mutex(State())
    private let maxBatch: Int
    private let commit: Commit

    /// `maxBatch` bounds one transaction (its size and the latency of the callers in it).
    init(maxBatch: Int, commit: @escaping Commit) {
        self.maxBatch = max(1, maxBatch)
        self.commit = commit
    }

    /// Commits `item` in the next batch; returns once that batch is durable, or throws this item's error.
    func submit(_ item: Item) async throws -> Output {
        let idle = state.withLock { s in
            if s.leading { return false }
            s.leading = true
            return true
        }
        let signal: Signal
        if idle {
            signal = .lead
        } else {
            signal = await withCheckedContinuation { continuation in
                let leadNow = state.withLock { s in
                    if s.leading {
                        s.waiters.append(Waiter(item: item, continuation: continuation))
                        return false
                    }
                    s.leading = true
                    return true
                }
                if leadNow { continuation.resume(returning: .lead) }
            }
        }
        switch signal {
        case .done(let result):
            return try result.get()
        case .lead:
            return try await lead(with: item).get()
        }
    }

    private func lead(with item: Item) async -> Result<Output, any Error> {
        let followers = state.withLock { s in
            let taken = Array(s.waiters.prefix(maxBatch - 1))
            s.waiters.removeFirst(taken.count)
            return taken
        }
        var results = await commit([item] + followers.map(\.item))
        if results.count != followers.count + 1 {
            // A commit that broke its contract: acknowledge nothing.
            results = Array(repeating: .failure(GroupCommitError.resultCountMismatch), count: followers.count + 1)
        }
        for (index, follower) in followers.enumerated() {
            follower.continuation.resume(returning: .done(results[index + 1]))
        }
        let next = state.withLock { s -> Waiter? in
            if s.waiters.isEmpty {
                s.leading = false
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.continuation.resume(returning: .lead)
        return results[0]
    }
}

/// Internal failure of a group commit.
enum GroupCommitError: Error, Equatable {
    case resultCountMismatch
}

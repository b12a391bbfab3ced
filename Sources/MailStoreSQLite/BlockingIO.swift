import Dispatch
import Foundation

/// Runs blocking file-system work (write, fsync, unlink) off Swift's cooperative thread pool, which has only
/// as many threads as cores: one fsync there would stall every session on that thread.
enum BlockingIO {
    private static let queue = DispatchQueue(label: "skjold.blocking-io", attributes: .concurrent)

    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try work() })
            }
        }
    }
}

/// Runs the durable write path (message and queue files written and fsync'd, directory fsyncs, group commits)
/// on threads of its own, many of which may sit in fsync at once.
///
/// Not `BlockingIO`: on Linux libdispatch keeps about one thread per core busy and adds more only slowly
/// while they block, so 16 sessions' fsyncs ran about two at a time, and it is concurrent fsyncs that let
/// ext4 fold many files into one journal commit. Nor the other way round: CPU- and memory-heavy work
/// (password hashing) stays on `BlockingIO`, where it cannot fan out to `maxThreads` threads.
enum DurableIO {
    /// Enough threads for every SMTP session's fsync plus the group commits to be in flight at once.
    static let maxThreads = 64

    private static let pool = BlockingThreadPool(maxThreads: maxThreads, name: "skjold.durable-io")

    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            pool.submit {
                continuation.resume(with: Result { try work() })
            }
        }
    }
}

/// A pool of threads that may block. Threads are started on demand, when a job arrives and no thread is
/// idle, up to `maxThreads`; past that jobs wait in FIFO order. Idle threads stay for the next burst.
final class BlockingThreadPool: @unchecked Sendable {
    // @unchecked: every mutable property is guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var threads = 0
    private var idle = 0
    let maxThreads: Int
    let name: String

    init(maxThreads: Int, name: String) {
        self.maxThreads = max(1, maxThreads)
        self.name = name
    }

    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        let queued = jobs.count - head
        let spawn = idle < queued && threads < maxThreads
        if spawn { threads += 1 }
        condition.signal()
        condition.unlock()
        if spawn {
            let thread = Thread { [self] in work() }
            thread.name = name
            thread.start()
        }
    }

    private func work() {
        condition.lock()
        while true {
            while head == jobs.count {
                idle += 1
                condition.wait()
                idle -= 1
            }
            let job = jobs[head]
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 1024 {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job()
            condition.lock()
        }
    }
}

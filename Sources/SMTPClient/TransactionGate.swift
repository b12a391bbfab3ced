import Foundation

/// Lets one transaction (or QUIT) at a time use a connection, in arrival order, and counts the
/// transactions started so that every one but the first begins with RSET.
final class TransactionGate: @unchecked Sendable {
    private let lock = NSLock()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var started = 0

    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if busy {
                waiting.append(continuation)
                lock.unlock()
            } else {
                busy = true
                lock.unlock()
                continuation.resume()
            }
        }
    }

    func release() {
        lock.lock()
        if waiting.isEmpty {
            busy = false
            lock.unlock()
        } else {
            let next = waiting.removeFirst()
            lock.unlock()
            next.resume()  // ownership passes on; busy stays true
        }
    }

    /// Counts a new transaction (call while holding the gate); true for the first one on the connection.
    func beginTransaction() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        started += 1
        return started == 1
    }
}

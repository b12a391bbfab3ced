import Foundation

/// A value guarded by a lock, for the little state that synchronous getters must read from any thread
/// (NIOConcurrencyHelpers is not a declared dependency, and `Mutex` needs macOS 15).
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

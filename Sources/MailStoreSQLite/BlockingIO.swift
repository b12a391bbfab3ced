import Dispatch

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

/// Counts message octets against a size limit while the message is being received (RFC 1870 §6: a server
/// that declared a SIZE limit rejects larger messages with 552 5.3.4, after reading them to the end).
///
/// Counting goes on after the limit is passed (saturating at `Int.max`, never trapping), so the server can
/// drain the rest of the message, log its size and still answer in sync.
public struct MessageSizeCounter: Sendable, Hashable {
    /// The largest accepted message, in octets.
    public let limit: Int
    /// Octets counted so far.
    public private(set) var count: Int = 0

    public init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// True once ``count`` exceeds ``limit``; then the message must be discarded (reply ``SMTPReply/messageTooBig``).
    public var isExceeded: Bool { count > limit }

    /// Adds `octets` (negative values are ignored) and returns whether the message is still within the limit.
    @discardableResult
    public mutating func add(_ octets: Int) -> Bool {
        let (sum, overflow) = count.addingReportingOverflow(max(0, octets))
        count = overflow ? Int.max : sum
        return !isExceeded
    }
}

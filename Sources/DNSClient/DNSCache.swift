import DNSWire
import NIOCore

/// A bounded cache of lookup outcomes, each kept for its TTL (RFC 1035 §7.4; negative answers by RFC 2308
/// §5). When full, expired entries go first, then the oldest inserted. Only answers are stored: failures
/// (SERVFAIL, timeouts) are never cached here, so a retry always asks again.
struct DNSCache {
    struct Key: Hashable {
        var name: String
        var type: DNSRecordType
    }

    private struct Entry {
        var result: DNSLookupResult
        var expires: NIODeadline
        var sequence: UInt64
    }

    let capacity: Int
    private var entries: [Key: Entry] = [:]
    private var nextSequence: UInt64 = 0

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    var count: Int { entries.count }

    /// The cached outcome and the whole seconds it has left (at least 1), or nil when absent or expired.
    mutating func lookup(_ key: Key, now: NIODeadline) -> (result: DNSLookupResult, ttl: UInt32)? {
        guard let entry = entries[key] else { return nil }
        guard entry.expires > now else {
            entries[key] = nil
            return nil
        }
        let remaining = (entry.expires - now).nanoseconds / 1_000_000_000
        return (entry.result, UInt32(clamping: max(1, remaining)))
    }

    /// Stores an outcome for `ttl` seconds; a TTL of 0 means "use once" (RFC 1035 §3.2.1) and is not kept.
    mutating func insert(_ result: DNSLookupResult, for key: Key, ttl: UInt32, now: NIODeadline) {
        guard capacity > 0, ttl > 0 else { return }
        if entries[key] == nil && entries.count >= capacity {
            entries = entries.filter { $0.value.expires > now }
            if entries.count >= capacity,
               let oldest = entries.min(by: { $0.value.sequence < $1.value.sequence })?.key {
                entries[oldest] = nil
            }
        }
        nextSequence &+= 1
        entries[key] = Entry(result: result, expires: now + .seconds(Int64(ttl)), sequence: nextSequence)
    }
}

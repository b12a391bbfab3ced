/// An enhanced mail system status code, `class.subject.detail` (RFC 3463 §2), sent in SMTP replies when
/// ENHANCEDSTATUSCODES is advertised (RFC 2034).
///
/// `class` is 2 (success), 4 (persistent transient failure) or 5 (permanent failure); subject and detail
/// are 0–999.
public struct EnhancedStatusCode: Sendable, Hashable, CustomStringConvertible {
    /// 2, 4 or 5.
    public let statusClass: Int
    public let subject: Int
    public let detail: Int

    /// Creates a code from constants chosen by the server. Out-of-range values are a programming error.
    public init(_ statusClass: Int, _ subject: Int, _ detail: Int) {
        precondition([2, 4, 5].contains(statusClass) && (0...999).contains(subject) && (0...999).contains(detail),
                      "invalid enhanced status code \(statusClass).\(subject).\(detail)")
        self.statusClass = statusClass
        self.subject = subject
        self.detail = detail
    }

    /// Parses `class "." subject "." detail` (RFC 3463 §2: subject and detail are 1*3 digits); nil when malformed.
    public init?(parsing text: some Collection<UInt8>) {
        let parts = text.split(separator: ASCII.dot, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var values: [Int] = []
        for (index, part) in parts.enumerated() {
            let maxDigits = index == 0 ? 1 : 3
            guard !part.isEmpty, part.count <= maxDigits, part.allSatisfy(ASCII.isDigit) else { return nil }
            values.append(part.reduce(0) { $0 * 10 + Int($1 - 0x30) })
        }
        guard [2, 4, 5].contains(values[0]) else { return nil }
        self.statusClass = values[0]
        self.subject = values[1]
        self.detail = values[2]
    }

    public var description: String { "\(statusClass).\(subject).\(detail)" }
}

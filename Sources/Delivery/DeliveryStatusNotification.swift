import Foundation
import MailStore

/// Builds delivery status notifications (RFC 3464) as multipart/report messages (RFC 6522): a human-readable
/// part, the machine-readable message/delivery-status part, and the original headers (or the whole message
/// when the sender asked RET=FULL, RFC 3461 §4.3).
public struct DeliveryStatusNotification: Sendable {
    /// What the notice reports (RFC 3464 §2.3.3 Action).
    public enum Kind: String, Sendable {
        case failed, delayed, relayed, delivered

        var subject: String {
            switch self {
            case .failed: "Undelivered Mail Returned to Sender"
            case .delayed: "Delayed Mail (still being retried)"
            case .relayed, .delivered: "Successful Mail Delivery Report"
            }
        }
    }

    /// One recipient's line in the report.
    public struct Entry: Sendable, Hashable {
        public var recipient: QueuedRecipient
        /// RFC 3463 status, e.g. "5.1.1".
        public var status: String
        public init(recipient: QueuedRecipient, status: String) {
            self.recipient = recipient
            self.status = status
        }
    }

    public var kind: Kind
    /// Our host name (Reporting-MTA, the MAILER-DAEMON address).
    public var reportingMTA: String
    public var queueID: String
    /// The original envelope sender, who receives the notice.
    public var sender: String
    public var envelopeID: String?
    public var arrival: Date
    public var entries: [Entry]
    /// For delayed notices: when we give up.
    public var retryUntil: Date?

    public init(kind: Kind, reportingMTA: String, queueID: String, sender: String, envelopeID: String?, arrival: Date,
                entries: [Entry], retryUntil: Date? = nil) {
        self.kind = kind
        self.reportingMTA = reportingMTA
        self.queueID = queueID
        self.sender = sender
        self.envelopeID = envelopeID
        self.arrival = arrival
        self.entries = entries
        self.retryUntil = retryUntil
    }

    /// The RFC 3463 status carried by an SMTP reply text ("550 5.1.1 no such user" → "5.1.1"), or the
    /// class default ("5.0.0" / "4.0.0"; success "2.0.0").
    public static func status(of reply: String?, permanent: Bool) -> String {
        if let reply {
            let words = reply.split(separator: " ", maxSplits: 2)
            if words.count >= 2, let first = words[1].first, "245".contains(first) {
                let parts = words[1].split(separator: ".")
                if parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) {
                    return String(words[1])
                }
            }
            if let code = words.first?.first, code == "2" { return "2.0.0" }
            if let code = words.first?.first, code == "4", !permanent { return "4.0.0" }
        }
        return permanent ? "5.0.0" : "4.0.0"
    }

    /// The complete notice, CRLF line ends. `originalHeaders` is the header block of the queued message
    /// (up to the blank line); `originalMessage`, when given (RET=FULL), the whole message.
    public func render(originalHeaders: [UInt8], originalMessage: [UInt8]?, now: Date = Date(), messageID: String) -> [UInt8] {
        let boundary = "=_skjold_report_\(queueID)_\(Int(now.timeIntervalSince1970))"
        var out = ""
        func line(_ s: String = "") { out += s + "\r\n" }
        line("From: Mail Delivery System <MAILER-DAEMON@\(reportingMTA)>")
        line("To: <\(sender)>")
        line("Subject: \(kind.subject)")
        line("Date: \(Self.rfc5322Date(now))")
        line("Message-ID: <\(messageID)>")
        // RFC 3834 §5: never answered by autoresponders.
        line("Auto-Submitted: auto-replied")
        line("MIME-Version: 1.0")
        line("Content-Type: multipart/report; report-type=delivery-status;")
        line("\tboundary=\"\(boundary)\"")
        line()
        line("This is a MIME-encapsulated message.")
        line()
        line("--\(boundary)")
        line("Content-Type: text/plain; charset=utf-8")
        line("Content-Transfer-Encoding: 8bit")
        line()
        for text in humanReadable() { line(text) }
        line()
        line("--\(boundary)")
        line("Content-Type: message/delivery-status")
        line()
        line("Reporting-MTA: dns; \(reportingMTA)")
        line("X-Skjold-Queue-ID: \(queueID)")
        if let envelopeID { line("Original-Envelope-Id: \(Self.sanitize(envelopeID))") }
        line("Arrival-Date: \(Self.rfc5322Date(arrival))")
        for entry in entries {
            line()
            let r = entry.recipient
            line("Final-Recipient: \(Self.addressType(r.address)); \(Self.sanitize(r.address))")
            if let original = r.originalRecipient {
                // ORCPT is kept decoded as "type;address" (RFC 3461 §4.2).
                let parts = original.split(separator: ";", maxSplits: 1)
                if parts.count == 2 { line("Original-Recipient: \(Self.sanitize(String(parts[0]))); \(Self.sanitize(String(parts[1])))") }
            }
            line("Action: \(kind.rawValue)")
            line("Status: \(entry.status)")
            if let host = r.remoteHost {
                let name = host.prefix { $0 != "[" && $0 != ":" }
                line("Remote-MTA: dns; \(Self.sanitize(String(name)))")
            }
            if let reply = r.lastReply { line("Diagnostic-Code: smtp; \(Self.sanitize(reply))") }
            line("Last-Attempt-Date: \(Self.rfc5322Date(now))")
            if kind == .delayed, let retryUntil { line("Will-Retry-Until: \(Self.rfc5322Date(retryUntil))") }
        }
        line()
        line("--\(boundary)")
        var bytes = Array(out.utf8)
        if let originalMessage {
            bytes += Array("Content-Type: message/rfc822\r\n\r\n".utf8)
            bytes += originalMessage
            if !originalMessage.isEmpty && originalMessage.last != 0x0A { bytes += [13, 10] }
        } else {
            bytes += Array("Content-Type: text/rfc822-headers\r\n\r\n".utf8)
            bytes += originalHeaders
            if !originalHeaders.isEmpty && originalHeaders.last != 0x0A { bytes += [13, 10] }
        }
        bytes += Array("\r\n--\(boundary)--\r\n".utf8)
        return bytes
    }

    func humanReadable() -> [String] {
        var lines = ["This is the mail system at host \(reportingMTA).", ""]
        switch kind {
        case .failed:
            lines.append("I'm sorry to have to inform you that your message could not be delivered to one or more")
            lines.append("recipients. The reasons are given below.")
        case .delayed:
            lines.append("Your message could not be delivered yet to one or more recipients. It is still in the")
            lines.append("queue and will be retried" + (retryUntil.map { " until \(Self.rfc5322Date($0))." } ?? "."))
            lines.append("You do not need to send it again.")
        case .relayed, .delivered:
            lines.append("Your message was successfully delivered to the destination(s) listed below, as you asked.")
        }
        lines.append("")
        for entry in entries {
            let r = entry.recipient
            var text = "<\(Self.sanitize(r.address))>"
            if let host = r.remoteHost, let reply = r.lastReply {
                text += ": host \(Self.sanitize(host)) said: \(Self.sanitize(reply))"
            } else if let reply = r.lastReply {
                text += ": \(Self.sanitize(reply))"
            }
            lines.append(text)
        }
        return lines
    }

    /// RFC 6533 §3: non-ASCII addresses are of type utf-8.
    static func addressType(_ address: String) -> String {
        address.utf8.allSatisfy { $0 < 0x80 } ? "rfc822" : "utf-8"
    }

    /// Keeps one header line one line: CR, LF and other controls from remote replies become spaces.
    static func sanitize(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
    }

    /// RFC 5322 §3.3 date-time in UTC.
    public static func rfc5322Date(_ date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(parts.tm_wday)]), \(parts.tm_mday) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
    }
}

import SMTPProtocol

/// The MAIL and RCPT command lines of one transaction, built from a message and the server's extensions.
/// Parameters go out only when the matching extension was announced; values from the caller are checked so
/// that none can end a command early (CR, LF) or break out of the path's angle brackets.
struct TransactionCommands: Sendable, Hashable {
    /// `MAIL FROM:<sender> [SIZE=] [BODY=8BITMIME] [SMTPUTF8] [RET=] [ENVID=]` CRLF.
    var mail: String
    /// `RCPT TO:<address> [NOTIFY=] [ORCPT=]` CRLF, one per recipient.
    var recipients: [String]

    init(message: SMTPOutgoingMessage, extensions: ServerExtensions) throws(SMTPClientError) {
        guard !message.recipients.isEmpty else { throw .invalidArgument("a transaction needs at least one recipient") }
        try Self.checkPath(message.sender, what: "sender")
        for recipient in message.recipients {
            guard !recipient.address.isEmpty else { throw .invalidArgument("empty recipient address") }
            try Self.checkPath(recipient.address, what: "recipient")
        }

        var mail = "MAIL FROM:<\(message.sender)>"
        // RFC 1870 §6: the declared size lets the server refuse before the transfer.
        if extensions.size { mail += " SIZE=\(max(0, message.size))" }
        // RFC 6152 §3: BODY=8BITMIME only where announced; otherwise the content goes as is, as MTAs do.
        if message.eightBit && extensions.eightBitMIME { mail += " BODY=8BITMIME" }
        if Self.needsSMTPUTF8(message) { mail += " SMTPUTF8" }  // RFC 6531 §3.4; the caller checked it is offered
        if extensions.dsn {
            // RFC 3461 §4.3, §4.4.
            if let ret = message.ret {
                let value = ret.uppercased()
                guard value == "FULL" || value == "HDRS" else { throw .invalidArgument("RET must be FULL or HDRS") }
                mail += " RET=\(value)"
            }
            if let envelopeID = message.envelopeID { mail += " ENVID=\(XText.encode(envelopeID))" }
        }
        self.mail = mail + "\r\n"

        recipients = try message.recipients.map { recipient throws(SMTPClientError) -> String in
            var line = "RCPT TO:<\(recipient.address)>"
            if extensions.dsn {
                if let notify = recipient.notify {
                    line += " NOTIFY=\(try Self.notifyValue(notify))"
                }
                if let original = recipient.originalRecipient {
                    line += " ORCPT=\(try Self.originalRecipientValue(original))"
                }
            }
            return line + "\r\n"
        }
    }

    /// SMTPUTF8 is needed when the caller says so or when an address has non-ASCII octets (RFC 6531 §3.2).
    static func needsSMTPUTF8(_ message: SMTPOutgoingMessage) -> Bool {
        message.smtpUTF8 || !message.sender.utf8.allSatisfy { $0 < 0x80 }
            || message.recipients.contains { !$0.address.utf8.allSatisfy { $0 < 0x80 } }
    }

    /// No control characters (CR and LF above all: command injection), no DEL, no angle brackets.
    private static func checkPath(_ address: String, what: String) throws(SMTPClientError) {
        for byte in address.utf8 where byte < 0x20 || byte == 0x7F || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") {
            throw .invalidArgument("\(what) address contains a control character or an angle bracket")
        }
    }

    /// RFC 3461 §4.1: `NOTIFY=NEVER` or a comma-separated list of SUCCESS, FAILURE, DELAY.
    static func notifyValue(_ notify: String) throws(SMTPClientError) -> String {
        let value = notify.uppercased()
        let parts = value.split(separator: ",", omittingEmptySubsequences: false)
        let valid: Bool
        if parts == ["NEVER"] {
            valid = true
        } else {
            valid = !parts.isEmpty && parts.allSatisfy { ["SUCCESS", "FAILURE", "DELAY"].contains($0) }
                && Set(parts).count == parts.count
        }
        guard valid else { throw .invalidArgument("NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY") }
        return value
    }

    /// RFC 3461 §4.2: `ORCPT=addr-type ";" xtext`, the address part encoded here.
    static func originalRecipientValue(_ original: String) throws(SMTPClientError) -> String {
        var type = "rfc822"
        var address = Substring(original)
        if let semicolon = original.firstIndex(of: ";") {
            type = String(original[..<semicolon])
            address = original[original.index(after: semicolon)...]
        }
        // addr-type is an atom (RFC 3461 §4.2 refers to the "Address Type" registry: rfc822, utf-8, x400...).
        let isAtom = !type.isEmpty && type.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == UInt8(ascii: "-")
        }
        guard isAtom, !address.isEmpty else { throw .invalidArgument("ORCPT must be addr-type;address") }
        return type + ";" + XText.encode(Array(address.utf8))
    }
}

/// The IMAP ENVELOPE of a message (RFC 9051 §7.5.2, RFC 3501 §7.4.2), from its header.
///
/// String members are the raw header values, unfolded and trimmed, with encoded words left as
/// they are (the client decodes them). The first occurrence of each field is used.
public struct Envelope: Sendable, Hashable, Codable {
    public var date: [UInt8]?
    public var subject: [UInt8]?
    public var from: [AddressListItem]
    /// Defaults to `from` when the Sender field is absent or empty (RFC 9051 §7.5.2).
    public var sender: [AddressListItem]
    /// Defaults to `from` when the Reply-To field is absent or empty (RFC 9051 §7.5.2).
    public var replyTo: [AddressListItem]
    public var to: [AddressListItem]
    public var cc: [AddressListItem]
    public var bcc: [AddressListItem]
    public var inReplyTo: [UInt8]?
    public var messageID: [UInt8]?

    public init(date: [UInt8]? = nil, subject: [UInt8]? = nil, from: [AddressListItem] = [],
                sender: [AddressListItem] = [], replyTo: [AddressListItem] = [], to: [AddressListItem] = [],
                cc: [AddressListItem] = [], bcc: [AddressListItem] = [], inReplyTo: [UInt8]? = nil,
                messageID: [UInt8]? = nil) {
        self.date = date
        self.subject = subject
        self.from = from
        self.sender = sender
        self.replyTo = replyTo
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.inReplyTo = inReplyTo
        self.messageID = messageID
    }

    /// Builds the envelope from a parsed header.
    public init(header: HeaderBlock, in buffer: UnsafeRawBufferPointer) {
        var date: [UInt8]?, subject: [UInt8]?, inReplyTo: [UInt8]?, messageID: [UInt8]?
        var from: [UInt8]?, sender: [UInt8]?, replyTo: [UInt8]?, to: [UInt8]?, cc: [UInt8]?, bcc: [UInt8]?
        for f in header.fields {
            let n = f.nameRange.count
            guard n >= 2, n <= 11 else { continue }
            switch String(decoding: f.name(in: buffer).asciiLowercased, as: UTF8.self) {
            case "date": if date == nil { date = f.unfoldedValue(in: buffer) }
            case "subject": if subject == nil { subject = f.unfoldedValue(in: buffer) }
            case "from": if from == nil { from = f.unfoldedValue(in: buffer) }
            case "sender": if sender == nil { sender = f.unfoldedValue(in: buffer) }
            case "reply-to": if replyTo == nil { replyTo = f.unfoldedValue(in: buffer) }
            case "to": if to == nil { to = f.unfoldedValue(in: buffer) }
            case "cc": if cc == nil { cc = f.unfoldedValue(in: buffer) }
            case "bcc": if bcc == nil { bcc = f.unfoldedValue(in: buffer) }
            case "in-reply-to": if inReplyTo == nil { inReplyTo = f.unfoldedValue(in: buffer) }
            case "message-id": if messageID == nil { messageID = f.unfoldedValue(in: buffer) }
            default: continue
            }
        }
        func list(_ v: [UInt8]?) -> [AddressListItem] { v.map(AddressParser.parse) ?? [] }
        let fromList = list(from)
        let senderList = list(sender)
        let replyList = list(replyTo)
        // A present but empty Date/Subject/ID is sent as "" (as Dovecot does); only absence is NIL.
        self.init(date: date, subject: subject,
                  from: fromList,
                  sender: senderList.isEmpty ? fromList : senderList,
                  replyTo: replyList.isEmpty ? fromList : replyList,
                  to: list(to), cc: list(cc), bcc: list(bcc),
                  inReplyTo: inReplyTo, messageID: messageID)
    }

    /// Builds the envelope of a message's top-level header.
    public init(message: MIMEMessage, in buffer: UnsafeRawBufferPointer) {
        self.init(header: HeaderBlock.parse(buffer, in: message.root.headerRange), in: buffer)
    }

    /// Placeholder strings for an address that lacks a local part or domain: NIL there would read
    /// as group syntax (RFC 9051 §7.5.2), so a marker is sent instead (Dovecot's convention).
    static let missingMailbox = Array("MISSING_MAILBOX".utf8)
    static let missingDomain = Array("MISSING_DOMAIN".utf8)

    /// Writes `envelope` (RFC 9051 §9):
    /// `"(" env-date SP env-subject SP env-from SP env-sender SP env-reply-to SP env-to SP env-cc SP
    /// env-bcc SP env-in-reply-to SP env-message-id ")"`.
    public func write(to w: inout IMAPWriter) {
        w.raw("(")
        w.nstring(date)
        w.raw(" ")
        w.nstring(subject)
        for l in [from, sender, replyTo, to, cc, bcc] {
            w.raw(" ")
            Envelope.writeAddressList(l, to: &w)
        }
        w.raw(" ")
        w.nstring(inReplyTo)
        w.raw(" ")
        w.nstring(messageID)
        w.raw(")")
    }

    /// The ENVELOPE value as IMAP bytes; `utf8` selects UTF8=ACCEPT quoting.
    public func imapBytes(utf8: Bool) -> [UInt8] {
        var w = IMAPWriter(utf8: utf8)
        write(to: &w)
        return w.bytes
    }

    /// `"(" 1*address ")" / nil`; groups as `(NIL NIL "name" NIL) members (NIL NIL NIL NIL)` (RFC 3501 §7.4.2).
    static func writeAddressList(_ items: [AddressListItem], to w: inout IMAPWriter) {
        guard !items.isEmpty else { w.nilValue(); return }
        w.raw("(")
        for item in items {
            switch item {
            case .mailbox(let m):
                writeAddress(m, to: &w)
            case .group(let name, let members):
                w.raw("(NIL NIL ")
                w.string(name)
                w.raw(" NIL)")
                for m in members { writeAddress(m, to: &w) }
                w.raw("(NIL NIL NIL NIL)")
            }
        }
        w.raw(")")
    }

    /// address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")".
    static func writeAddress(_ m: MailAddress, to w: inout IMAPWriter) {
        w.raw("(")
        w.nstring(m.displayName)
        w.raw(" ")
        w.nstring(m.route)
        w.raw(" ")
        w.string(m.localPart ?? missingMailbox)
        w.raw(" ")
        w.string(m.domain ?? missingDomain)
        w.raw(")")
    }
}

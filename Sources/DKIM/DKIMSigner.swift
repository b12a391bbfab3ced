import Crypto
import Foundation

/// Signs outgoing messages for one domain and selector: produces the `DKIM-Signature` field to prepend
/// (RFC 6376 §5), always with relaxed/relaxed canonicalization.
///
/// For two signatures (RSA and Ed25519, RFC 8463 §5 suggests both while receivers catch up), use two
/// signers and prepend both fields; each signs the message without the other's field.
public struct DKIMSigner: Sendable {
    /// Fields signed when present. Each is signed as many times as it occurs, and `from` once more
    /// than it occurs, so an added From field breaks the signature (RFC 6376 §8.15).
    public static let defaultHeaders: [String] = [
        "from", "sender", "reply-to", "to", "cc", "subject", "date", "message-id",
        "in-reply-to", "references", "mime-version", "content-type", "content-transfer-encoding",
        "content-disposition", "content-language",
        "list-id", "list-help", "list-unsubscribe", "list-unsubscribe-post", "list-subscribe",
        "list-post", "list-owner", "list-archive",
    ]

    /// Bytes read from a message file at a time.
    static let fileChunkSize = 64 * 1024

    public let domain: String
    public let selector: String
    public let key: DKIMPrivateKey
    public let headers: [String]

    /// `domain` and `selector` are checked when signing (`DKIMError.invalidDomain` / `.invalidSelector`).
    public init(domain: String, selector: String, key: DKIMPrivateKey, headers: [String] = DKIMSigner.defaultHeaders) {
        self.domain = domain
        self.selector = selector
        self.key = key
        self.headers = headers
    }

    /// The complete field to prepend: `DKIM-Signature: v=1; a=...; ...; b=...\r\n`, folded at 78 characters.
    public func signatureField(message: [UInt8], at time: Date = Date()) throws -> String {
        let (header, body) = DKIMHeaderBlock.split(message[...])
        var hasher = DKIMBodyHasher()
        hasher.update(body)
        return try signatureField(headerBlock: header, bodyHash: hasher.finalize(), at: time)
    }

    /// Same as `signatureField(message:at:)`, reading the message from a file: the body is hashed as it
    /// is read, 64 KiB at a time; only the header block (at most 1 MiB) is held.
    public func signatureField(fileAt path: String, at time: Date = Date()) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DKIMError.fileUnreadable(path: path, reason: "cannot open")
        }
        defer { try? handle.close() }
        var header: [UInt8] = []
        var scanner = DKIMHeaderBlock.EndScanner()
        var hasher = DKIMBodyHasher()
        var inBody = false
        while true {
            let data: Data
            do {
                data = try handle.read(upToCount: Self.fileChunkSize) ?? Data()
            } catch {
                throw DKIMError.fileUnreadable(path: path, reason: "\(error)")
            }
            if data.isEmpty { break }
            if inBody {
                hasher.update(Array(data)[...])
                continue
            }
            header.append(contentsOf: data)
            if let end = scanner.scan(header[...]) {
                hasher.update(header[end.bodyStart...])
                header.removeSubrange(end.headerEnd...)
                inBody = true
            } else if header.count > DKIMHeaderBlock.maximumSize {
                throw DKIMError.headerBlockTooLarge(limit: DKIMHeaderBlock.maximumSize)
            }
        }
        return try signatureField(headerBlock: header[...], bodyHash: hasher.finalize(), at: time)
    }

    /// Same, from a header block (the fields, with or without the empty line after them) and the
    /// `DKIMBodyHasher` digest of the body, e.g. both computed while the message was spooled.
    public func signatureField(headerBlock: ArraySlice<UInt8>, bodyHash: [UInt8], at time: Date) throws -> String {
        guard DKIMNames.isDomainName(domain) else { throw DKIMError.invalidDomain(domain) }
        guard DKIMNames.isDomainName(selector) else { throw DKIMError.invalidSelector(selector) }
        guard bodyHash.count == SHA256.byteCount else { throw DKIMError.invalidBodyHash }
        guard headerBlock.count <= DKIMHeaderBlock.maximumSize else {
            throw DKIMError.headerBlockTooLarge(limit: DKIMHeaderBlock.maximumSize)
        }
        let fields = DKIMHeaderBlock.fields(in: headerBlock)

        var occurrences: [String: Int] = [:]
        for field in fields { occurrences[field.key, default: 0] += 1 }
        var signedNames: [String] = []
        var seen: Set<String> = []
        for header in headers {
            let name = header.lowercased()
            guard DKIMNames.isFieldName(name) else { throw DKIMError.invalidHeaderName(header) }
            guard seen.insert(name).inserted else { continue }
            signedNames.append(contentsOf: repeatElement(name, count: occurrences[name] ?? 0))
        }
        guard (occurrences["from"] ?? 0) > 0 else { throw DKIMError.missingFromHeader }
        if !seen.contains("from") {  // RFC 6376 §5.4: From MUST be signed
            signedNames.append(contentsOf: repeatElement("from", count: occurrences["from"] ?? 0))
        }
        signedNames.append("from")  // over-signing: an added From has no slot left

        let seconds = time.timeIntervalSince1970
        let timestamp = seconds.isFinite ? Int64(min(max(seconds, 0), 1e15).rounded(.down)) : 0
        var folder = DKIMHeaderFolder(name: "DKIM-Signature")
        folder.append("v=1;")
        folder.append("a=\(key.algorithm.rawValue);")
        folder.append("c=relaxed/relaxed;")
        folder.append("d=\(domain);")
        folder.append("s=\(selector);")
        folder.append("t=\(timestamp);")
        for (position, name) in signedNames.enumerated() {
            let separator = position == signedNames.count - 1 ? ";" : ":"
            if position == 0 {
                folder.append("h=\(name)\(separator)")
            } else {
                folder.append("\(name)\(separator)", spaceBefore: false)
            }
        }
        folder.append("bh=\(Data(bodyHash).base64EncodedString());")
        folder.append("b=")

        let signature = try Self.sign(
            fields: fields, signedNames: signedNames, signatureFieldValue: folder.value, key: key)
        folder.appendBreakable(Data(signature).base64EncodedString())
        return folder.text + "\r\n"
    }

    /// Signs the header hash (RFC 6376 §3.7): the selected fields, relaxed, each with CRLF, then this
    /// DKIM-Signature field with an empty `b=` and no CRLF. `signatureFieldValue` is the text after
    /// "DKIM-Signature:", ending in "b=".
    static func sign(
        fields: [DKIMHeaderField], signedNames: [String], signatureFieldValue: String, key: DKIMPrivateKey
    ) throws -> [UInt8] {
        var hasher = SHA256()
        for index in DKIMHeaderBlock.select(signedNames, from: fields) {
            hasher.update(data: DKIMCanonicalization.relaxedHeaderWithoutLineEnd(
                name: fields[index].name, value: fields[index].value))
            hasher.update(data: ASCII.crlf)
        }
        hasher.update(data: DKIMCanonicalization.relaxedHeaderWithoutLineEnd(
            name: Array("DKIM-Signature".utf8)[...], value: Array(signatureFieldValue.utf8)[...]))
        return try key.signature(forHeaderHash: hasher.finalize())
    }
}

/// Builds a header field folded to lines of at most 78 characters (RFC 5322 §2.1.1) with CRLF + SP.
struct DKIMHeaderFolder {
    static let lineLimit = 78
    private let name: String
    /// The field body after the colon, folds included.
    private(set) var value = ""
    private var lineLength: Int

    init(name: String) {
        self.name = name
        self.lineLength = name.utf8.count + 1
    }

    var text: String { name + ":" + value }

    /// Adds a token that must stay whole, after a space, or on a new line when it would not fit.
    mutating func append(_ token: String, spaceBefore: Bool = true) {
        let needed = (spaceBefore ? 1 : 0) + token.utf8.count
        if lineLength + needed > Self.lineLimit && lineLength > 1 {
            value += "\r\n " + token
            lineLength = 1 + token.utf8.count
        } else {
            value += (spaceBefore ? " " : "") + token
            lineLength += needed
        }
    }

    /// Adds ASCII text that may be split anywhere (base64, where RFC 6376 §3.5 allows FWS).
    mutating func appendBreakable(_ text: String) {
        var rest = Substring(text)
        while !rest.isEmpty {
            let room = Self.lineLimit - lineLength
            if room <= 0 {
                value += "\r\n "
                lineLength = 1
                continue
            }
            let piece = rest.prefix(room)
            value += piece
            lineLength += piece.utf8.count
            rest = rest.dropFirst(piece.count)
        }
    }
}

/// Syntax checks for names that go into a signature.
enum DKIMNames {
    /// A DNS name as DKIM uses it for `d=` and `s=` (RFC 6376 §3.5: sub-domain): dot-separated labels
    /// of letters, digits, hyphens (and underscores, which DNS permits), at most 253 characters.
    static func isDomainName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        for label in bytes.split(separator: 0x2E, omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= 63, label.first != 0x2D, label.last != 0x2D else { return false }
            for byte in label {
                let ok = (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte)
                    || (0x61...0x7A).contains(byte) || byte == 0x2D || byte == 0x5F
                guard ok else { return false }
            }
        }
        return true
    }

    /// RFC 5322 §3.6.8: ftext is printable ASCII except the colon.
    static func isFieldName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { (0x21...0x7E).contains($0) && $0 != ASCII.colon && $0 != ASCII.semicolon }
    }
}

import DKIM
import Foundation
import Logging
import MailStore
import MIME

/// DKIM-signs outgoing messages for the domain of their From address (RFC 6376; DMARC alignment wants
/// d= to be that domain), with every key the domain has (Ed25519 and RSA: RFC 8463 §4 recommends both,
/// since not every verifier knows Ed25519).
struct MessageSigning: Sendable {
    let keys: (any DKIMKeyStore)?

    /// The DKIM-Signature fields for the message file (CRLF-terminated, to be sent before it), "" when the
    /// From domain has no keys (so the lookup is not repeated), nil on an error worth retrying.
    func signature(for message: QueuedMessage, path: String, logger: Logger) async -> String? {
        guard let keys else { return "" }
        guard let domain = Self.fromDomain(path: path) ?? Self.domain(of: message.sender) else { return "" }
        let records: [DKIMKeyRecord]
        do {
            records = try await keys.dkimKeys(for: domain)
        } catch {
            logger.error("DKIM key lookup failed: \(error)")
            return nil
        }
        guard !records.isEmpty else { return "" }
        let now = Date()
        let signers: [DKIMSigner] = records.compactMap { record in
            do {
                return DKIMSigner(domain: record.domain, selector: record.selector, key: try DKIMPrivateKey(pem: record.privateKeyPEM))
            } catch {
                logger.error("DKIM key of \(record.domain) selector \(record.selector) unusable: \(error)")
                return nil
            }
        }
        // File reading and hashing run off the cooperative pool.
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var fields = ""
                for signer in signers {
                    do {
                        fields += try signer.signatureField(fileAt: path, at: now)
                    } catch {
                        logger.error("DKIM signing failed: \(error)")
                    }
                }
                continuation.resume(returning: fields)
            }
        }
    }

    static func domain(of address: String) -> String? {
        guard let at = address.lastIndex(of: "@") else { return nil }
        let domain = address[address.index(after: at)...].lowercased()
        return domain.isEmpty ? nil : domain
    }

    /// The domain of the (first) From address in the message's header block.
    static func fromDomain(path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: 256 << 10) else { return nil }
        let header = Finalizer.headerBlock([UInt8](data))
        var value: [UInt8]?
        var current: [UInt8]?
        // Unfold: a line starting with WSP continues the previous field.
        for line in header.split(separator: 0x0A, omittingEmptySubsequences: false) {
            var bytes = Array(line)
            if bytes.last == 0x0D { bytes.removeLast() }
            if let first = bytes.first, first == 0x20 || first == 0x09 {
                current?.append(contentsOf: bytes)
                continue
            }
            if let current, value == nil { value = current }
            current = nil
            if value == nil, bytes.count > 5, String(decoding: bytes.prefix(5), as: UTF8.self).lowercased() == "from:" {
                current = Array(bytes.dropFirst(5))
            }
        }
        if value == nil { value = current }
        guard let value else { return nil }
        for item in AddressParser.parse(value) {
            for mailbox in item.mailboxes {
                if let domain = mailbox.domain, !domain.isEmpty { return String(decoding: domain, as: UTF8.self).lowercased() }
            }
        }
        return nil
    }
}

import Foundation
import IMAPProtocol
import MIME
import MailStore

extension IMAPSession {
    /// One prepared FETCH item: a complete value, or a body streamed from the mapped message.
    private enum FetchItem {
        case value(FetchValue)
        case streamed(StreamedFetchItem, SectionContent)
        case decoded(StreamedFetchItem, [UInt8])
    }

    private struct FetchRefusal: Error {
        let code: ResponseCode
        let text: String
    }

    /// FETCH / UID FETCH (RFC 9051 §6.4.5; BINARY RFC 3516; CHANGEDSINCE/MODSEQ RFC 7162 §3.1.4).
    func fetch(_ tag: String, _ set: SequenceSet, _ attributes: [FetchAttribute], _ modifiers: FetchModifiers,
               uid: Bool) async throws -> Outcome {
        guard var box = selected else { return bad(tag, "No mailbox selected") }
        let mail = try requireMail()
        if !uid, box.hasInvalidSequenceNumber(set) { return bad(tag, "Invalid message sequence number") }
        if modifiers.vanished { return bad(tag, "VANISHED needs QRESYNC, which is not enabled") }
        var attrs = attributes
        if uid, !attrs.contains(.uid) { attrs.insert(.uid, at: 0) }
        if modifiers.changedSince != nil || attrs.contains(.modSeq) {
            condStore = true
            if !attrs.contains(.modSeq) { attrs.append(.modSeq) }
        }
        let indices = box.indices(set, uid: uid)
        // Issue 7: past the weekly allowance, message contents are refused; headers, flags and the
        // structure still come, so clients can list and clean up.
        if !indices.isEmpty, attrs.contains(where: Self.sendsContent), let refusal = await bandwidthRefusal() {
            return no(tag, code: .limit, refusal)
        }
        var records: [UID: MessageRecord] = [:]
        if !indices.isEmpty {
            let ranges = NumberSet(indices.map { box.uid(at: $0) }).ranges
            for record in try await mail.messages(mailboxID: box.id, uids: ranges) { records[record.uid] = record }
        }
        if let since = modifiers.changedSince { records = records.filter { $0.value.modSeq > since } }

        // RFC 9051 §6.4.5: BODY[...] (not PEEK), BINARY[...], RFC822 and RFC822.TEXT set \Seen.
        var seenNow = Set<UID>()
        if !box.readOnly, attrs.contains(where: \.setsSeen) {
            let unseen = records.values.filter { !$0.flags.contains("\\Seen") }.map(\.uid).sorted()
            if !unseen.isEmpty {
                let result = try await mail.updateFlags(mailboxID: box.id, uids: unseen, change: .add, flags: ["\\Seen"],
                                                        unchangedSince: nil)
                for state in result.states {
                    records[state.uid]?.flags = state.flags
                    records[state.uid]?.modSeq = state.modSeq
                    if let i = box.index(of: state.uid) { box.update(index: i, flags: state.flags, modSeq: state.modSeq) }
                    seenNow.insert(state.uid)
                }
            }
        }
        selected = box

        var sent: Int64 = 0
        for index in indices {
            guard let record = records[box.uid(at: index)] else { continue }
            let items: [FetchItem]
            var mapped: MappedMessage?
            do {
                items = try await prepare(attrs, for: record, mapped: &mapped, addFlags: seenNow.contains(record.uid))
            } catch let refusal as FetchRefusal {
                await recordTraffic(sent)
                return no(tag, code: refusal.code, refusal.text)
            }
            sent &+= try await write(items, sequenceNumber: UInt32(index + 1), mapped: mapped)
        }
        await recordTraffic(sent)
        return try await complete(tag, .fetch(set, attributes, modifiers, uid: uid))
    }

    private static func needsParse(_ attribute: FetchAttribute) -> Bool {
        switch attribute {
        case .envelope, .bodyStructure, .binary, .binarySize, .rfc822Header, .rfc822Text: return true
        case .bodySection(let spec, _, _): return spec != .whole
        case .uid, .flags, .internalDate, .rfc822Size, .modSeq, .rfc822: return false
        }
    }

    /// Attributes that send message content (not only headers): what the weekly allowance blocks.
    private static func sendsContent(_ attribute: FetchAttribute) -> Bool {
        switch attribute {
        case .binary, .rfc822, .rfc822Text: return true
        case .bodySection(let spec, _, _):
            switch spec.text {
            case .header?, .headerFields?, .headerFieldsNot?, .mime?: return false
            case nil, .text?: return true
            }
        default: return false
        }
    }

    private static func needsBytes(_ attribute: FetchAttribute) -> Bool {
        switch attribute {
        case .bodySection, .binary, .binarySize, .rfc822, .rfc822Header, .rfc822Text: return true
        default: return false
        }
    }

    /// Everything that can fail (reading, parsing) happens here, before any byte of the response is queued.
    private func prepare(_ attrs: [FetchAttribute], for record: MessageRecord, mapped: inout MappedMessage?,
                         addFlags: Bool) async throws -> [FetchItem] {
        let mail = try requireMail()
        if attrs.contains(where: Self.needsBytes) {
            mapped = try MappedMessage(path: mail.blobFilePath(record.blobID))
        }
        var cache: IMAPMessageCache?
        if attrs.contains(where: Self.needsParse) {
            cache = try await parsedMessage(record, mapped: &mapped)
        }
        let utf8 = encoder.utf8Enabled
        var items: [FetchItem] = []
        for attribute in attrs {
            switch attribute {
            case .uid: items.append(.value(.uid(record.uid)))
            case .flags: items.append(.value(.flags(IMAPFlags.wire(record.flags))))
            case .internalDate:
                items.append(.value(.internalDate(IMAPDateTime(secondsSince1970: Int64(record.internalDate.timeIntervalSince1970)))))
            case .rfc822Size: items.append(.value(.rfc822Size(UInt64(clamping: record.size))))
            case .modSeq: items.append(.value(.modSeq(record.modSeq)))
            case .envelope:
                if let cache { items.append(.value(.envelope(encoded: cache.envelope(utf8: utf8)))) }
            case .bodyStructure(let extensible):
                if let cache {
                    items.append(.value(.bodyStructure(encoded: extensible ? cache.bodyStructure(utf8: utf8) : cache.body(utf8: utf8),
                                                       extensible: extensible)))
                }
            case .bodySection(let spec, let partial, _):
                let content = section(spec, cache: cache, mapped: mapped)
                items.append(.streamed(.bodySection(spec, origin: partial?.offset), Self.slice(content, partial)))
            case .rfc822:
                items.append(.streamed(.rfc822, section(.whole, cache: cache, mapped: mapped)))
            case .rfc822Header:
                items.append(.streamed(.rfc822Header, section(SectionSpec(text: .header), cache: cache, mapped: mapped)))
            case .rfc822Text:
                items.append(.streamed(.rfc822Text, section(SectionSpec(text: .text), cache: cache, mapped: mapped)))
            case .binary(let part, let partial, _):
                let decoded = try binary(part, cache: cache, mapped: mapped)
                let sliced = Self.slice(decoded, partial)
                items.append(.decoded(.binary(part: part, origin: partial?.offset, literal8: sliced.contains(0)), sliced))
            case .binarySize(let part):
                let decoded = try binary(part, cache: cache, mapped: mapped)
                items.append(.value(.binarySize(part: part, size: UInt64(decoded.count))))
            }
        }
        if addFlags, !attrs.contains(.flags) { items.append(.value(.flags(IMAPFlags.wire(record.flags)))) }
        return items
    }

    /// The message's parse: from the store's cache, else parsed now and cached for next time.
    private func parsedMessage(_ record: MessageRecord, mapped: inout MappedMessage?) async throws -> IMAPMessageCache {
        let mail = try requireMail()
        if let data = try await mail.cachedParse(blobID: record.blobID), let cache = IMAPMessageCache(compact: data) {
            return cache
        }
        let message = try mapped ?? MappedMessage(path: mail.blobFilePath(record.blobID))
        mapped = message
        let cache = IMAPMessageCache(parsing: message.buffer)
        do {
            try await mail.storeCachedParse(blobID: record.blobID, cache.compactEncoded())
        } catch {
            logger.debug("IMAP parse cache write failed: \(error)")
        }
        return cache
    }

    private func section(_ spec: SectionSpec, cache: IMAPMessageCache?, mapped: MappedMessage?) -> SectionContent {
        guard let mapped else { return .empty }
        if spec == .whole { return SectionContent(pieces: [.source(0..<mapped.count)]) }
        guard let cache else { return .empty }
        let text: Section.Text?
        switch spec.text {
        case nil: text = nil
        case .header?: text = .header
        case .headerFields(let names)?: text = .headerFields(names.map { Array($0.utf8) })
        case .headerFieldsNot(let names)?: text = .headerFieldsNot(names.map { Array($0.utf8) })
        case .text?: text = .text
        case .mime?: text = .mime
        }
        // A part that does not exist reads as the empty string (RFC 9051 §6.4.5 allows it; clients cope).
        return cache.message.section(Section(part: spec.part.map { Int($0) }, text: text), in: mapped.buffer) ?? .empty
    }

    /// BINARY[part] content, transfer-decoded (RFC 3516 §4.2).
    private func binary(_ part: [UInt32], cache: IMAPMessageCache?, mapped: MappedMessage?) throws -> [UInt8] {
        guard let cache, let mapped else { return [] }
        guard let source = cache.message.binarySource(part.map { Int($0) }) else {
            throw FetchRefusal(code: .nonExistent, text: "No such body part")
        }
        if case .other = source.encoding {
            throw FetchRefusal(code: .unknownCTE, text: "Unknown Content-Transfer-Encoding")
        }
        let lo = max(0, min(source.range.lowerBound, mapped.count)), hi = max(lo, min(source.range.upperBound, mapped.count))
        return source.encoding.decode(UnsafeRawBufferPointer(rebasing: mapped.buffer[lo..<hi]))
    }

    private static func slice(_ content: SectionContent, _ partial: Partial?) -> SectionContent {
        guard let partial else { return content }
        return content.slice(origin: Int(clamping: partial.offset), length: Int(clamping: partial.length))
    }

    private static func slice(_ bytes: [UInt8], _ partial: Partial?) -> [UInt8] {
        guard let partial else { return bytes }
        let lo = Int(clamping: min(partial.offset, UInt64(bytes.count)))
        let hi = Int(clamping: min(UInt64(lo) &+ partial.length, UInt64(bytes.count)))
        return Array(bytes[lo..<max(lo, hi)])
    }

    /// Queues one `* n FETCH (...)`, copying bodies from the mapped file in bounded pieces. Returns the
    /// message bytes sent (literal contents), for the transfer ledger.
    private func write(_ items: [FetchItem], sequenceNumber: UInt32, mapped: MappedMessage?) async throws -> Int64 {
        var sent: Int64 = 0
        var fetch = FetchResponseEncoder(sequenceNumber: sequenceNumber, encoder: encoder, into: &output)
        for item in items {
            switch item {
            case .value(let value):
                fetch.append(value, into: &output)
            case .decoded(let name, let bytes):
                fetch.appendLiteralHeader(for: name, size: UInt64(bytes.count), into: &output)
                output.append(contentsOf: bytes)
                sent &+= Int64(bytes.count)
                try await writeIfLarge()
            case .streamed(let name, let content):
                fetch.appendLiteralHeader(for: name, size: UInt64(content.count), into: &output)
                sent &+= Int64(content.count)
                for piece in content.pieces {
                    switch piece {
                    case .literal(let bytes):
                        output.append(contentsOf: bytes)
                    case .source(let range):
                        // Ranges come from this file's own parse; clamped anyway, and padded so that the
                        // announced literal size always holds.
                        let available = min(range.upperBound, mapped?.count ?? 0)
                        var offset = max(0, range.lowerBound)
                        while offset < available, let mapped {
                            let end = min(available, offset + Self.outputChunk)
                            output.append(contentsOf: mapped.buffer[offset..<end])
                            offset = end
                            try await writeIfLarge()
                        }
                        let missing = range.upperBound - max(offset, range.lowerBound)
                        if missing > 0 { output.append(contentsOf: repeatElement(UInt8(0x20), count: missing)) }
                    }
                }
            }
        }
        fetch.finish(into: &output)
        try await writeIfLarge()
        return sent
    }
}

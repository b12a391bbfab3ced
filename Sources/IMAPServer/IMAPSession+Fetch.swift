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
        // In chunks: one read for the records and one for the cached parses of each, instead of one store
        // round trip per message, and memory bounded on large mailboxes.
        let parse = attrs.contains(where: Self.needsParse)
        let metadataOnly = attrs.allSatisfy(Self.isMetadata)
        var wire = FlagWireCache()
        var sent: Int64 = 0
        var start = 0
        // Metadata only: the next chunk is read while this one is written (reads have no side effect and
        // the chunks are disjoint), so the store's latency is hidden behind the encoding and the writes.
        let mailboxID = box.id
        func slice(at start: Int) -> (indices: ArraySlice<Int>, ranges: [ClosedRange<UID>]) {
            let chunk = indices[start..<min(indices.count, start + Self.fetchChunk)]
            return (chunk, Self.runs(chunk.lazy.map { box.uid(at: $0) }))
        }
        var prefetched: Task<[(MessageRecord, [UInt8]?)], any Error>?
        defer { prefetched?.cancel() }
        while start < indices.count {
            let (chunk, ranges) = slice(at: start)
            start = chunk.endIndex
            // Each record with its cached parse, when the attributes need one.
            var records: [(MessageRecord, [UInt8]?)]
            if let pending = prefetched {
                prefetched = nil
                records = try await pending.value
            } else {
                records = try await Self.records(mail, mailboxID: mailboxID, ranges: ranges, parse: parse)
            }
            if metadataOnly, start < indices.count {
                let nextRanges = slice(at: start).ranges
                prefetched = Self.prefetch(mail, mailboxID: mailboxID, ranges: nextRanges, parse: parse)
            }
            if let since = modifiers.changedSince { records.removeAll { $0.0.modSeq <= since } }

            // RFC 9051 §6.4.5: BODY[...] (not PEEK), BINARY[...], RFC822 and RFC822.TEXT set \Seen.
            var seenNow = Set<UID>()
            if !box.readOnly, attrs.contains(where: \.setsSeen) {
                let unseen = records.filter { !$0.0.flags.contains("\\Seen") }.map(\.0.uid)
                if !unseen.isEmpty {
                    let result = try await mail.updateFlags(mailboxID: box.id, uids: unseen, change: .add, flags: ["\\Seen"],
                                                            unchangedSince: nil)
                    var states: [UID: MessageFlagState] = [:]
                    for state in result.states { states[state.uid] = state }
                    for i in records.indices {
                        guard let state = states[records[i].0.uid] else { continue }
                        records[i].0.flags = state.flags
                        records[i].0.modSeq = state.modSeq
                        if let index = box.index(of: state.uid) { box.update(index: index, flags: state.flags, modSeq: state.modSeq) }
                        seenNow.insert(state.uid)
                    }
                    box.tookOwnChange(result.modSeq)
                }
                selected = box
            }

            var newParses: [String: [UInt8]] = [:]
            // Both ascending by UID: walk them together.
            var next = records.startIndex
            for index in chunk {
                let uid = box.uid(at: index)
                while next < records.endIndex, records[next].0.uid < uid { next += 1 }
                guard next < records.endIndex, records[next].0.uid == uid else { continue }
                let (record, cachedParse) = records[next]
                // The common bulk case (a client listing a mailbox): written straight into the output, and
                // sent in larger pieces (fewer hand-offs to the connection's event loop).
                if metadataOnly, !seenNow.contains(record.uid),
                   writeMetadata(attrs, needsRendered: parse, for: record, cachedParse: cachedParse,
                                 sequenceNumber: UInt32(index + 1), wire: &wire) {
                    if output.count >= Self.metadataOutputChunk { try await writeOutput(flush: true) }
                    continue
                }
                let items: [FetchItem]
                var mapped: MappedMessage?
                do {
                    items = try prepare(attrs, for: record, cachedParse: cachedParse, newParses: &newParses,
                                        mapped: &mapped, addFlags: seenNow.contains(record.uid), wire: &wire)
                } catch let refusal as FetchRefusal {
                    await recordTraffic(sent)
                    await storeParses(newParses, in: mail)
                    return no(tag, code: refusal.code, refusal.text)
                }
                sent &+= try await write(items, sequenceNumber: UInt32(index + 1), mapped: mapped)
            }
            await storeParses(newParses, in: mail)
        }
        selected = box
        await recordTraffic(sent)
        return try await complete(tag, .fetch(set, attributes, modifiers, uid: uid))
    }

    /// Messages per store round trip in FETCH.
    static let fetchChunk = 1000

    /// Output queued before a write on the metadata path: a few FETCH chunks' worth of lines per write.
    static let metadataOutputChunk = 256 * 1024

    /// The runs of consecutive UIDs in `uids`, which ascend (as the indices of a mailbox view do).
    static func runs<S: Sequence>(_ uids: S) -> [ClosedRange<UID>] where S.Element == UID {
        var out: [ClosedRange<UID>] = []
        var low: UID = 0, high: UID = 0, open = false
        for uid in uids {
            if open, uid == high &+ 1, uid > high {
                high = uid
                continue
            }
            if open { out.append(low...high) }
            low = uid
            high = uid
            open = true
        }
        if open { out.append(low...high) }
        return out
    }

    /// ``records(_:mailboxID:ranges:parse:)``, started now and awaited later.
    private static func prefetch(_ mail: any IMAPAccountStore, mailboxID: Int64, ranges: [ClosedRange<UID>],
                                 parse: Bool) -> Task<[(MessageRecord, [UInt8]?)], any Error> {
        Task.detached { try await records(mail, mailboxID: mailboxID, ranges: ranges, parse: parse) }
    }

    /// The records of `ranges`, each with its cached parse when `parse`.
    private static func records(_ mail: any IMAPAccountStore, mailboxID: Int64, ranges: [ClosedRange<UID>],
                                parse: Bool) async throws -> [(MessageRecord, [UInt8]?)] {
        if parse { return try await mail.messagesWithCachedParses(mailboxID: mailboxID, uids: ranges) }
        return try await mail.messages(mailboxID: mailboxID, uids: ranges).map { ($0, nil) }
    }

    /// Keeps the parses computed by a FETCH, so later ones read them; a failure costs only a re-parse.
    private func storeParses(_ parses: [String: [UInt8]], in mail: any IMAPAccountStore) async {
        guard !parses.isEmpty else { return }
        do {
            try await mail.storeCachedParses(parses)
        } catch {
            logger.debug("IMAP parse cache write failed: \(error)")
        }
    }

    /// Attributes ``writeMetadata(_:needsRendered:for:cachedParse:sequenceNumber:wire:)`` writes: no
    /// message bytes, no part tree, no side effect.
    private static func isMetadata(_ attribute: FetchAttribute) -> Bool {
        switch attribute {
        case .uid, .flags, .internalDate, .rfc822Size, .modSeq, .envelope, .bodyStructure: return true
        case .bodySection, .binary, .binarySize, .rfc822, .rfc822Header, .rfc822Text: return false
        }
    }

    /// Writes `* n FETCH (...)` for metadata attributes (``isMetadata(_:)``) directly into the output: the
    /// same bytes as ``prepare`` and ``write`` produce, without their per-message values, arrays and
    /// strings. ENVELOPE and BODYSTRUCTURE are copied from the rendered head of the cached parse. Returns
    /// false, having written nothing, when a needed parse is not cached (the caller takes the general
    /// path, which parses and caches it).
    private func writeMetadata(_ attrs: [FetchAttribute], needsRendered: Bool, for record: MessageRecord,
                               cachedParse: [UInt8]?, sequenceNumber: UInt32, wire: inout FlagWireCache) -> Bool {
        var rendered: RenderedParse?
        if needsRendered {
            guard let cachedParse, let head = RenderedParse(cachedParse) else { return false }
            rendered = head
        }
        let utf8 = encoder.utf8Enabled
        var fetch = FetchResponseEncoder(sequenceNumber: sequenceNumber, encoder: encoder, into: &output)
        for attribute in attrs {
            switch attribute {
            case .uid:
                fetch.appendItem(name: "UID ", into: &output)
                ResponseEncoder.appendDecimal(UInt64(record.uid), into: &output)
            case .flags:
                // The cached bytes hold the whole item, name included.
                fetch.appendItem(name: "", into: &output)
                output.append(contentsOf: wire.encoded(record.flags, encoder: encoder))
            case .rfc822Size:
                fetch.appendItem(name: "RFC822.SIZE ", into: &output)
                ResponseEncoder.appendDecimal(UInt64(clamping: record.size), into: &output)
            case .modSeq:
                fetch.appendItem(name: "MODSEQ (", into: &output)
                ResponseEncoder.appendDecimal(record.modSeq, into: &output)
                output.append(0x29) // )
            case .envelope:
                guard let rendered else { continue }
                fetch.appendItem(name: "ENVELOPE ", into: &output)
                rendered.appendEnvelope(utf8: utf8, to: &output)
            case .bodyStructure(let extensible):
                guard let rendered else { continue }
                fetch.appendItem(name: extensible ? "BODYSTRUCTURE " : "BODY ", into: &output)
                if extensible {
                    rendered.appendBodyStructure(utf8: utf8, to: &output)
                } else {
                    rendered.appendBody(utf8: utf8, to: &output)
                }
            case .internalDate:
                fetch.append(.internalDate(IMAPDateTime(secondsSince1970: Int64(record.internalDate.timeIntervalSince1970))),
                             into: &output)
            case .bodySection, .binary, .binarySize, .rfc822, .rfc822Header, .rfc822Text:
                continue
            }
        }
        fetch.finish(into: &output)
        return true
    }

    private static func needsParse(_ attribute: FetchAttribute) -> Bool {
        switch attribute {
        case .envelope, .bodyStructure, .binary, .binarySize, .rfc822Header, .rfc822Text: return true
        case .bodySection(let spec, _, _): return spec != .whole
        case .uid, .flags, .internalDate, .rfc822Size, .modSeq, .rfc822: return false
        }
    }

    /// Attributes that need the part tree of the parse, not only its rendered ENVELOPE and BODYSTRUCTURE.
    private static func needsTree(_ attribute: FetchAttribute) -> Bool {
        switch attribute {
        case .binary, .binarySize, .rfc822Header, .rfc822Text: return true
        case .bodySection(let spec, _, _): return spec != .whole
        case .uid, .flags, .internalDate, .rfc822Size, .modSeq, .rfc822, .envelope, .bodyStructure: return false
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
    private func prepare(_ attrs: [FetchAttribute], for record: MessageRecord, cachedParse: [UInt8]?,
                         newParses: inout [String: [UInt8]], mapped: inout MappedMessage?, addFlags: Bool,
                         wire: inout FlagWireCache) throws -> [FetchItem] {
        let mail = try requireMail()
        if attrs.contains(where: Self.needsBytes) {
            mapped = try MappedMessage(path: mail.blobFilePath(record.blobID))
        }
        var cache: IMAPMessageCache?
        var rendered: RenderedParse?
        if !attrs.contains(where: Self.needsTree), let cachedParse, let head = RenderedParse(cachedParse) {
            // ENVELOPE / BODYSTRUCTURE only: the rendered bytes at the head of the cache suffice.
            rendered = head
        } else if attrs.contains(where: Self.needsParse) {
            if let cachedParse, let decoded = IMAPMessageCache(compact: cachedParse) {
                cache = decoded
            } else {
                // Not cached yet (or unreadable): parsed now, and cached with the chunk's others.
                let message = try mapped ?? MappedMessage(path: mail.blobFilePath(record.blobID))
                mapped = message
                let parsed = IMAPMessageCache(parsing: message.buffer)
                newParses[record.blobID] = parsed.compactEncoded()
                cache = parsed
            }
        }
        let utf8 = encoder.utf8Enabled
        var items: [FetchItem] = []
        items.reserveCapacity(attrs.count + 1)
        for attribute in attrs {
            switch attribute {
            case .uid: items.append(.value(.uid(record.uid)))
            case .flags: items.append(.value(.flags(wire.flags(record.flags))))
            case .internalDate:
                items.append(.value(.internalDate(IMAPDateTime(secondsSince1970: Int64(record.internalDate.timeIntervalSince1970)))))
            case .rfc822Size: items.append(.value(.rfc822Size(UInt64(clamping: record.size))))
            case .modSeq: items.append(.value(.modSeq(record.modSeq)))
            case .envelope:
                if let rendered {
                    items.append(.value(.envelope(encoded: rendered.envelope(utf8: utf8))))
                } else if let cache {
                    items.append(.value(.envelope(encoded: cache.envelope(utf8: utf8))))
                }
            case .bodyStructure(let extensible):
                if let rendered {
                    items.append(.value(.bodyStructure(encoded: extensible ? rendered.bodyStructure(utf8: utf8) : rendered.body(utf8: utf8),
                                                       extensible: extensible)))
                } else if let cache {
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
        if addFlags, !attrs.contains(.flags) { items.append(.value(.flags(wire.flags(record.flags)))) }
        return items
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

/// Wire flags of the flag sets one command meets: a mailbox has few distinct sets, so each is ordered and
/// converted once instead of once per message.
struct FlagWireCache {
    private var known: [Set<String>: [Flag]] = [:]
    private var encodedSets: [Set<String>: [UInt8]] = [:]
    /// The last set encoded: consecutive messages mostly share their flags, and the store hands out one
    /// shared set per distinct value, so `==` usually settles on storage identity without hashing.
    private var last: (names: Set<String>, encoded: [UInt8])?

    mutating func flags(_ names: Set<String>) -> [Flag] {
        if let hit = known[names] { return hit }
        let wire = IMAPFlags.wire(names)
        // Bounded: keywords could make every set distinct.
        if known.count < 256 { known[names] = wire }
        return wire
    }

    /// The whole `FLAGS (...)` item, as ``ResponseEncoder/appendFetchValue(_:into:)`` writes it.
    mutating func encoded(_ names: Set<String>, encoder: ResponseEncoder) -> [UInt8] {
        if let last, last.names == names { return last.encoded }
        let bytes: [UInt8]
        if let hit = encodedSets[names] {
            bytes = hit
        } else {
            var out: [UInt8] = []
            encoder.appendFetchValue(.flags(flags(names)), into: &out)
            if encodedSets.count < 256 { encodedSets[names] = out }
            bytes = out
        }
        last = (names, bytes)
        return bytes
    }
}

/// The rendered FETCH items at the head of a cached parse, read without decoding the MIME tree that
/// follows them: all a FETCH of ENVELOPE or BODYSTRUCTURE over many messages needs. The layout is that of
/// ``IMAPMessageCache/compactEncoded()`` version 1 (a version byte; ENVELOPE, BODYSTRUCTURE and BODY as
/// LEB128-length-prefixed bytes; then each UTF-8 variant as a presence byte and, if present, the same);
/// anything else gives nil and the caller decodes the whole cache. Only offsets are kept: reading it
/// allocates nothing, and the ``append`` methods copy straight from the cache bytes into the output.
struct RenderedParse {
    private let data: [UInt8]
    private let envelopeRange: Range<Int>
    private let bodyStructureRange: Range<Int>
    private let bodyRange: Range<Int>
    private let envelopeUTF8Range: Range<Int>?
    private let bodyStructureUTF8Range: Range<Int>?
    private let bodyUTF8Range: Range<Int>?

    /// ENVELOPE, BODYSTRUCTURE, BODY and their UTF-8 variants, as offsets into the cache bytes.
    private typealias Layout = (Range<Int>, Range<Int>, Range<Int>, Range<Int>?, Range<Int>?, Range<Int>?)

    init?(_ data: [UInt8]) {
        let parsed: Layout? = data.withUnsafeBufferPointer { p in
            var pos = 0
            guard pos < p.count, p[pos] == 1 else { return nil }
            pos += 1
            func bytes() -> Range<Int>? {
                var length = 0
                var shift = 0
                while true {
                    guard pos < p.count, shift < 35 else { return nil }
                    let byte = p[pos]
                    pos += 1
                    length |= Int(byte & 0x7F) << shift
                    if byte & 0x80 == 0 { break }
                    shift += 7
                }
                guard length <= p.count - pos else { return nil }
                defer { pos += length }
                return pos..<(pos + length)
            }
            func optionalBytes() -> Range<Int>?? {
                guard pos < p.count, p[pos] <= 1 else { return nil }
                pos += 1
                if p[pos - 1] == 0 { return .some(nil) }
                return bytes().map { .some($0) }
            }
            guard let envelope = bytes(), let bodyStructure = bytes(), let body = bytes(),
                  let envelopeUTF8 = optionalBytes(), let bodyStructureUTF8 = optionalBytes(), let bodyUTF8 = optionalBytes()
            else { return nil }
            return (envelope, bodyStructure, body, envelopeUTF8, bodyStructureUTF8, bodyUTF8)
        }
        guard let parsed else { return nil }
        self.data = data
        (envelopeRange, bodyStructureRange, bodyRange, envelopeUTF8Range, bodyStructureUTF8Range, bodyUTF8Range) = parsed
    }

    private func range(_ plain: Range<Int>, _ eightBit: Range<Int>?, utf8: Bool) -> Range<Int> {
        utf8 ? (eightBit ?? plain) : plain
    }

    /// As ``IMAPMessageCache/envelope(utf8:)``.
    func envelope(utf8: Bool) -> [UInt8] { Array(data[range(envelopeRange, envelopeUTF8Range, utf8: utf8)]) }
    /// As ``IMAPMessageCache/bodyStructure(utf8:)``.
    func bodyStructure(utf8: Bool) -> [UInt8] { Array(data[range(bodyStructureRange, bodyStructureUTF8Range, utf8: utf8)]) }
    /// As ``IMAPMessageCache/body(utf8:)``.
    func body(utf8: Bool) -> [UInt8] { Array(data[range(bodyRange, bodyUTF8Range, utf8: utf8)]) }

    /// Appends ``envelope(utf8:)`` to `out`.
    func appendEnvelope(utf8: Bool, to out: inout [UInt8]) {
        append(range(envelopeRange, envelopeUTF8Range, utf8: utf8), to: &out)
    }
    /// Appends ``bodyStructure(utf8:)`` to `out`.
    func appendBodyStructure(utf8: Bool, to out: inout [UInt8]) {
        append(range(bodyStructureRange, bodyStructureUTF8Range, utf8: utf8), to: &out)
    }
    /// Appends ``body(utf8:)`` to `out`.
    func appendBody(utf8: Bool, to out: inout [UInt8]) { append(range(bodyRange, bodyUTF8Range, utf8: utf8), to: &out) }

    private func append(_ range: Range<Int>, to out: inout [UInt8]) {
        data.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[range])) }
    }
}

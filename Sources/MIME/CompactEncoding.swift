/// A compact, versioned binary form of ``MIMEMessage`` and ``IMAPMessageCache`` for the store's
/// per-message cache (LEB128 varints and length-prefixed byte strings; typically a few hundred
/// bytes per message, far smaller than JSON of the same values).
///
/// Decoding validates everything (ranges ordered, bounded nesting, no reads past the end) and
/// returns nil on any inconsistency, so a corrupt cache row can never crash a FETCH; the caller
/// then re-parses the message.
enum CompactCodec {
    static let version: UInt8 = 1
    static let maxDepth = 512

    struct Writer {
        var out: [UInt8] = []

        mutating func varint(_ v: Int) {
            var x = UInt64(clamping: max(0, v))
            while x >= 0x80 {
                out.append(UInt8(truncatingIfNeeded: x) | 0x80)
                x >>= 7
            }
            out.append(UInt8(x))
        }

        mutating func flag(_ b: Bool) { out.append(b ? 1 : 0) }

        mutating func bytes(_ b: [UInt8]) {
            varint(b.count)
            out.append(contentsOf: b)
        }

        mutating func optionalBytes(_ b: [UInt8]?) {
            if let b { out.append(1); bytes(b) } else { out.append(0) }
        }

        mutating func range(_ r: Range<Int>) {
            varint(r.lowerBound)
            varint(r.count)
        }

        mutating func parameters(_ ps: [MIMEParameter]) {
            varint(ps.count)
            for p in ps {
                bytes(p.name)
                bytes(p.value)
                bytes(Array(p.baseName.utf8))
                flag(p.isExtended)
                bytes(Array(p.decodedValue.utf8))
            }
        }

        mutating func part(_ p: MIMEPart) {
            range(p.headerRange)
            range(p.bodyRange)
            varint(p.bodyLineCount)
            flag(p.isOpaque)
            let f = p.fields
            bytes(f.contentType.type)
            bytes(f.contentType.subtype)
            parameters(f.contentType.parameters)
            flag(f.contentType.isDefault)
            optionalBytes(f.transferEncodingRaw)
            optionalBytes(f.contentID)
            optionalBytes(f.contentDescription)
            optionalBytes(f.contentLocation)
            optionalBytes(f.contentMD5)
            if let d = f.contentDisposition {
                out.append(1)
                bytes(d.type)
                parameters(d.parameters)
            } else {
                out.append(0)
            }
            varint(f.contentLanguage.count)
            for l in f.contentLanguage { bytes(l) }
            switch p.content {
            case .single:
                out.append(0)
            case .multipart(let parts, let preamble, let epilogue, let closed):
                out.append(1)
                range(preamble)
                range(epilogue)
                flag(closed)
                varint(parts.count)
                for c in parts { part(c) }
            case .message(let inner):
                out.append(2)
                part(inner)
            }
        }
    }

    struct Reader {
        let data: [UInt8]
        var pos = 0

        init(_ data: [UInt8]) { self.data = data }

        mutating func byte() -> UInt8? {
            guard pos < data.count else { return nil }
            defer { pos &+= 1 }
            return data[pos]
        }

        mutating func varint() -> Int? {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while let b = byte() {
                guard shift < 63 else { return nil }
                result |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return result <= UInt64(Int.max) ? Int(result) : nil }
                shift &+= 7
            }
            return nil
        }

        mutating func flag() -> Bool? {
            guard let b = byte(), b <= 1 else { return nil }
            return b == 1
        }

        mutating func bytes() -> [UInt8]? {
            guard let n = varint(), n <= data.count &- pos else { return nil }
            defer { pos &+= n }
            return Array(data[pos..<(pos &+ n)])
        }

        mutating func optionalBytes() -> [UInt8]?? {
            guard let present = flag() else { return nil }
            if !present { return .some(nil) }
            guard let b = bytes() else { return nil }
            return .some(b)
        }

        mutating func range() -> Range<Int>? {
            guard let lo = varint(), let n = varint() else { return nil }
            let (hi, overflow) = lo.addingReportingOverflow(n)
            return overflow ? nil : lo..<hi
        }

        mutating func parameters() -> [MIMEParameter]? {
            guard let n = varint(), n <= data.count &- pos else { return nil }
            var ps: [MIMEParameter] = []
            for _ in 0..<n {
                guard let name = bytes(), let value = bytes(), let base = bytes(), let ext = flag(),
                      let decoded = bytes() else { return nil }
                ps.append(MIMEParameter(name: name, value: value, baseName: String(decoding: base, as: UTF8.self),
                                        isExtended: ext, decodedValue: String(decoding: decoded, as: UTF8.self)))
            }
            return ps
        }

        mutating func part(depth: Int, size: Int) -> MIMEPart? {
            guard depth <= CompactCodec.maxDepth,
                  let header = range(), let body = range(), header.upperBound <= size, body.upperBound <= size,
                  let lines = varint(), let opaque = flag(),
                  let type = bytes(), let subtype = bytes(), let params = parameters(), let isDefault = flag(),
                  let cte = optionalBytes(), let cid = optionalBytes(), let desc = optionalBytes(),
                  let loc = optionalBytes(), let md5 = optionalBytes(), let hasDisposition = flag()
            else { return nil }
            var disposition: ContentDisposition? = nil
            if hasDisposition {
                guard let dt = bytes(), let dp = parameters() else { return nil }
                disposition = ContentDisposition(type: dt, parameters: dp)
            }
            guard let langCount = varint(), langCount <= data.count &- pos else { return nil }
            var languages: [[UInt8]] = []
            for _ in 0..<langCount {
                guard let l = bytes() else { return nil }
                languages.append(l)
            }
            let fields = MIMEFields(contentType: ContentType(type: type, subtype: subtype, parameters: params,
                                                             isDefault: isDefault),
                                    transferEncodingRaw: cte, contentID: cid, contentDescription: desc,
                                    contentDisposition: disposition, contentLanguage: languages,
                                    contentLocation: loc, contentMD5: md5)
            let content: MIMEPart.Content
            switch byte() {
            case 0:
                content = .single
            case 1:
                guard let pre = range(), let epi = range(), let closed = flag(), let n = varint(),
                      n >= 1, n <= data.count &- pos, pre.upperBound <= size, epi.upperBound <= size else { return nil }
                var parts: [MIMEPart] = []
                for _ in 0..<n {
                    guard let c = part(depth: depth &+ 1, size: size) else { return nil }
                    parts.append(c)
                }
                content = .multipart(parts: parts, preamble: pre, epilogue: epi, closed: closed)
            case 2:
                guard let inner = part(depth: depth &+ 1, size: size) else { return nil }
                content = .message(inner)
            default:
                return nil
            }
            return MIMEPart(headerRange: header, bodyRange: body, fields: fields, bodyLineCount: lines,
                            isOpaque: opaque, content: content)
        }
    }
}

extension MIMEMessage {
    /// The compact binary form (see ``init?(compact:)``).
    public func compactEncoded() -> [UInt8] {
        var w = CompactCodec.Writer()
        w.out.append(CompactCodec.version)
        w.varint(size)
        w.varint(partCount)
        w.flag(limitsHit)
        w.part(root)
        return w.out
    }

    /// Decodes ``compactEncoded()`` output; nil for corrupt or foreign-version data.
    public init?(compact data: [UInt8]) {
        var r = CompactCodec.Reader(data)
        guard r.byte() == CompactCodec.version, let size = r.varint(), let count = r.varint(),
              let hit = r.flag(), let root = r.part(depth: 0, size: size), r.pos == data.count else { return nil }
        self.init(root: root, size: size, partCount: count, limitsHit: hit)
    }
}

extension IMAPMessageCache {
    /// The compact binary form: the rendered FETCH items followed by the tree.
    public func compactEncoded() -> [UInt8] {
        var w = CompactCodec.Writer()
        w.out.append(CompactCodec.version)
        w.bytes(envelope)
        w.bytes(bodyStructure)
        w.bytes(body)
        w.optionalBytes(envelopeUTF8)
        w.optionalBytes(bodyStructureUTF8)
        w.optionalBytes(bodyUTF8)
        w.bytes(message.compactEncoded())
        return w.out
    }

    /// Decodes ``compactEncoded()`` output; nil for corrupt or foreign-version data.
    public init?(compact data: [UInt8]) {
        var r = CompactCodec.Reader(data)
        guard r.byte() == CompactCodec.version, let e = r.bytes(), let bs = r.bytes(), let b = r.bytes(),
              let eU = r.optionalBytes(), let bsU = r.optionalBytes(), let bU = r.optionalBytes(),
              let m = r.bytes(), r.pos == data.count, let message = MIMEMessage(compact: m) else { return nil }
        self.init(envelope: e, bodyStructure: bs, body: b, envelopeUTF8: eU, bodyStructureUTF8: bsU, bodyUTF8: bU,
                  message: message)
    }
}

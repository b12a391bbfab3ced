// libFuzzer target: the RFC 5322 / MIME parser and everything IMAP FETCH derives from it (MIME target).
//
// The whole input is a message (so the seed corpus is plain .eml files). Per input:
// - MessageParser with default and with tight limits: every range lies inside the message, children
//   inside their parent's body and in order, partCount counts the tree, bodyLineCount fits the body;
// - IMAPMessageCache: ENVELOPE, BODYSTRUCTURE and BODY (both quoting modes) are well-formed IMAP values
//   (balanced parentheses outside strings, literals with exact lengths, no line break outside literals);
//   its compact form and the tree's decode back to equal values;
// - body sections of every part (whole, HEADER, TEXT, MIME, HEADER.FIELDS[.NOT]) and partial slices:
//   source offsets in bounds, sizes consistent;
// - BINARY sources: decodedSize agrees with decode, and streaming decoders fed in pieces agree with
//   whole-buffer decoding;
// - header decoding: encoded words, addresses, dates, Content-Type/Disposition, charsets, searchable text;
// - the compact decoders on the raw input (a corrupt cache row must give nil, never a crash), and a tree
//   they accept used against a buffer of its declared size.
import FuzzSupport
import MIME

func checkTree(_ part: MIMEPart, within bounds: Range<Int>, path: String) -> Int {
    invariant(part.headerRange.lowerBound >= bounds.lowerBound && part.range.upperBound <= bounds.upperBound,
              "part \(path) range \(part.range) outside \(bounds)")
    invariant(part.headerRange.upperBound <= part.bodyRange.lowerBound || part.bodyRange.isEmpty,
              "part \(path) header \(part.headerRange) overlaps body \(part.bodyRange)")
    invariant(part.bodyLineCount <= part.bodyRange.count, "part \(path) has \(part.bodyLineCount) lines in \(part.bodyRange.count) octets")
    var nodes = 1
    switch part.content {
    case .single:
        break
    case .multipart(let parts, let preamble, let epilogue, _):
        invariant(!parts.isEmpty, "multipart \(path) without parts")
        for r in [preamble, epilogue] {
            invariant(r.isEmpty || (r.lowerBound >= part.bodyRange.lowerBound && r.upperBound <= part.bodyRange.upperBound),
                      "part \(path) preamble/epilogue \(r) outside body \(part.bodyRange)")
        }
        var previousEnd = part.bodyRange.lowerBound
        for (i, child) in parts.enumerated() {
            invariant(child.range.lowerBound >= previousEnd, "part \(path).\(i + 1) starts before its predecessor ends")
            nodes += checkTree(child, within: part.bodyRange, path: "\(path).\(i + 1)")
            previousEnd = child.range.upperBound
        }
    case .message(let inner):
        nodes += checkTree(inner, within: part.bodyRange, path: "\(path).msg")
    }
    return nodes
}

/// Checks one IMAP value as ENVELOPE / BODYSTRUCTURE writers produce it: parenthesised, strings quoted
/// (no CR/LF/NUL inside, `"` and `\` escaped) or literals `{n}CRLF` followed by exactly n octets.
func checkIMAPValue(_ bytes: [UInt8], _ what: String) {
    var depth = 0
    var i = 0
    invariant(bytes.first == 0x28, "\(what) does not start with '(': \(show(bytes))")
    while i < bytes.count {
        let b = bytes[i]
        switch b {
        case 0x28:
            depth += 1
            i += 1
        case 0x29:
            depth -= 1
            invariant(depth >= 0, "\(what): unbalanced ')' at \(i): \(show(bytes))")
            i += 1
            if depth == 0 { invariant(i == bytes.count, "\(what): bytes after the value: \(show(bytes))") }
        case 0x22:
            i += 1
            while true {
                invariant(i < bytes.count, "\(what): unterminated quoted string: \(show(bytes))")
                let c = bytes[i]
                invariant(c != 13 && c != 10 && c != 0, "\(what): CR/LF/NUL in a quoted string: \(show(bytes))")
                if c == 0x5C {
                    invariant(i + 1 < bytes.count && (bytes[i + 1] == 0x22 || bytes[i + 1] == 0x5C),
                              "\(what): bad escape in a quoted string: \(show(bytes))")
                    i += 2
                } else if c == 0x22 {
                    i += 1
                    break
                } else {
                    i += 1
                }
            }
        case 0x7B:
            var n = 0
            i += 1
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                n = n &* 10 &+ Int(bytes[i] - 0x30)
                i += 1
            }
            invariant(i + 2 < bytes.count && bytes[i] == 0x7D && bytes[i + 1] == 13 && bytes[i + 2] == 10,
                      "\(what): malformed literal header at \(i): \(show(bytes))")
            i += 3
            invariant(n >= 0 && n <= bytes.count - i, "\(what): literal of \(n) past the end")
            invariant(!bytes[i..<(i + n)].contains(0), "\(what): NUL in a literal")
            i += n
        case 13, 10, 0:
            invariant(false, "\(what): CR/LF/NUL outside a literal at \(i): \(show(bytes))")
        default:
            i += 1
        }
    }
    invariant(depth == 0, "\(what): \(depth) unclosed '(': \(show(bytes))")
}

func checkSection(_ content: SectionContent?, message: MIMEMessage, buffer: UnsafeRawBufferPointer, origin: Int, length: Int) {
    guard let content else { return }
    for piece in content.pieces {
        if case .source(let r) = piece {
            invariant(r.lowerBound >= 0 && r.upperBound <= message.size, "section piece \(r) outside 0..<\(message.size)")
        }
    }
    let materialised = content.bytes(in: buffer)
    invariant(materialised.count == content.count, "section bytes \(materialised.count) != count \(content.count)")
    let slice = content.slice(origin: origin, length: length)
    let lo = min(origin, content.count)
    invariant(slice.count == min(length, content.count - lo), "slice <\(origin).\(length)> of \(content.count) has \(slice.count)")
    invariant(slice.bytes(in: buffer) == Array(materialised[lo..<(lo + slice.count)]), "slice bytes differ")
}

/// Every part number of the tree (IMAP numbering), plus some that do not exist.
func partNumbers(_ message: MIMEMessage) -> [[Int]] {
    var numbers: Set<[Int]> = [[], [1], [0], [2], [1, 1], [1, 2, 3], [Int.max]]
    for (number, _) in message.leaves().prefix(64) {
        for k in 0...number.count { numbers.insert(Array(number.prefix(k))) }
    }
    return numbers.sorted { $0.lexicographicallyPrecedes($1) }
}

func decodeInPieces(_ encoding: TransferEncoding, _ bytes: [UInt8], seed: UInt8) -> [UInt8]? {
    var out: [UInt8] = []
    switch encoding {
    case .base64:
        var decoder = Base64.Decoder()
        for read in splitIntoReads(bytes, seed: seed) { decoder.feed(Array(read), into: &out) }
    case .quotedPrintable:
        var decoder = QuotedPrintable.Decoder()
        for read in splitIntoReads(bytes, seed: seed) { decoder.feed(Array(read), into: &out) }
        decoder.finish(into: &out)
    default:
        return nil
    }
    return out
}

func checkMessage(_ bytes: [UInt8], buffer: UnsafeRawBufferPointer) {
    let seed = bytes.last ?? 0
    let tight = MessageParser.parse(buffer, limits: MIMELimits(maxDepth: 3, maxParts: 8))
    _ = checkTree(tight.root, within: 0..<bytes.count, path: "tight")

    let cache = IMAPMessageCache(parsing: buffer)
    let message = cache.message
    invariant(message.size == bytes.count, "size \(message.size) != \(bytes.count)")
    invariant(message.root.range == 0..<bytes.count, "root range \(message.root.range)")
    let nodes = checkTree(message.root, within: 0..<bytes.count, path: "root")
    invariant(nodes == message.partCount, "partCount \(message.partCount) but \(nodes) entities")

    for utf8 in [false, true] {
        checkIMAPValue(cache.envelope(utf8: utf8), "ENVELOPE")
        checkIMAPValue(cache.bodyStructure(utf8: utf8), "BODYSTRUCTURE")
        checkIMAPValue(cache.body(utf8: utf8), "BODY")
    }
    invariant(MIMEMessage(compact: message.compactEncoded()) == message, "compact tree round trip")
    invariant(IMAPMessageCache(compact: cache.compactEncoded()) == cache, "compact cache round trip")

    // Sections of every part, with a partial range taken from the input.
    let origin = Int(seed) * 3
    let length = Int(bytes.first ?? 0) + 1
    for number in partNumbers(message) {
        let texts: [Section.Text?] = [nil, .header, .text, .mime,
                                      .headerFields([Array("subject".utf8), Array("FROM".utf8)]),
                                      .headerFieldsNot([Array("received".utf8)])]
        for text in texts {
            checkSection(message.section(Section(part: number, text: text), in: buffer), message: message,
                         buffer: buffer, origin: origin, length: length)
        }
        if let source = message.binarySource(number) {
            invariant(source.range.lowerBound >= 0 && source.range.upperBound <= bytes.count, "binary source \(source.range)")
            let raw = UnsafeRawBufferPointer(rebasing: buffer[source.range])
            let decoded = source.encoding.decode(raw)
            invariant(source.encoding.decodedSize(raw) == decoded.count, "decodedSize disagrees with decode")
            if let pieces = decodeInPieces(source.encoding, Array(raw), seed: seed) {
                invariant(pieces == decoded, "\(source.encoding) decoding depends on the split")
            }
        }
    }

    // Header decoding, top level and every part.
    let header = message.header(in: buffer)
    for field in header.fields.prefix(64) {
        invariant(field.range.lowerBound >= header.range.lowerBound && field.range.upperBound <= header.range.upperBound
                  && field.nameRange.upperBound <= field.valueRange.lowerBound && field.valueRange.upperBound <= field.range.upperBound,
                  "header field ranges inconsistent: \(field)")
        let value = field.unfoldedValue(in: buffer)
        _ = EncodedWord.decode(value)
        _ = AddressParser.parse(value)
        _ = MessageDate.parse(value)
        _ = ContentType(headerValue: value)?.parameters.decodedValue("name")
        _ = ContentDisposition(headerValue: value)?.filename
    }
    for (_, part) in message.leaves().prefix(64) {
        let fields = part.fields
        if let charset = fields.contentType.charset {
            _ = Charset.decode(Array(buffer.prefix(256)), charsetName: charset)
        }
        _ = fields.contentDisposition?.filename
        _ = fields.contentType.parameters.decodedValue("name")
    }
    _ = Envelope(message: message, in: buffer).imapBytes(utf8: true)
    for part in message.searchableText(in: buffer, maxBytesPerPart: 1 << 16, maxTotalBytes: 1 << 18) {
        invariant(!part.partNumber.isEmpty, "searchable text without a part number")
    }
}

/// Compact decoders on arbitrary bytes: a corrupt cache row gives nil; an accepted tree respects its own
/// size, and serving FETCH from it against a buffer of that size stays in bounds.
func checkCompact(_ bytes: [UInt8]) {
    _ = IMAPMessageCache(compact: bytes)
    guard let tree = MIMEMessage(compact: bytes) else { return }
    invariant(MIMEMessage(compact: tree.compactEncoded()) == tree, "compact re-encoding of a decoded tree")
    guard tree.size <= 1 << 16 else { return }
    var stored = Array(bytes.prefix(tree.size))
    stored += [UInt8](repeating: 0x41, count: tree.size - stored.count)
    stored.withUnsafeBytes { buffer in
        for number in partNumbers(tree) {
            for text: Section.Text? in [nil, .header, .text, .mime, .headerFields([Array("subject".utf8)])] {
                checkSection(tree.section(Section(part: number, text: text), in: buffer), message: tree, buffer: buffer,
                             origin: 1, length: 7)
            }
        }
        _ = BodyStructure.imapBytes(tree, extensible: true, utf8: false, in: buffer)
        _ = tree.searchableText(in: buffer)
    }
}

let testOneInput: FuzzTestOneInput = { data, size in
    let bytes = fuzzBytes(data, size)
    bytes.withUnsafeBytes { checkMessage(bytes, buffer: $0) }
    checkCompact(bytes)
    return 0
}

runLibFuzzer(testOneInput)

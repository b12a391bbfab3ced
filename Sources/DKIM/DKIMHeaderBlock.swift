/// Bytes that DKIM treats specially.
enum ASCII {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let equals: UInt8 = 0x3D
    static let crlf: [UInt8] = [0x0D, 0x0A]

    static func isWSP(_ byte: UInt8) -> Bool { byte == space || byte == tab }

    static func lowercased(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
    }
}

/// One header field of a message: the raw name (before the colon) and the raw value (after the colon,
/// continuation lines included, without the field's final line ending).
struct DKIMHeaderField {
    let name: ArraySlice<UInt8>
    let value: ArraySlice<UInt8>
    /// The name lowercased, trailing WSP removed: what `h=` entries are compared with.
    let key: String

    init(name: ArraySlice<UInt8>, value: ArraySlice<UInt8>) {
        self.name = name
        self.value = value
        var end = name.endIndex
        while end > name.startIndex, ASCII.isWSP(name[end - 1]) { end -= 1 }
        self.key = String(decoding: name[name.startIndex..<end].map(ASCII.lowercased), as: UTF8.self)
    }
}

/// The header block of a message and where its body starts (RFC 5322 §2.1: fields, an empty line,
/// the body). Lines may end in CRLF or a bare LF.
enum DKIMHeaderBlock {
    /// Largest header block held in memory when signing or verifying.
    static let maximumSize = 1 << 20
    /// Most fields considered; a message with more is cut at this count.
    static let maximumFields = 10_000

    /// Finds the empty line that ends the header block, scanning a growing buffer incrementally.
    struct EndScanner {
        private var lineStart = 0
        private var scanned = 0

        /// `headerEnd`: bytes of the header block (its last line ending included).
        /// `bodyStart`: first byte after the empty line. `nil`: no empty line in `buffer` yet.
        mutating func scan(_ buffer: ArraySlice<UInt8>) -> (headerEnd: Int, bodyStart: Int)? {
            let base = buffer.startIndex
            var index = base + scanned
            while index < buffer.endIndex {
                if buffer[index] == ASCII.lf {
                    let length = index - (base + lineStart)
                    if length == 0 || (length == 1 && buffer[base + lineStart] == ASCII.cr) {
                        return (lineStart, index - base + 1)
                    }
                    lineStart = index - base + 1
                }
                index += 1
            }
            scanned = buffer.count
            return nil
        }
    }

    /// Splits a whole message into header block and body; a message without an empty line is all header.
    static func split(_ message: ArraySlice<UInt8>) -> (header: ArraySlice<UInt8>, body: ArraySlice<UInt8>) {
        var scanner = EndScanner()
        guard let end = scanner.scan(message) else {
            return (message, message[message.endIndex...])
        }
        let base = message.startIndex
        return (message[base..<(base + end.headerEnd)], message[(base + end.bodyStart)...])
    }

    /// The fields of a header block, top to bottom. A line that is neither a continuation nor has a
    /// colon is skipped (it cannot be named by `h=`).
    static func fields(in block: ArraySlice<UInt8>) -> [DKIMHeaderField] {
        var fields: [DKIMHeaderField] = []
        var current: (name: ArraySlice<UInt8>, valueStart: Int, valueEnd: Int)?
        var lineStart = block.startIndex
        while lineStart < block.endIndex, fields.count < maximumFields {
            let newline = block[lineStart...].firstIndex(of: ASCII.lf)
            let next = newline.map { $0 + 1 } ?? block.endIndex
            var contentEnd = newline ?? block.endIndex
            if contentEnd > lineStart, block[contentEnd - 1] == ASCII.cr { contentEnd -= 1 }

            if ASCII.isWSP(block[lineStart]) {
                // RFC 5322 §2.2.3: a line starting with WSP continues the previous field.
                if var field = current {
                    field.valueEnd = contentEnd
                    current = field
                }
            } else {
                if let field = current {
                    fields.append(DKIMHeaderField(name: field.name, value: block[field.valueStart..<field.valueEnd]))
                }
                if let colon = block[lineStart..<contentEnd].firstIndex(of: ASCII.colon) {
                    current = (block[lineStart..<colon], colon + 1, contentEnd)
                } else {
                    current = nil
                }
            }
            lineStart = next
        }
        if let field = current, fields.count < maximumFields {
            fields.append(DKIMHeaderField(name: field.name, value: block[field.valueStart..<field.valueEnd]))
        }
        return fields
    }

    /// RFC 6376 §5.4.2: each `h=` name takes the last instance of that field not yet taken, scanning
    /// from the bottom; a name with no instance left selects nothing (and so hashes nothing).
    /// `excluding` removes one field (the signature being verified) from the candidates.
    static func select(_ names: [String], from fields: [DKIMHeaderField], excluding: Int? = nil) -> [Int] {
        var positions: [String: [Int]] = [:]
        for (index, field) in fields.enumerated() where index != excluding {
            positions[field.key, default: []].append(index)
        }
        var selected: [Int] = []
        for name in names {
            if let index = positions[name]?.popLast() {
                selected.append(index)
            }
        }
        return selected
    }
}

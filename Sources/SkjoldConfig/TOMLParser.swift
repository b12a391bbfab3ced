// TOML 1.0 reader (https://toml.io/en/v1.0.0, ABNF: toml.abnf of the v1.0.0 tag).
//
// Pure: bytes in, a TOMLTable out. The input must be complete (a configuration file is read whole),
// so every premature end is an error rather than "need more bytes". Input size and nesting depth
// are bounded, and nothing recurses deeper than `limits.maxDepth`, so hostile input cannot exhaust
// the stack.

/// Reads TOML 1.0 documents, single values (for command-line overrides) and dotted keys.
public struct TOMLParser: Sendable {
    /// Bounds that keep hostile input from exhausting memory or the stack.
    public struct Limits: Sendable, Equatable {
        /// Largest accepted document, in bytes.
        public var maxInputBytes: Int
        /// Deepest accepted nesting of tables and arrays (a value of the root table is at depth 1).
        public var maxDepth: Int

        public init(maxInputBytes: Int = 1 << 20, maxDepth: Int = 64) {
            self.maxInputBytes = maxInputBytes
            self.maxDepth = maxDepth
        }
    }

    public var limits: Limits

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Parses a whole document.
    public func parse(_ text: String) throws(TOMLError) -> TOMLTable {
        try parse(bytes: Array(text.utf8))
    }

    /// Parses a whole document given as raw bytes; invalid UTF-8 is reported with its position.
    public func parse(bytes: [UInt8]) throws(TOMLError) -> TOMLTable {
        var reader = try TOMLReader(bytes: bytes, limits: limits)
        return try reader.parseDocument()
    }

    /// Parses one value, such as the right-hand side of `key = value`; surrounding spaces are allowed,
    /// nothing else.
    public func parseValue(_ text: String) throws(TOMLError) -> TOMLValue {
        var reader = try TOMLReader(bytes: Array(text.utf8), limits: limits)
        return try reader.parseStandaloneValue()
    }

    /// Parses a (possibly dotted, possibly quoted) key such as `plans."my plan".storage`.
    public func parseKey(_ text: String) throws(TOMLError) -> [String] {
        var reader = try TOMLReader(bytes: Array(text.utf8), limits: limits)
        return try reader.parseStandaloneKey()
    }
}

// MARK: - Byte constants

/// Byte values and classes used by the TOML reader.
enum TOMLByte {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let hash: UInt8 = 0x23
    static let apostrophe: UInt8 = 0x27
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let minus: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let colon: UInt8 = 0x3A
    static let equals: UInt8 = 0x3D
    static let upperE: UInt8 = 0x45
    static let upperT: UInt8 = 0x54
    static let upperZ: UInt8 = 0x5A
    static let lbracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let rbracket: UInt8 = 0x5D
    static let underscore: UInt8 = 0x5F
    static let lowerB: UInt8 = 0x62
    static let lowerE: UInt8 = 0x65
    static let lowerF: UInt8 = 0x66
    static let lowerI: UInt8 = 0x69
    static let lowerN: UInt8 = 0x6E
    static let lowerO: UInt8 = 0x6F
    static let lowerR: UInt8 = 0x72
    static let lowerT: UInt8 = 0x74
    static let lowerU: UInt8 = 0x75
    static let upperU: UInt8 = 0x55
    static let lowerX: UInt8 = 0x78
    static let lowerZ: UInt8 = 0x7A
    static let lbrace: UInt8 = 0x7B
    static let rbrace: UInt8 = 0x7D
    static let del: UInt8 = 0x7F

    static func isDigit(_ b: UInt8) -> Bool { b >= zero && b <= nine }
    static func isHexDigit(_ b: UInt8) -> Bool {
        isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
    }
    static func isOctalDigit(_ b: UInt8) -> Bool { b >= zero && b <= 0x37 }
    static func isBinaryDigit(_ b: UInt8) -> Bool { b == zero || b == 0x31 }
    static func isWhitespace(_ b: UInt8) -> Bool { b == space || b == tab }
    /// TOML forbids U+0000...U+001F except tab, and U+007F, outside escapes.
    static func isControl(_ b: UInt8) -> Bool { (b < 0x20 && b != tab) || b == del }
    static func isAlphanumeric(_ b: UInt8) -> Bool {
        isDigit(b) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }
}

// MARK: - Document tree under construction

/// A table while the document is being read. It remembers how it came to exist, because TOML 1.0's
/// rules on defining a table twice depend on that.
final class TOMLTableNode {
    enum Origin {
        /// Created as the prefix of a `[x.y]` header or of `[[x.y]]`; may be defined once later.
        case implicit
        /// Defined by its own `[header]` (or the root, or an element of `[[array]]`).
        case header
        /// Created by a dotted key (`x.y = 1`); a later `[x]` header may not define it again.
        case dotted
        /// An inline table under construction; frozen into a value when its `}` is read.
        case inline
    }

    enum Slot {
        case value(TOMLValue, TOMLPosition)
        case table(TOMLTableNode, TOMLPosition)
        /// Built by `[[name]]` headers; never empty. Boxed so appending does not copy the array.
        case tableArray(TOMLTableArrayBox, TOMLPosition)

        var position: TOMLPosition {
            switch self {
            case .value(_, let p), .table(_, let p), .tableArray(_, let p): p
            }
        }
    }

    var origin: Origin
    var position: TOMLPosition
    let depth: Int
    var keys: [String] = []
    var slots: [String: Slot] = [:]

    init(origin: Origin, position: TOMLPosition, depth: Int) {
        self.origin = origin
        self.position = position
        self.depth = depth
    }

    func set(_ key: String, _ slot: Slot) {
        if slots.updateValue(slot, forKey: key) == nil { keys.append(key) }
    }

    /// Converts to the immutable value; recursion is bounded by the depth limit.
    func freeze() -> TOMLTable {
        var table = TOMLTable(position: position)
        for key in keys {
            guard let slot = slots[key] else { continue }
            switch slot {
            case .value(let value, let p):
                table.set(key, value, at: p)
            case .table(let node, let p):
                table.set(key, .table(node.freeze()), at: p)
            case .tableArray(let box, let p):
                table.set(key, .array(box.elements.map { .table($0.freeze()) }), at: p)
            }
        }
        return table
    }
}

/// The elements of an array of tables, shared so `[[name]]` appends in place.
final class TOMLTableArrayBox {
    var elements: [TOMLTableNode]
    init(_ first: TOMLTableNode) { elements = [first] }
}

/// Remembers the last computed position so that positions asked for in document order cost time
/// proportional to the distance moved, not to the length of the line (one long line of many keys
/// would otherwise take quadratic time).
final class TOMLPositionCache {
    var offset = 0
    var line = 0
    var column = 1
}

/// One component of a dotted key and where it starts.
struct TOMLKeyPart {
    var name: String
    var offset: Int
}

// MARK: - Reader

/// Reads one document (or one value or key) from bytes; a cursor plus the error context.
struct TOMLReader {
    let bytes: [UInt8]
    let limits: TOMLParser.Limits
    /// Byte offset where each line starts, for turning offsets into line/column.
    let lineStarts: [Int]
    let positionCache = TOMLPositionCache()
    var i = 0
    /// The key path being read, named in error messages.
    var context: [String] = []

    init(bytes input: [UInt8], limits: TOMLParser.Limits) throws(TOMLError) {
        guard input.count <= limits.maxInputBytes else {
            throw TOMLError(kind: .inputTooLarge, line: 1, column: 1,
                            message: "document is larger than \(limits.maxInputBytes) bytes")
        }
        var bytes = input
        // A UTF-8 byte order mark carries no meaning; editors on some systems add one.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        self.bytes = bytes
        self.limits = limits
        var starts = [0]
        for (offset, b) in bytes.enumerated() where b == TOMLByte.lf { starts.append(offset + 1) }
        self.lineStarts = starts
        if let bad = Self.firstInvalidUTF8(bytes) {
            throw fail(.invalidUTF8, "invalid UTF-8 (byte 0x\(String(bytes[bad], radix: 16, uppercase: true)))", at: bad)
        }
    }

    var atEnd: Bool { i >= bytes.count }

    func peek(_ ahead: Int = 0) -> UInt8? {
        let j = i + ahead
        return j < bytes.count ? bytes[j] : nil
    }

    // MARK: Positions and errors

    func position(_ offset: Int) -> TOMLPosition {
        let end = min(offset, bytes.count)
        // Continue from the previous answer when moving forward on the same line.
        let nextLineStart = positionCache.line + 1 < lineStarts.count ? lineStarts[positionCache.line + 1] : Int.max
        if end >= positionCache.offset, end < nextLineStart {
            var column = positionCache.column
            for j in positionCache.offset..<end where bytes[j] & 0xC0 != 0x80 { column += 1 }
            positionCache.offset = end
            positionCache.column = column
            return TOMLPosition(line: positionCache.line + 1, column: column)
        }
        var lo = 0
        var hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        var column = 1
        var j = lineStarts[lo]
        while j < end {
            if bytes[j] & 0xC0 != 0x80 { column += 1 }
            j += 1
        }
        positionCache.offset = end
        positionCache.line = lo
        positionCache.column = column
        return TOMLPosition(line: lo + 1, column: column)
    }

    func fail(_ kind: TOMLError.Kind, _ message: String, at offset: Int? = nil) -> TOMLError {
        let p = position(offset ?? i)
        return TOMLError(kind: kind, line: p.line, column: p.column,
                         key: context.isEmpty ? nil : TOMLKey.format(context), message: message)
    }

    /// Names the byte at `i` for messages.
    func found() -> String {
        guard let b = peek() else { return "end of input" }
        switch b {
        case TOMLByte.lf, TOMLByte.cr: return "end of line"
        case 0x21...0x7E: return "'\(Character(Unicode.Scalar(b)))'"
        default:
            if b < 0x80 { return "U+" + TOMLByte.hex4(UInt32(b)) }
            // Name the whole scalar, not its first byte.
            var end = i + 1
            while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
            return "'" + String(decoding: bytes[i..<end], as: UTF8.self) + "'"
        }
    }

    // MARK: Document

    mutating func parseDocument() throws(TOMLError) -> TOMLTable {
        let root = TOMLTableNode(origin: .header, position: TOMLPosition(line: 1, column: 1), depth: 0)
        var current = root
        var currentPath: [String] = []
        while true {
            skipWhitespace()
            guard let b = peek() else { break }
            context = []
            switch b {
            case TOMLByte.hash, TOMLByte.lf, TOMLByte.cr:
                try expectLineEnd(after: "comment")
            case TOMLByte.lbracket:
                (current, currentPath) = try parseHeader(root: root)
                try expectLineEnd(after: "table header")
            default:
                context = currentPath
                try parseKeyValue(into: current, basePath: currentPath)
                try expectLineEnd(after: "value")
            }
        }
        return root.freeze()
    }

    mutating func parseStandaloneValue() throws(TOMLError) -> TOMLValue {
        skipWhitespace()
        let value = try parseValue(depth: 1)
        skipWhitespace()
        guard atEnd else { throw fail(.syntax, "unexpected \(found()) after value") }
        return value
    }

    mutating func parseStandaloneKey() throws(TOMLError) -> [String] {
        let parts = try parseKey(basePath: [])
        guard atEnd else { throw fail(.syntax, "unexpected \(found()) after key") }
        return parts.map(\.name)
    }

    mutating func skipWhitespace() {
        while i < bytes.count, TOMLByte.isWhitespace(bytes[i]) { i += 1 }
    }

    /// After a statement: optional spaces and comment, then a newline or the end of input.
    mutating func expectLineEnd(after what: String) throws(TOMLError) {
        skipWhitespace()
        if peek() == TOMLByte.hash { try skipComment() }
        guard let b = peek() else { return }
        switch b {
        case TOMLByte.lf:
            i += 1
        case TOMLByte.cr:
            guard peek(1) == TOMLByte.lf else { throw fail(.controlCharacter, "carriage return not followed by a line feed") }
            i += 2
        default:
            throw fail(.syntax, "expected end of line after \(what), found \(found())")
        }
    }

    /// `comment = "#" *non-eol`; control characters other than tab are not allowed.
    mutating func skipComment() throws(TOMLError) {
        i += 1
        while i < bytes.count {
            let b = bytes[i]
            if b == TOMLByte.lf { return }
            if b == TOMLByte.cr, peek(1) == TOMLByte.lf { return }
            if TOMLByte.isControl(b) {
                throw fail(.controlCharacter, "control character U+\(TOMLByte.hex4(UInt32(b))) in comment")
            }
            i += 1
        }
    }

    /// Whitespace, comments and newlines, as allowed between array elements.
    mutating func skipWhitespaceCommentsNewlines() throws(TOMLError) {
        while let b = peek() {
            switch b {
            case TOMLByte.space, TOMLByte.tab, TOMLByte.lf:
                i += 1
            case TOMLByte.cr:
                guard peek(1) == TOMLByte.lf else { throw fail(.controlCharacter, "carriage return not followed by a line feed") }
                i += 2
            case TOMLByte.hash:
                try skipComment()
            default:
                return
            }
        }
    }

    // MARK: Keys

    /// `key = simple-key / dotted-key`; `dotted-key = simple-key 1*( dot-sep simple-key )`, with
    /// whitespace allowed around the dots.
    mutating func parseKey(basePath: [String]) throws(TOMLError) -> [TOMLKeyPart] {
        var parts: [TOMLKeyPart] = []
        while true {
            skipWhitespace()
            let start = i
            guard let b = peek() else { throw fail(.syntax, "expected a key, found end of input") }
            let name: String
            if b == TOMLByte.quote {
                if peek(1) == TOMLByte.quote, peek(2) == TOMLByte.quote {
                    throw fail(.syntax, "a multi-line string cannot be a key")
                }
                name = try parseBasicString()
            } else if b == TOMLByte.apostrophe {
                if peek(1) == TOMLByte.apostrophe, peek(2) == TOMLByte.apostrophe {
                    throw fail(.syntax, "a multi-line string cannot be a key")
                }
                name = try parseLiteralString()
            } else if TOMLKey.isBareKeyByte(b) {
                while i < bytes.count, TOMLKey.isBareKeyByte(bytes[i]) { i += 1 }
                name = String(decoding: bytes[start..<i], as: UTF8.self)
            } else {
                throw fail(.syntax, "expected a key, found \(found())")
            }
            parts.append(TOMLKeyPart(name: name, offset: start))
            guard parts.count <= limits.maxDepth else {
                throw fail(.nestingTooDeep, "key nests deeper than \(limits.maxDepth) levels", at: parts[0].offset)
            }
            context = basePath + parts.map(\.name)
            skipWhitespace()
            guard peek() == TOMLByte.dot else { return parts }
            i += 1
        }
    }

    /// `keyval = key keyval-sep val`, stored relative to `table`.
    mutating func parseKeyValue(into table: TOMLTableNode, basePath: [String]) throws(TOMLError) {
        let parts = try parseKey(basePath: basePath)
        guard peek() == TOMLByte.equals else {
            throw fail(.syntax, "expected '=' after key, found \(found())")
        }
        i += 1
        skipWhitespace()
        let valueDepth = table.depth + parts.count
        guard valueDepth <= limits.maxDepth else {
            throw fail(.nestingTooDeep, "key nests deeper than \(limits.maxDepth) levels", at: parts[0].offset)
        }
        let value = try parseValue(depth: valueDepth)
        context = basePath + parts.map(\.name)
        try insert(value, path: parts, into: table, basePath: basePath)
    }

    /// Applies TOML 1.0's rules for dotted keys: intermediate tables may be created or extended only if
    /// they were themselves created by dotted keys (or implicitly by a header); a table defined with a
    /// `[header]`, an inline table, an array of tables and a plain value cannot be extended.
    mutating func insert(_ value: TOMLValue, path: [TOMLKeyPart], into root: TOMLTableNode,
                         basePath: [String]) throws(TOMLError) {
        var table = root
        var walked = basePath
        for part in path.dropLast() {
            walked.append(part.name)
            if let slot = table.slots[part.name] {
                switch slot {
                case .table(let child, _):
                    switch child.origin {
                    case .dotted, .inline:
                        table = child
                    case .implicit:
                        child.origin = .dotted
                        table = child
                    case .header:
                        throw fail(.tableRedefined,
                                   "cannot add keys to table \(TOMLKey.format(walked)) with dotted keys: it is defined by a [header] on line \(child.position.line)",
                                   at: part.offset)
                    }
                case .tableArray(_, let p):
                    throw fail(.tableRedefined,
                               "cannot add keys to array of tables \(TOMLKey.format(walked)) (defined on line \(p.line)) with dotted keys",
                               at: part.offset)
                case .value(let existing, let p):
                    throw fail(.duplicateKey,
                               "key \(TOMLKey.format(walked)) is already defined as \(TOMLByte.article(existing.typeName)) on line \(p.line)",
                               at: part.offset)
                }
            } else {
                let child = TOMLTableNode(origin: .dotted, position: position(part.offset), depth: table.depth + 1)
                table.set(part.name, .table(child, position(part.offset)))
                table = child
            }
        }
        guard let last = path.last else { return }
        if let existing = table.slots[last.name] {
            throw fail(.duplicateKey,
                       "duplicate key (first defined on line \(existing.position.line))", at: last.offset)
        }
        table.set(last.name, .value(value, position(last.offset)))
    }

    // MARK: Table headers

    /// `std-table = "[" ws key ws "]"`, `array-table = "[[" ws key ws "]]"`.
    mutating func parseHeader(root: TOMLTableNode) throws(TOMLError) -> (TOMLTableNode, [String]) {
        let start = i
        let isArray = peek(1) == TOMLByte.lbracket
        i += isArray ? 2 : 1
        let parts = try parseKey(basePath: [])
        guard peek() == TOMLByte.rbracket else {
            throw fail(.syntax, "expected '\(isArray ? "]]" : "]")' after table name, found \(found())")
        }
        i += 1
        if isArray {
            guard peek() == TOMLByte.rbracket else { throw fail(.syntax, "expected ']]' after table name, found \(found())") }
            i += 1
        }
        guard parts.count <= limits.maxDepth else {
            throw fail(.nestingTooDeep, "table name nests deeper than \(limits.maxDepth) levels", at: start)
        }
        let names = parts.map(\.name)
        context = names
        let headerPosition = position(start)

        var table = root
        var walked: [String] = []
        for part in parts.dropLast() {
            walked.append(part.name)
            if let slot = table.slots[part.name] {
                switch slot {
                case .table(let child, _):
                    table = child
                case .tableArray(let box, _):
                    guard let lastElement = box.elements.last else {
                        throw fail(.syntax, "empty array of tables", at: part.offset)
                    }
                    table = lastElement
                case .value(let existing, let p):
                    throw fail(.duplicateKey,
                               "key \(TOMLKey.format(walked)) is already defined as \(TOMLByte.article(existing.typeName)) on line \(p.line)",
                               at: part.offset)
                }
            } else {
                let child = TOMLTableNode(origin: .implicit, position: headerPosition, depth: table.depth + 1)
                table.set(part.name, .table(child, position(part.offset)))
                table = child
            }
        }
        guard let last = parts.last else { throw fail(.syntax, "expected a table name", at: start) }
        let keyPosition = position(last.offset)

        if isArray {
            let element = TOMLTableNode(origin: .header, position: headerPosition, depth: table.depth + 1)
            switch table.slots[last.name] {
            case nil:
                table.set(last.name, .tableArray(TOMLTableArrayBox(element), keyPosition))
            case .tableArray(let box, _)?:
                box.elements.append(element)
            case .table(let existing, _)?:
                throw fail(.tableRedefined,
                           "cannot define [[\(TOMLKey.format(names))]]: it is already a table (line \(existing.position.line))",
                           at: start)
            case .value(let existing, let p)?:
                throw fail(existing.arrayValue != nil ? .tableRedefined : .duplicateKey,
                           "cannot define [[\(TOMLKey.format(names))]]: key already holds \(TOMLByte.article(existing.typeName)) (line \(p.line))",
                           at: start)
            }
            return (element, names)
        }

        switch table.slots[last.name] {
        case nil:
            let node = TOMLTableNode(origin: .header, position: headerPosition, depth: table.depth + 1)
            table.set(last.name, .table(node, keyPosition))
            return (node, names)
        case .table(let node, _)?:
            switch node.origin {
            case .implicit:
                node.origin = .header
                node.position = headerPosition
                table.set(last.name, .table(node, keyPosition))
                return (node, names)
            case .header, .inline:
                throw fail(.tableRedefined,
                           "table [\(TOMLKey.format(names))] is defined twice (first on line \(node.position.line))",
                           at: start)
            case .dotted:
                throw fail(.tableRedefined,
                           "table [\(TOMLKey.format(names))] was already defined by dotted keys on line \(node.position.line)",
                           at: start)
            }
        case .tableArray(_, let p)?:
            throw fail(.tableRedefined,
                       "cannot define [\(TOMLKey.format(names))]: it is an array of tables (line \(p.line))",
                       at: start)
        case .value(let existing, let p)?:
            throw fail(.duplicateKey,
                       "cannot define [\(TOMLKey.format(names))]: key already holds \(TOMLByte.article(existing.typeName)) (line \(p.line))",
                       at: start)
        }
    }

    // MARK: Values

    /// `val = string / boolean / array / inline-table / date-time / float / integer`.
    mutating func parseValue(depth: Int) throws(TOMLError) -> TOMLValue {
        guard let b = peek() else { throw fail(.syntax, "expected a value, found end of input") }
        switch b {
        case TOMLByte.quote:
            if peek(1) == TOMLByte.quote, peek(2) == TOMLByte.quote { return .string(try parseMultilineBasicString()) }
            return .string(try parseBasicString())
        case TOMLByte.apostrophe:
            if peek(1) == TOMLByte.apostrophe, peek(2) == TOMLByte.apostrophe { return .string(try parseMultilineLiteralString()) }
            return .string(try parseLiteralString())
        case TOMLByte.lowerT:
            return .boolean(try parseWord("true", value: true))
        case TOMLByte.lowerF:
            return .boolean(try parseWord("false", value: false))
        case TOMLByte.lbracket:
            return try parseArray(depth: depth)
        case TOMLByte.lbrace:
            return try parseInlineTable(depth: depth)
        case TOMLByte.plus, TOMLByte.minus, TOMLByte.lowerI, TOMLByte.lowerN, TOMLByte.zero...TOMLByte.nine:
            return try parseNumberOrDateTime()
        default:
            if TOMLKey.isBareKeyByte(b) { _ = try invalidBareValue(from: i) }
            throw fail(.syntax, "expected a value, found \(found())")
        }
    }

    mutating func parseWord(_ word: StaticString, value: Bool) throws(TOMLError) -> Bool {
        let start = i
        let count = word.utf8CodeUnitCount
        var j = 0
        while j < count {
            guard peek(j) == word.utf8Start[j] else { return try invalidBareValue(from: start) }
            j += 1
        }
        i += count
        if let next = peek(), TOMLKey.isBareKeyByte(next) { return try invalidBareValue(from: start) }
        return value
    }

    /// Reports an unquoted word that is not a TOML value; a common mistake is a missing quote.
    func invalidBareValue(from start: Int) throws(TOMLError) -> Bool {
        var end = start
        while end < bytes.count, TOMLKey.isBareKeyByte(bytes[end]) || bytes[end] == TOMLByte.dot { end += 1 }
        let word = String(decoding: bytes[start..<end], as: UTF8.self)
        throw fail(.syntax, "invalid value \(word) (strings must be quoted)", at: start)
    }

    /// `array = "[" [ array-values ] ws-comment-newline "]"`; a trailing comma is allowed.
    mutating func parseArray(depth: Int) throws(TOMLError) -> TOMLValue {
        guard depth <= limits.maxDepth else {
            throw fail(.nestingTooDeep, "arrays and tables nest deeper than \(limits.maxDepth) levels")
        }
        let start = i
        i += 1
        var elements: [TOMLValue] = []
        while true {
            try skipWhitespaceCommentsNewlines()
            guard let b = peek() else { throw fail(.syntax, "unterminated array", at: start) }
            if b == TOMLByte.rbracket {
                i += 1
                return .array(elements)
            }
            elements.append(try parseValue(depth: depth + 1))
            try skipWhitespaceCommentsNewlines()
            switch peek() {
            case TOMLByte.comma?:
                i += 1
            case TOMLByte.rbracket?:
                i += 1
                return .array(elements)
            case nil:
                throw fail(.syntax, "unterminated array", at: start)
            default:
                throw fail(.syntax, "expected ',' or ']' in array, found \(found())")
            }
        }
    }

    /// `inline-table = "{" ws [ inline-table-keyvals ] ws "}"`: one line, no trailing comma (TOML 1.0).
    mutating func parseInlineTable(depth: Int) throws(TOMLError) -> TOMLValue {
        guard depth <= limits.maxDepth else {
            throw fail(.nestingTooDeep, "arrays and tables nest deeper than \(limits.maxDepth) levels")
        }
        let start = i
        i += 1
        let outerContext = context
        let node = TOMLTableNode(origin: .inline, position: position(start), depth: depth)
        skipWhitespace()
        if peek() == TOMLByte.rbrace {
            i += 1
            return .table(node.freeze())
        }
        var afterComma = false
        while true {
            skipWhitespace()
            switch peek() {
            case nil:
                throw fail(.syntax, "unterminated inline table", at: start)
            case TOMLByte.lf?, TOMLByte.cr?, TOMLByte.hash?:
                throw fail(.syntax, "inline tables must be on one line")
            case TOMLByte.rbrace? where afterComma:
                throw fail(.syntax, "trailing comma not allowed in an inline table")
            default:
                break
            }
            context = outerContext
            try parseKeyValue(into: node, basePath: outerContext)
            context = outerContext
            skipWhitespace()
            switch peek() {
            case TOMLByte.comma?:
                i += 1
                afterComma = true
            case TOMLByte.rbrace?:
                i += 1
                context = outerContext
                return .table(node.freeze())
            case nil:
                throw fail(.syntax, "unterminated inline table", at: start)
            case TOMLByte.lf?, TOMLByte.cr?, TOMLByte.hash?:
                throw fail(.syntax, "inline tables must be on one line")
            default:
                throw fail(.syntax, "expected ',' or '}' in inline table, found \(found())")
            }
        }
    }
}

extension TOMLByte {
    static func hexValue(_ b: UInt8) -> UInt8 {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x41 + 10
        case 0x61...0x66: b - 0x61 + 10
        default: 0
        }
    }

    static func hex4(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return s.count >= 4 ? s : String(repeating: "0", count: 4 - s.count) + s
    }

    static func article(_ typeName: String) -> String {
        let vowel = typeName.first.map { "aeiou".contains($0) } ?? false
        return (vowel ? "an " : "a ") + typeName
    }
}

/// POSIX tar headers (IEEE Std 1003.1-2017, pax: the ustar header plus pax extended headers).
///
/// Each entry is a 512-byte ustar header, the content, and zero padding to a multiple of 512; the archive
/// ends with two zero blocks. A name that does not fit ustar's `prefix` (155 bytes) + `/` + `name`
/// (100 bytes) split, or is not ASCII, or a size of 8 GiB or more, is carried in a pax extended header
/// (type `x`) before the entry, which every current tar (GNU, bsdtar, Python's tarfile) reads.
public enum TarArchive {
    public static let blockSize = 512

    /// Kinds of entries this writer makes.
    public enum EntryType: UInt8, Sendable {
        case file = 0x30       // '0'
        case directory = 0x35  // '5'
        case paxHeader = 0x78  // 'x'
    }

    /// One entry's metadata.
    public struct Entry: Sendable, Equatable {
        public var path: String
        public var type: EntryType
        public var size: Int64
        public var mode: Int
        /// Seconds since 1970.
        public var modified: Int64

        public init(path: String, type: EntryType, size: Int64 = 0, mode: Int? = nil, modified: Int64) {
            self.path = path
            self.type = type
            self.size = type == .directory ? 0 : max(0, size)
            self.mode = mode ?? (type == .directory ? 0o700 : 0o600)
            self.modified = max(0, modified)
        }
    }

    /// The header block(s) that go before the entry's content: a pax header when needed, then ustar.
    public static func headers(for entry: Entry) -> [UInt8] {
        let pathBytes = Array(entry.path.utf8)
        let split = ustarSplit(pathBytes)
        let sizeFits = entry.size < 0o77777777777
        var out: [UInt8] = []
        var records: [(String, [UInt8])] = []
        if split == nil { records.append(("path", pathBytes)) }
        if !sizeFits { records.append(("size", Array(String(entry.size).utf8))) }
        if !records.isEmpty {
            let body = records.flatMap { paxRecord(key: $0.0, value: $0.1) }
            // A stand-in name for readers without pax support; ASCII, within 100 bytes.
            let name = Array(("PaxHeaders/" + String(entry.path.utf8.count)).utf8)
            out += ustarHeader(name: name, prefix: [], type: .paxHeader, size: Int64(body.count), mode: 0o600, modified: entry.modified)
            out += body
            out += padding(for: Int64(body.count))
        }
        let (prefix, name) = split ?? ([], fallbackName(pathBytes))
        out += ustarHeader(name: name, prefix: prefix, type: entry.type, size: sizeFits ? entry.size : 0,
                           mode: entry.mode, modified: entry.modified)
        return out
    }

    /// Zeros that pad content of `size` bytes to a whole number of blocks.
    public static func padding(for size: Int64) -> [UInt8] {
        let rest = Int(size % Int64(blockSize))
        return rest == 0 ? [] : [UInt8](repeating: 0, count: blockSize - rest)
    }

    /// End of archive: two zero blocks.
    public static let trailer = [UInt8](repeating: 0, count: 2 * blockSize)

    /// ustar: `name` up to 100 bytes, or `prefix` (up to 155) + "/" + `name`, ASCII only (non-ASCII goes to pax).
    static func ustarSplit(_ path: [UInt8]) -> (prefix: [UInt8], name: [UInt8])? {
        guard !path.isEmpty, path.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) else { return nil }
        if path.count <= 100 { return ([], path) }
        // The last "/" that leaves a prefix of at most 155 bytes and a name of at most 100.
        var index = min(path.count - 1, 155)
        while index > 0 {
            if path[index] == 0x2F, path.count - index - 1 <= 100, path.count - index - 1 > 0 {
                return (Array(path[..<index]), Array(path[(index + 1)...]))
            }
            index -= 1
        }
        return nil
    }

    /// The ustar name of an entry whose real path is in a pax header: its last 100 ASCII bytes.
    static func fallbackName(_ path: [UInt8]) -> [UInt8] {
        Array(path.map { $0 >= 0x20 && $0 < 0x7f ? $0 : 0x5F }.suffix(100))
    }

    /// pax record `"<length> <key>=<value>\n"`, where length counts the whole record including its own digits.
    static func paxRecord(key: String, value: [UInt8]) -> [UInt8] {
        let rest = 1 + key.utf8.count + 1 + value.count + 1  // " " key "=" value "\n"
        var length = rest + String(rest).utf8.count
        if String(length).utf8.count != String(rest).utf8.count { length = rest + String(length).utf8.count }
        return Array(String(length).utf8) + [0x20] + Array(key.utf8) + [0x3D] + value + [0x0A]
    }

    static func ustarHeader(name: [UInt8], prefix: [UInt8], type: EntryType, size: Int64, mode: Int, modified: Int64) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: blockSize)
        func put(_ bytes: [UInt8], at offset: Int, width: Int) {
            for (i, b) in bytes.prefix(width).enumerated() { block[offset + i] = b }
        }
        /// Octal, zero-padded to width-1 digits, NUL-terminated.
        func octal(_ value: Int64, at offset: Int, width: Int) {
            var digits = Array(String(value, radix: 8).utf8)
            if digits.count > width - 1 { digits = [UInt8](repeating: 0x37, count: width - 1) }  // saturate; pax carries the truth
            put([UInt8](repeating: 0x30, count: width - 1 - digits.count) + digits, at: offset, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(Int64(mode), at: 100, width: 8)
        octal(0, at: 108, width: 8)        // uid
        octal(0, at: 116, width: 8)        // gid
        octal(size, at: 124, width: 12)
        octal(min(modified, 0o77777777777), at: 136, width: 12)
        put([UInt8](repeating: 0x20, count: 8), at: 148, width: 8)  // checksum counted as spaces
        block[156] = type.rawValue
        put(Array("ustar".utf8) + [0], at: 257, width: 6)
        put(Array("00".utf8), at: 263, width: 2)
        put(prefix, at: 345, width: 155)
        let sum = block.reduce(0) { $0 + Int($1) }
        var check = Array(String(sum, radix: 8).utf8)
        check = [UInt8](repeating: 0x30, count: max(0, 6 - check.count)) + check
        put(check + [0, 0x20], at: 148, width: 8)
        return block
    }
}

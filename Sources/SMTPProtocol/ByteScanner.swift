/// A forward-only cursor over a command line, used by the grammar functions.
struct ByteScanner {
    let bytes: ArraySlice<UInt8>
    private(set) var index: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    var isAtEnd: Bool { index >= bytes.endIndex }
    var remaining: ArraySlice<UInt8> { bytes[index...] }

    func peek(offset: Int = 0) -> UInt8? {
        let i = index + offset
        return i < bytes.endIndex ? bytes[i] : nil
    }

    mutating func next() -> UInt8? {
        guard index < bytes.endIndex else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func advance(by count: Int = 1) {
        index = min(index + count, bytes.endIndex)
    }

    /// Consumes `byte` if it is next.
    mutating func consume(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        index += 1
        return true
    }

    /// Consumes bytes while `predicate` holds and returns them.
    mutating func consume(while predicate: (UInt8) -> Bool) -> ArraySlice<UInt8> {
        let start = index
        while index < bytes.endIndex, predicate(bytes[index]) { index += 1 }
        return bytes[start..<index]
    }
}

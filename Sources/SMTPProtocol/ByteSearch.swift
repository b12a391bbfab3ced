/// Fast search for one byte value, eight bytes at a time. LineFramer and DataDecoder spend their time
/// looking for LF/CR in large buffers (a 10 MB line, a message body), so this is their hot loop.
enum ByteSearch {
    /// Index (in `bytes`' own indices) of the first `target`, or nil.
    static func firstIndex(of target: UInt8, in bytes: ArraySlice<UInt8>) -> Int? {
        bytes.withUnsafeBufferPointer { buffer -> Int? in
            guard let base = buffer.baseAddress else { return nil }
            let count = buffer.count
            let raw = UnsafeRawPointer(base)
            let pattern = UInt64(target) &* 0x0101_0101_0101_0101
            var i = 0
            while i &+ 8 <= count {
                // A byte equal to target becomes 0x00 after the XOR; the classic "has a zero byte" test is
                // exact about whether one exists (the byte loop below finds which).
                let word = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ pattern
                if (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080 != 0 { break }
                i &+= 8
            }
            while i < count {
                if base[i] == target { return bytes.startIndex &+ i }
                i &+= 1
            }
            return nil
        }
    }
}

// Shared plumbing for the libFuzzer targets under Fuzz/: starting the driver, reading the control bytes a
// target takes from the front of its input, splitting input into reads, and failing loudly when an
// invariant does not hold.
import CLibFuzzer

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The function libFuzzer calls for every input (`LLVMFuzzerTestOneInput`).
public typealias FuzzTestOneInput = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

/// Runs libFuzzer's driver on the process arguments (`-max_total_time=60 corpus/ ...`) and exits with its
/// status. SwiftPM gives each executable its own `main`, so the driver is started from there.
public func runLibFuzzer(_ testOneInput: FuzzTestOneInput) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
}

/// A copy of libFuzzer's input (the pointer is only valid during the call).
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// Traps with `message` when `condition` is false: for libFuzzer a trap is a crash, so it saves the input
/// as a `crash-...` artifact. Used for every property a target checks beyond "does not crash".
public func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("fuzz invariant violated: \(message())", file: file, line: line) }
}

/// Reads control bytes (mode, split seed, sizes) from the front of an input; what is left is the payload.
/// Past the end it reads zeros, so every input, even an empty one, is usable.
public struct FuzzInput {
    public private(set) var remaining: ArraySlice<UInt8>

    public init(_ bytes: [UInt8]) { remaining = bytes[...] }

    public mutating func byte() -> UInt8 {
        guard let first = remaining.first else { return 0 }
        remaining = remaining.dropFirst()
        return first
    }

    /// Two bytes, big-endian.
    public mutating func uint16() -> UInt16 { UInt16(byte()) << 8 | UInt16(byte()) }

    /// Everything not read yet.
    public var payload: [UInt8] { Array(remaining) }
}

/// SplitMix64: a tiny deterministic generator, so a split pattern depends only on the input.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Cuts bytes into reads the way a socket might deliver them: the seed picks a size class (single bytes,
/// a few bytes, up to 64, up to 1024) and the sequence of sizes.
public func splitIntoReads(_ bytes: [UInt8], seed: UInt8) -> [ArraySlice<UInt8>] {
    guard !bytes.isEmpty else { return [] }
    var rng = SplitMix64(seed: UInt64(seed))
    let maximum: Int
    switch seed & 3 {
    case 0: maximum = 1
    case 1: maximum = 4
    case 2: maximum = 64
    default: maximum = 1024
    }
    var reads: [ArraySlice<UInt8>] = []
    var start = 0
    while start < bytes.count {
        let size = 1 + Int(rng.next() % UInt64(maximum))
        let end = min(bytes.count, start + size)
        reads.append(bytes[start..<end])
        start = end
    }
    return reads
}

/// Short printable rendering of bytes for invariant messages.
public func show<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    var out = ""
    for b in bytes.prefix(200) {
        switch b {
        case 0x20...0x7E where b != 0x5C: out.unicodeScalars.append(Unicode.Scalar(b))
        default: out += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
        }
    }
    return bytes.count > 200 ? out + "...(\(bytes.count) bytes)" : out
}

import Testing
import SkjoldConfig

@Suite("ByteSize")
struct ByteSizeTests {
    static let valid: [(String, Int64)] = [
        ("140MiB", 140 * 1024 * 1024),
        ("10GB", 10_000_000_000),
        ("100 MB", 100_000_000),
        ("512KiB", 512 * 1024),
        ("1TB", 1_000_000_000_000),
        ("4096", 4096),
        ("0", 0),
        ("7B", 7),
        ("7 b", 7),
        ("1kb", 1000),
        ("1KB", 1000),
        ("1kIb", 1024),
        ("2gib", 2 << 30),
        ("1TiB", 1 << 40),
        ("1.5GiB", 3 << 29),
        ("0.5 KB", 500),
        ("1.0001KB", 1000),
        ("  25 MB  ", 25_000_000),
        ("1_000 KB", 1_000_000),
        ("9223372036854775807", .max),
        ("8388607TiB", 8_388_607 << 40),
    ]

    @Test(arguments: valid)
    func parses(_ text: String, _ bytes: Int64) {
        #expect(ByteSize.parse(text) == bytes, "\(text)")
    }

    @Test(arguments: [
        "", " ", "MB", "-1", "-5MB", "1.5.5MB", "10 GiGs", "10 K", "1e3", "0x10", "1.", ".5MB", "10 MB MB",
        "9223372036854775808", "8388608TiB", "1_", "_1", "1__0", "10\nMB", "１０MB",
    ])
    func rejects(_ text: String) {
        #expect(ByteSize.parse(text) == nil, "\(text.debugDescription)")
    }

    @Test func formats() {
        #expect(ByteSize.format(10_000_000_000) == "10 GB")
        #expect(ByteSize.format(140 << 20) == "140 MiB")
        #expect(ByteSize.format(0) == "0 B")
        #expect(ByteSize.format(999) == "999 B")
        #expect(ByteSize.format(1000) == "1 KB")
        #expect(ByteSize.format(4096) == "4 KiB")
        #expect(ByteSize.format(1 << 40) == "1 TiB")
        #expect(ByteSize.format(5_000_000_000_000) == "5 TB")
        #expect(ByteSize.format((3 << 29) + 1) == "1.5 GiB")
        #expect(ByteSize.format(1025) == "1.0 KiB")
        #expect(ByteSize.format(-2048) == "-2 KiB")
        #expect(ByteSize.format(.min).hasPrefix("-"))
        #expect(!ByteSize.format(.max).isEmpty)
    }

    /// Exact formats parse back to the same number.
    @Test func exactFormatsRoundTrip() {
        for n: Int64 in [1, 1000, 1024, 10_000_000_000, 140 << 20, 512 * 1024, 3 << 40, 7_000_000, 123_456_789] {
            let text = ByteSize.format(n)
            if !text.contains(".") {
                #expect(ByteSize.parse(text) == n, "\(n) -> \(text)")
            }
        }
    }
}

@Suite("ListenAddress")
struct ListenAddressTests {
    static let valid: [(String, String, Int)] = [
        ("0.0.0.0:25", "0.0.0.0", 25),
        ("[::1]:143", "::1", 143),
        ("[::]:993", "::", 993),
        ("localhost:25", "localhost", 25),
        ("127.0.0.1:0", "127.0.0.1", 0),
        ("mail.example.test:65535", "mail.example.test", 65535),
        ("[fe80::1%eth0]:25", "fe80::1%eth0", 25),
    ]

    @Test(arguments: valid)
    func parses(_ text: String, _ host: String, _ port: Int) throws {
        let address = try ListenAddress(parsing: text)
        #expect(address.host == host)
        #expect(address.port == port)
        #expect(address.description == text)
        #expect(try ListenAddress(parsing: address.description) == address)
    }

    static let invalid: [(String, String)] = [
        ("0.0.0.0", "expected host:port"),
        ("0.0.0.0:", "expected host:port"),
        (":25", "expected host:port; use 0.0.0.0 for all interfaces"),
        ("0.0.0.0:65536", "port must be a number from 0 to 65535"),
        ("0.0.0.0:-1", "port must be a number from 0 to 65535"),
        ("0.0.0.0:+25", "port must be a number from 0 to 65535"),
        ("0.0.0.0:99999999999999999999", "port must be a number from 0 to 65535"),
        ("::1:25", "write an IPv6 address in brackets, e.g. [::1]:25"),
        ("[::1]25", "expected host:port"),
        ("[::1:25", "missing ']' after IPv6 address"),
        ("[example.com]:25", "invalid IPv6 address in brackets"),
        ("mail example:25", "invalid character in host"),
        ("", "expected host:port"),
    ]

    @Test(arguments: invalid)
    func rejects(_ text: String, _ reason: String) {
        #expect(throws: ListenAddress.ParseError(input: text, reason: reason)) {
            try ListenAddress(parsing: text)
        }
    }

    @Test func errorDescription() {
        let error = ListenAddress.ParseError(input: "0.0.0.0", reason: "expected host:port")
        #expect(error.description == #"invalid address "0.0.0.0" (expected host:port)"#)
    }
}

import Admin
import Foundation
import Testing

extension AdminSuite {
    /// The tar writer's headers, checked against Python's tarfile (an independent reader).
    @Suite("tar archive")
    struct TarArchiveTests {
        @Test("short names use the ustar name field with a valid checksum; the archive is whole blocks")
        func ustarHeader() {
            let header = TarArchive.headers(for: .init(path: "Maildir/cur/1.U1V1.skjold:2,S", type: .file, size: 5, modified: 1_700_000_000))
            #expect(header.count == 512)
            #expect(Array(header[0..<29]) == Array("Maildir/cur/1.U1V1.skjold:2,S".utf8))
            #expect(header[156] == 0x30)
            #expect(Array(header[257..<263]) == Array("ustar\0".utf8))
            #expect(String(decoding: header[124..<135], as: UTF8.self) == "00000000005")
            var sum = 0
            for (i, b) in header.enumerated() { sum += (148..<156).contains(i) ? 0x20 : Int(b) }
            #expect(String(decoding: header[148..<154], as: UTF8.self) == String(repeating: "0", count: 6 - String(sum, radix: 8).count) + String(sum, radix: 8))
            #expect(TarArchive.padding(for: 5).count == 507)
            #expect(TarArchive.padding(for: 1024).isEmpty)
        }

        @Test("names up to 255 bytes split into prefix and name; longer or non-ASCII ones get a pax header")
        func longNames() {
            let split = "Maildir/" + String(repeating: "a", count: 140) + "/" + String(repeating: "b", count: 90)
            let header = TarArchive.headers(for: .init(path: split, type: .file, size: 0, modified: 0))
            #expect(header.count == 512, "prefix/name split expected")
            #expect(Array(header[345..<(345 + 148)]) == Array(("Maildir/" + String(repeating: "a", count: 140)).utf8))
            let long = "Maildir/" + String(repeating: "x", count: 300) + "/cur/m"
            #expect(TarArchive.headers(for: .init(path: long, type: .file, size: 0, modified: 0)).count == 3 * 512)
            let unicode = TarArchive.headers(for: .init(path: "Maildir/.Reçus/", type: .directory, modified: 0))
            #expect(unicode.count == 3 * 512)
            #expect(unicode[156] == 0x78)
        }

        @Test("Python's tarfile reads long, non-ASCII and split names and the exact contents")
        func pythonReadsIt() async throws {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let entries: [(String, [UInt8])] = [
                ("short.txt", Array("hello".utf8)),
                ("Maildir/" + String(repeating: "a", count: 140) + "/" + String(repeating: "b", count: 90), [0, 1, 2]),
                ("Maildir/" + String(repeating: "y", count: 600) + "/cur/1.U2V3.skjold:2,FS", Array(repeating: 0x41, count: 512)),
                ("Maildir/.Reçus/cur/ü", Array(repeating: 0xFF, count: 1000)),
                ("empty", []),
            ]
            var archive: [UInt8] = []
            for (path, content) in entries {
                archive += TarArchive.headers(for: .init(path: path, type: .file, size: Int64(content.count), modified: 1_600_000_000))
                archive += content + TarArchive.padding(for: Int64(content.count))
            }
            archive += TarArchive.trailer
            let file = scratch.url.appendingPathComponent("t.tar")
            try Data(archive).write(to: file)
            let script = """
                import sys, tarfile
                with tarfile.open(sys.argv[1]) as tar:
                    for m in tar.getmembers():
                        print(m.name, m.size, m.mtime, tar.extractfile(m).read().hex())
                """
            let result = try await python(script, [file.path], in: scratch.url)
            try #require(result.status == 0, "\(result)")
            #expect(result.stdoutLines == entries.map { "\($0.0) \($0.1.count) 1600000000 \($0.1.map { String(format: "%02x", $0) }.joined())" })
        }

        @Test("Maildir++ names: hierarchy by dots, dots and percent escaped, flags in ASCII order")
        func maildirNames() {
            #expect(MaildirNaming.folder(for: "INBOX") == "Maildir")
            #expect(MaildirNaming.folder(for: "Archive/2024") == "Maildir/.Archive.2024")
            #expect(MaildirNaming.folder(for: "a.b/c%d") == "Maildir/.a%2Eb.c%25d")
            #expect(MaildirNaming.folder(for: "../..") == "Maildir/.%2E%2E.%2E%2E")
            let message = MessageRecordFixture.make(flags: ["\\Seen", "\\Deleted", "\\Draft", "\\Answered", "\\Flagged", "custom"])
            #expect(MaildirNaming.fileName(message, uidValidity: 9, keywordLetters: ["custom": "a"]) == "1700000000.U7V9.skjold:2,DFRSTa")
        }
    }
}

import MailStore

enum MessageRecordFixture {
    static func make(flags: Set<String>) -> MessageRecord {
        MessageRecord(uid: 7, modSeq: 1, flags: flags, internalDate: Date(timeIntervalSince1970: 1_700_000_000), size: 0, blobID: "")
    }
}

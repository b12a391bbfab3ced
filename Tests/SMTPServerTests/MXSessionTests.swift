import Foundation
import MailStore
import MailTesting
import SMTPServer
import Testing

/// The MX port through a real socket: what a sending server on the Internet meets.
@Suite struct MXSessionTests {
    @Test func deliversByteExactToInboxWithTraceHeaders() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let port = server.mxPort
        // 8-bit bytes, a line starting with a dot (stuffed on the wire), a bare LF, a 5,000-octet line.
        let longLine = [UInt8](repeating: UInt8(ascii: "x"), count: 5000)
        var body = Array("Subject: test\r\n\r\nCaf\u{e9} ".utf8) + [0xFF, 0xFE] + Array("\r\n.leading dot\r\nbare\nLF\r\n".utf8)
        body += longLine + [13, 10]
        var wire = body
        // Dot-stuff the one line that starts with a dot.
        if let range = findSubsequence(wire, Array("\r\n.leading".utf8)) { wire.insert(UInt8(ascii: "."), at: range + 2) }
        let stuffed = wire
        try await blocking {
            let client = try RawClient(port: port)
            try client.expect("220 mx.example.test")
            try client.command("EHLO sender.example.org", "250 ")
            try client.command("MAIL FROM:<someone@example.org>", "250 2.1.0")
            try client.command("RCPT TO:<alice@example.test>", "250 2.1.5")
            try client.command("DATA", "354")
            try client.send(stuffed + Array(".\r\n".utf8))
            try client.expect("250 2.0.0")
            try client.command("QUIT", "221 2.0.0")
        }
        let stored = try await server.inbox("alice@example.test")
        #expect(stored.count == 1)
        let message = try #require(stored.first)
        #expect(bodyAfterTrace(message) == body)
        let head = String(decoding: message.prefix(400), as: UTF8.self)
        #expect(head.hasPrefix("Return-Path: <someone@example.org>\r\nDelivered-To: alice@example.test\r\nReceived: from sender.example.org\r\n\tby mx.example.test (Skjold) with ESMTP id "))
        #expect(head.contains("for <alice@example.test>;"))
        #expect(!head.contains("127.0.0.1"), "no client IP unless log_ip_addresses")
    }

    @Test func clientAddressOnlyWhenConfigured() async throws {
        let server = try await TestServer(logIPAddresses: true)
        defer { Task { await server.stop() } }
        let port = server.mxPort
        try await blocking {
            let client = try RawClient(port: port)
            try client.expect("220")
            try client.command("HELO sender.example.org", "250")
            try client.command("MAIL FROM:<>", "250")
            try client.command("RCPT TO:<alice@example.test>", "250")
            try client.command("DATA", "354")
            try client.command("Subject: x\r\n\r\nhi\r\n.", "250")
        }
        let message = try #require(try await server.inbox("alice@example.test").first)
        let head = String(decoding: message.prefix(300), as: UTF8.self)
        #expect(head.contains("from sender.example.org ([127.0.0.1])"))
        #expect(head.contains(" with SMTP id "), "HELO, not EHLO")
        #expect(head.hasPrefix("Return-Path: <>\r\n"), "null sender accepted and recorded")
    }

    @Test func aliasesMultipleRecipientsAndDuplicates() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let port = server.mxPort
        try await blocking {
            let client = try RawClient(port: port)
            try client.expect("220")
            try client.command("EHLO a.example.org", "250")
            try client.command("MAIL FROM:<x@example.org>", "250")
            try client.command("RCPT TO:<al@example.test>", "250 2.1.5")
            try client.command("RCPT TO:<ALICE@EXAMPLE.TEST>", "250 2.1.5")
            try client.command("RCPT TO:<bob@example.test>", "250 2.1.5")
            try client.command("RCPT TO:<nobody@example.test>", "550 5.1.1")
            try client.command("RCPT TO:<someone@elsewhere.org>", "554 5.7.1")
            try client.command("DATA", "354")
            try client.command("Subject: many\r\n\r\nhello\r\n.", "250 2.0.0")
        }
        let alice = try await server.inbox("alice@example.test")
        let bob = try await server.inbox("bob@example.test")
        #expect(alice.count == 1, "alias and direct address of one account: one copy")
        #expect(bob.count == 1)
        #expect(String(decoding: bob[0].prefix(200), as: UTF8.self).contains("Delivered-To: Bob@Example.test\r\n"))
    }

    @Test func pipelinedTransactionGetsEveryReplyInOrder() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let port = server.mxPort
        try await blocking {
            let client = try RawClient(port: port)
            try client.expect("220")
            try client.command("EHLO p.example.org", "250 ")
            // RFC 2920: the whole envelope in one write; DATA is the last command of the group.
            try client.send("MAIL FROM:<p@example.org>\r\nRCPT TO:<nobody@example.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n")
            try client.expect("250 2.1.0")
            try client.expect("550 5.1.1")
            try client.expect("250 2.1.5")
            try client.expect("354")
            // Message end and the next commands in one write.
            try client.send("Subject: p\r\n\r\nbody\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\n")
            try client.expect("250 2.0.0")
            try client.expect("250 2.0.0")
            try client.expect("250 2.0.0")
            try client.expect("221")
        }
        #expect(try await server.inbox("alice@example.test").count == 1)
    }

    @Test func chunkingStoresExactBytes() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let port = server.mxPort
        let part1 = Array("Subject: bdat\r\n\r\n.not stuffed\r\n".utf8)
        let part2 = Array("second chunk \u{1F600}\r\n.\r\nstill body\r\n".utf8)
        try await blocking {
            let client = try RawClient(port: port)
            try client.expect("220")
            let ehlo = try { try client.send("EHLO c.example.org\r\n"); return try client.reply() }()
            #expect(ehlo.contains("250-CHUNKING"))
            try client.command("MAIL FROM:<c@example.org>", "250")
            try client.command("RCPT TO:<bob@example.test>", "250")
            try client.send(Array("BDAT \(part1.count)\r\n".utf8) + part1)
            try client.expect("250 2.0.0")
            try client.send(Array("BDAT \(part2.count) LAST\r\n".utf8) + part2)
            try client.expect("250 2.0.0")
            try client.command("BDAT 0 LAST", "503 5.5.1")
            try client.command("NOOP", "250")
        }
        let stored = try #require(try await server.inbox("bob@example.test").first)
        #expect(bodyAfterTrace(stored) == part1 + part2)
    }

    @Test func oversizedMessagesAreRefusedAndTheSessionGoesOn() async throws {
        let server = try await TestServer(maximumMessageSize: 100_000)
        defer { Task { await server.stop() } }
        let port = server.mxPort
        let spool = server.spool
        try await blocking {
            let client = try RawClient(port: port)
            try client.expect("220")
            let ehlo = try { try client.send("EHLO big.example.org\r\n"); return try client.reply() }()
            #expect(ehlo.contains("250-SIZE 100000"))
            try client.command("MAIL FROM:<b@example.org> SIZE=100001", "552 5.3.4")
            try client.command("MAIL FROM:<b@example.org> SIZE=5000", "250")
            try client.command("RCPT TO:<alice@example.test>", "250")
            try client.command("DATA", "354")
            let line = String(repeating: "y", count: 998) + "\r\n"
            try client.send(String(repeating: line, count: 150) + ".\r\n")
            try client.expect("552 5.3.4")
            // Same with BDAT: the chunk is read in full, then refused.
            try client.command("MAIL FROM:<b@example.org>", "250")
            try client.command("RCPT TO:<alice@example.test>", "250")
            try client.send(Array("BDAT 150000 LAST\r\n".utf8) + [UInt8](repeating: 65, count: 150_000))
            try client.expect("552 5.3.4")
            // The session is still in sync and usable.
            try client.command("MAIL FROM:<b@example.org>", "250")
            try client.command("RCPT TO:<alice@example.test>", "250")
            try client.command("DATA", "354")
            try client.command("Subject: small\r\n\r\nok\r\n.", "250 2.0.0")
        }
        #expect(try await server.inbox("alice@example.test").count == 1)
        #expect((try FileManager.default.contentsOfDirectory(atPath: spool)).isEmpty, "spool files removed")
    }

    @Test func largeMessageGoesThroughTheSpoolFile() async throws {
        let server = try await TestServer(maximumMessageSize: 8 << 20, inMemoryLimit: 16 * 1024)
        defer { Task { await server.stop() } }
        let port = server.mxPort
        var body = Array("Subject: big\r\n\r\n".utf8)
        for i in 0..<40_000 { body += Array("line \(i) with some text to make it longer than the memory limit\r\n".utf8) }
        let message = body
        try await blocking {
            let client = try RawClient(port: port)
            try client.expect("220")
            try client.command("EHLO big.example.org", "250")
            try client.command("MAIL FROM:<b@example.org>", "250")
            try client.command("RCPT TO:<alice@example.test>", "250")
            try client.command("RCPT TO:<bob@example.test>", "250")
            try client.command("DATA", "354")
            try client.send(message + Array(".\r\n".utf8))
            try client.expect("250 2.0.0")
        }
        #expect(bodyAfterTrace(try #require(try await server.inbox("alice@example.test").first)) == message)
        #expect(bodyAfterTrace(try #require(try await server.inbox("bob@example.test").first)) == message)
        #expect((try FileManager.default.contentsOfDirectory(atPath: server.spool)).isEmpty)
    }

    @Test func hostileInputGetsCleanErrors() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let port = server.mxPort
        try await blocking {
            let client = try RawClient(port: port)
            try client.expect("220")
            // 10 MB without a newline: 500, never buffered; the session stays usable.
            let junk = [UInt8](repeating: UInt8(ascii: "A"), count: 10_000_000)
            try client.send(junk + Array("\r\n".utf8))
            try client.expect("500 5.5.2")
            try client.command("NOOP", "250")
            try client.send([0x4E, 0x4F, 0x00, 0x4F, 0x50, 13, 10])
            try client.expect("500 5.5.2")
            try client.command("GET / HTTP/1.1", "500 5.5.1")
            try client.command("MAIL FROM:<a@example.org>", "503 5.5.1")  // before EHLO
            try client.command("EHLO h.example.org", "250")
            try client.command("RCPT TO:<alice@example.test>", "503 5.5.1")  // before MAIL
            try client.command("DATA", "503 5.5.1")
            try client.command("MAIL FROM:<bad address>", "501 5.1.7")
            try client.command("MAIL FROM:<caf\u{e9}@example.org>", "553 5.6.7")  // UTF-8 without SMTPUTF8
            try client.command("MAIL FROM:<\"quoted local\"@example.org>", "250")
            try client.command("RCPT TO:<user@[IPv6:2001:db8::1]>", "554 5.7.1")
            try client.command("RCPT TO:<alice@example.test> FOO=BAR", "555 5.5.4")
            try client.command("VRFY alice", "252")
            try client.command("AUTH PLAIN", "502")  // no AUTH on the MX port
            // Past the error limit: 421 and the connection closes.
            for _ in 0..<3 { try client.send("BOGUS\r\n"); _ = try client.reply() }
            var sawClose = false
            for _ in 0..<12 {
                try? client.send("BOGUS\r\n")
                guard let reply = try? client.reply() else { sawClose = true; break }
                if reply.last?.hasPrefix("421 4.7.0") == true { sawClose = client.isClosed(); break }
            }
            #expect(sawClose)
        }
    }

    @Test func recipientLimitPerTransaction() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let port = server.mxPort
        try await blocking {
            let client = try RawClient(port: port)
            try client.expect("220")
            try client.command("EHLO r.example.org", "250")
            try client.command("MAIL FROM:<r@example.org>", "250")
            var batch = ""
            for _ in 0..<100 { batch += "RCPT TO:<alice@example.test>\r\n" }
            try client.send(batch)
            for _ in 0..<100 { try client.expect("250 2.1.5") }
            try client.command("RCPT TO:<bob@example.test>", "452 4.5.3")
            try client.command("DATA", "354")
            try client.command("Subject: r\r\n\r\nx\r\n.", "250")
        }
        #expect(try await server.inbox("alice@example.test").count == 1)
        #expect(try await server.inbox("bob@example.test").isEmpty)
    }

    @Test func utf8TransactionWithSMTPUTF8() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let port = server.mxPort
        try await blocking {
            let client = try RawClient(port: port)
            try client.expect("220")
            try client.command("EHLO u.example.org", "250")
            try client.command("MAIL FROM:<j\u{f6}rg@example.org> SMTPUTF8 BODY=8BITMIME", "250")
            try client.command("RCPT TO:<alice@example.test>", "250")
            try client.command("DATA", "354")
            try client.command("Subject: \u{e6}\u{f8}\u{e5}\r\n\r\nhi\r\n.", "250")
        }
        let stored = try #require(try await server.inbox("alice@example.test").first)
        let head = String(decoding: stored.prefix(300), as: UTF8.self)
        #expect(head.hasPrefix("Return-Path: <j\u{f6}rg@example.org>\r\n"))
        #expect(head.contains("with UTF8SMTP id"))
    }

    @Test func gracefulShutdownSays421() async throws {
        let server = try await TestServer()
        let port = server.mxPort
        let client = try await blocking { () -> RawClient in
            let client = try RawClient(port: port)
            try client.expect("220")
            try client.command("EHLO s.example.org", "250")
            return client
        }
        let stop = Task { await server.stop() }
        try await blocking { try client.expect("421 4.3.2") }
        await stop.value
    }
}

func findSubsequence(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
    guard needle.count <= haystack.count else { return nil }
    for start in 0...(haystack.count - needle.count) where Array(haystack[start..<start + needle.count]) == needle { return start }
    return nil
}



import Foundation
import NIOCore
import NIOPosix
import SMTPProtocol
import Testing
@testable import SMTPClient

@Suite("Transactions against a scripted server")
struct TransactionTests {
    @Test("pipelined group: mixed RCPT replies, DATA reply, one write")
    func pipelinedMixedRecipients() async throws {
        // The server holds every reply until it has DATA: a client that waited for each reply would hang.
        let script = standardScript { command in
            switch command {
            case "MAIL FROM:<sender@client.test> SIZE=24": return .replyLater("250 2.1.0 ok\r\n")
            case "RCPT TO:<ok@fake.test>": return .replyLater("250 2.1.5 ok\r\n")
            case "RCPT TO:<gone@fake.test>": return .replyLater("550 5.1.1 no such user\r\n")
            case "RCPT TO:<busy@fake.test>": return .replyLater("450 4.2.1 mailbox busy\r\n")
            default: return nil
            }
        }
        try await withFakeServer(script: script) { server in
            let connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, settings: testSettings(timeout: .seconds(5)))
            let result = try await connection.send(message(to: ["ok@fake.test", "gone@fake.test", "busy@fake.test"]))
            #expect(result.mailFrom.code == 250)
            #expect(result.recipients.map(\.code) == [250, 550, 450])
            #expect(result.recipients[1].enhancedCode == "5.1.1")
            #expect(result.recipients[1].isPermanent)
            #expect(result.recipients[2].isTransient)
            #expect(result.data?.code == 250)
            #expect(result.data?.description == "250 2.0.0 queued as 1")
            #expect(result.isDelivered)
            await connection.quit()
            #expect(!connection.isActive)
            #expect(server.received.commands == [
                "EHLO client.test",
                "MAIL FROM:<sender@client.test> SIZE=24",
                "RCPT TO:<ok@fake.test>", "RCPT TO:<gone@fake.test>", "RCPT TO:<busy@fake.test>",
                "DATA", "QUIT",
            ])
            #expect(server.received.messages == [Array("Subject: test\r\n\r\nHello\r\n".utf8)])
        }
    }

    @Test("a pipelined group whose replies exceed the input buffer")
    func largePipelinedGroup() async throws {
        // 2500 replies of ~40 octets: more than the 64 KiB the client holds before it pauses reading.
        let script = standardScript { command in
            guard command.hasPrefix("RCPT TO:<r"), let number = Int(command.dropFirst(10).prefix { $0.isNumber }) else { return nil }
            return .replyLater(number % 3 == 0 ? "550 5.1.1 <r\(number)> unknown user\r\n" : "250 2.1.5 <r\(number)> ok\r\n")
        }
        try await withFakeServer(script: script) { server in
            let connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, settings: testSettings())
            let count = 2500
            let result = try await connection.send(message(to: (0..<count).map { "r\($0)@fake.test" }))
            #expect(result.recipients.count == count)
            #expect(result.recipients.map(\.code) == (0..<count).map { $0 % 3 == 0 ? 550 : 250 })
            #expect(result.recipients[count - 2].lines == ["<r\(count - 2)> ok"])
            #expect(result.recipients[count - 1].lines == ["<r\(count - 1)> unknown user"])
            #expect(result.isDelivered)
            await connection.quit()
        }
    }

    @Test("without PIPELINING: one command at a time")
    func nonPipelined() async throws {
        let script = standardScript(ehlo: ["8BITMIME"]) { command in
            command == "RCPT TO:<gone@fake.test>" ? .reply("550 5.1.1 no such user\r\n") : nil
        }
        try await withFakeServer(pipelining: false, script: script) { server in
            let connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, settings: testSettings())
            #expect(connection.extensions == ["8BITMIME": ""])
            let result = try await connection.send(message(to: ["a@fake.test", "gone@fake.test", "b@fake.test"]))
            #expect(result.recipients.map(\.code) == [250, 550, 250])
            #expect(result.data?.code == 250)
            await connection.quit()
            #expect(!server.received.sawUnrequestedPipelining)
            #expect(server.received.commands.filter { $0.hasPrefix("RCPT") }.count == 3)
        }
    }

    @Test("without PIPELINING: MAIL refused, nothing more is sent")
    func nonPipelinedMailRefused() async throws {
        let script = standardScript(ehlo: []) { command in
            command.hasPrefix("MAIL") ? .reply("553 5.7.1 sender rejected\r\n") : nil
        }
        try await withFakeServer(pipelining: false, script: script) { server in
            let connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, settings: testSettings())
            let result = try await connection.send(message(to: ["a@fake.test", "b@fake.test"]))
            #expect(result.mailFrom.code == 553)
            #expect(result.recipients == [result.mailFrom, result.mailFrom])
            #expect(result.data == nil)
            #expect(!result.isDelivered)
            await connection.quit()
            #expect(server.received.commands == ["EHLO client.test", "MAIL FROM:<sender@client.test>", "QUIT"])
        }
    }

    @Test("pipelined, no recipient accepted: DATA's 503 is not the outcome")
    func pipelinedNoRecipient() async throws {
        let script = standardScript { command in
            if command.hasPrefix("RCPT") { return .reply("550 5.1.1 unknown\r\n") }
            if command == "DATA" { return .reply("554 5.5.1 no valid recipients\r\n") }
            return nil
        }
        try await withFakeServer(script: script) { server in
            let connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, settings: testSettings())
            let result = try await connection.send(message(to: ["x@fake.test"]))
            #expect(result.recipients.map(\.code) == [550])
            #expect(result.data == nil)
            // The connection is still in step: a second transaction works.
            let second = try await connection.send(message(to: ["y@fake.test"]))
            #expect(second.data == nil)
            await connection.quit()
            #expect(server.received.messages.isEmpty)
        }
    }

    @Test("pipelined, DATA taken although no recipient was: a lone dot ends it")
    func pipelinedDataAcceptedWithoutRecipients() async throws {
        let script = standardScript { command in
            command.hasPrefix("RCPT") ? .reply("550 5.1.1 unknown\r\n") : nil
        }
        try await withFakeServer(script: script) { server in
            let connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, settings: testSettings())
            let result = try await connection.send(message(to: ["x@fake.test"]))
            #expect(result.data == nil)
            await connection.quit()
            #expect(server.received.rawMessages == [Array(".\r\n".utf8)])
        }
    }

    @Test("RSET before every transaction but the first")
    func resetBetweenTransactions() async throws {
        try await withFakeServer(script: standardScript(ehlo: ["PIPELINING"])) { server in
            let connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, settings: testSettings())
            let first = try await connection.send(message(to: ["a@fake.test"], body: Array("one\r\n".utf8)))
            let second = try await connection.send(message(to: ["b@fake.test"], body: Array("two\r\n".utf8)))
            #expect(first.isDelivered && second.isDelivered)
            await connection.quit()
            #expect(server.received.commands == [
                "EHLO client.test",
                "MAIL FROM:<sender@client.test>", "RCPT TO:<a@fake.test>", "DATA",
                "RSET",
                "MAIL FROM:<sender@client.test>", "RCPT TO:<b@fake.test>", "DATA",
                "QUIT",
            ])
            #expect(server.received.messages == [Array("one\r\n".utf8), Array("two\r\n".utf8)])
        }
    }

    @Test("concurrent sends are serialised")
    func concurrentSends() async throws {
        try await withFakeServer(script: standardScript()) { server in
            let connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, settings: testSettings())
            let delivered = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<4 {
                    group.addTask {
                        try await connection.send(message(to: ["r\(index)@fake.test"])).isDelivered
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(delivered == [true, true, true, true])
            await connection.quit()
            #expect(server.received.messages.count == 4)
            #expect(server.received.commands.filter { $0 == "RSET" }.count == 3)
        }
    }

    @Test("HELO when EHLO is refused")
    func heloFallback() async throws {
        let script = standardScript { command in
            command.hasPrefix("EHLO") ? .reply("500 5.5.1 command unrecognized\r\n") : nil
        }
        try await withFakeServer(pipelining: false, script: script) { server in
            let connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, settings: testSettings(tls: .opportunistic))
            #expect(connection.extensions.isEmpty)
            #expect(connection.helloReply.code == 250)
            #expect(connection.tls == nil)
            #expect(connection.maxMessageSize == nil)
            let result = try await connection.send(message())
            #expect(result.isDelivered)
            await connection.quit()
            #expect(server.received.commands.prefix(3) == ["EHLO client.test", "HELO client.test", "MAIL FROM:<sender@client.test>"])
            #expect(!server.received.sawUnrequestedPipelining)
        }
    }

    @Test("EHLO and HELO both refused")
    func heloRefused() async throws {
        let script = standardScript { command in
            if command.hasPrefix("EHLO") { return .reply("502 5.5.1 no\r\n") }
            if command.hasPrefix("HELO") { return .reply("550 5.7.1 go away\r\n") }
            return nil
        }
        try await withFakeServer(script: script) { server in
            let error = await clientError {
                _ = try await SMTPClientConnection.connect(host: "127.0.0.1", port: server.port, settings: testSettings())
            }
            guard case .heloRefused(let reply)? = error else {
                Issue.record("expected heloRefused, got \(String(describing: error))")
                return
            }
            #expect(reply.code == 550)
            #expect(error?.isPermanent == true)
        }
    }

    @Test("greeting refused", arguments: [
        ("421 4.3.2 service not available, try later\r\n", false),
        ("554 5.7.1 no SMTP service here\r\n", true),
    ])
    func greetingRefused(greeting: String, permanent: Bool) async throws {
        try await withFakeServer(greeting: greeting, script: standardScript()) { server in
            let error = await clientError {
                _ = try await SMTPClientConnection.connect(host: "127.0.0.1", port: server.port, settings: testSettings())
            }
            guard case .greetingRefused(let reply)? = error else {
                Issue.record("expected greetingRefused, got \(String(describing: error))")
                return
            }
            #expect(reply.code == (permanent ? 554 : 421))
            #expect(error?.isPermanent == permanent)
        }
    }

    @Test("greeting that closes at once after a 421 is still read")
    func greetingThenClose() async throws {
        // A server that writes its 421 and hangs up before the client asks for anything.
        let group = MultiThreadedEventLoopGroup.singleton
        let listener = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(WriteAndClose(text: "421 4.7.0 too busy\r\n"))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(listener.localAddress?.port)
        let error = await clientError {
            _ = try await SMTPClientConnection.connect(host: "127.0.0.1", port: port, settings: testSettings())
        }
        try? await listener.close()
        guard case .greetingRefused(let reply)? = error else {
            Issue.record("expected greetingRefused, got \(String(describing: error))")
            return
        }
        #expect(reply.code == 421)
    }

    @Test("SIZE: a larger message is refused before MAIL; the connection stays usable")
    func sizeTooLarge() async throws {
        try await withFakeServer(script: standardScript(ehlo: ["PIPELINING", "SIZE 1000"])) { server in
            let connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, settings: testSettings())
            #expect(connection.maxMessageSize == 1000)
            var big = message()
            big.size = 2000
            let error = await clientError { _ = try await connection.send(big) }
            #expect(error == .messageTooLarge(limit: 1000))
            #expect(error?.isPermanent == true)
            let small = try await connection.send(message())
            #expect(small.isDelivered)
            await connection.quit()
            // The refused message never started a transaction, so no RSET either.
            #expect(server.received.commands == [
                "EHLO client.test", "MAIL FROM:<sender@client.test> SIZE=24", "RCPT TO:<rcpt@fake.test>", "DATA", "QUIT",
            ])
        }
    }

    @Test("SMTPUTF8 needed but not offered")
    func smtpUTF8NotOffered() async throws {
        try await withFakeServer(script: standardScript(ehlo: ["PIPELINING", "8BITMIME"])) { server in
            let connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, settings: testSettings())
            var flagged = message()
            flagged.smtpUTF8 = true
            #expect(await clientError { _ = try await connection.send(flagged) } == .smtpUTF8NotSupported)
            // A non-ASCII address needs it even when the flag is not set.
            let implicit = message(to: ["jörg@fake.test"])
            #expect(await clientError { _ = try await connection.send(implicit) } == .smtpUTF8NotSupported)
            #expect(SMTPClientError.smtpUTF8NotSupported.isPermanent)
            await connection.quit()
            #expect(server.received.commands == ["EHLO client.test", "QUIT"])
        }
    }

    @Test("SMTPUTF8 and 8BITMIME parameters when offered")
    func smtpUTF8Offered() async throws {
        try await withFakeServer(script: standardScript(ehlo: ["PIPELINING", "8BITMIME", "SMTPUTF8"])) { server in
            let connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, settings: testSettings())
            var utf8 = message(from: "jörg@client.test", to: ["zoë@fake.test"], body: Array("Subject: ü\r\n\r\nä\r\n".utf8))
            utf8.eightBit = true
            utf8.smtpUTF8 = true
            #expect(try await connection.send(utf8).isDelivered)
            await connection.quit()
            #expect(server.received.commands.contains("MAIL FROM:<jörg@client.test> BODY=8BITMIME SMTPUTF8"))
            #expect(server.received.commands.contains("RCPT TO:<zoë@fake.test>"))
            #expect(server.received.messages == [Array("Subject: ü\r\n\r\nä\r\n".utf8)])
        }
    }

    @Test("DSN parameters only when DSN is offered", arguments: [true, false])
    func dsnParameters(offered: Bool) async throws {
        let ehlo = ["PIPELINING", "SIZE"] + (offered ? ["DSN"] : [])
        try await withFakeServer(script: standardScript(ehlo: ehlo)) { server in
            let connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, settings: testSettings())
            #expect(connection.maxMessageSize == nil)  // SIZE without a number: no limit
            var dsnMessage = message()
            dsnMessage.recipients = [
                SMTPOutgoingRecipient(address: "r@fake.test", notify: "success,failure", originalRecipient: "rfc822;r+x=y@fake.test"),
                SMTPOutgoingRecipient(address: "s@fake.test", notify: "NEVER"),
            ]
            dsnMessage.ret = "hdrs"
            dsnMessage.envelopeID = "id+1 =x"
            #expect(try await connection.send(dsnMessage).isDelivered)
            await connection.quit()
            let expected = offered
                ? ["MAIL FROM:<sender@client.test> SIZE=24 RET=HDRS ENVID=id+2B1+20+3Dx",
                   "RCPT TO:<r@fake.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;r+2Bx+3Dy@fake.test",
                   "RCPT TO:<s@fake.test> NOTIFY=NEVER", "DATA"]
                : ["MAIL FROM:<sender@client.test> SIZE=24", "RCPT TO:<r@fake.test>", "RCPT TO:<s@fake.test>", "DATA"]
            #expect(Array(server.received.commands.dropFirst().prefix(4)) == expected)
        }
    }

    @Test("null reverse-path")
    func nullSender() async throws {
        try await withFakeServer(script: standardScript(ehlo: ["PIPELINING"])) { server in
            let connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, settings: testSettings())
            #expect(try await connection.send(message(from: "")).isDelivered)
            await connection.quit()
            #expect(server.received.commands[1] == "MAIL FROM:<>")
        }
    }

    @Test("dot-stuffing, prefix, and lines that start with dots")
    func dotStuffing() async throws {
        try await withFakeServer(script: standardScript()) { server in
            let connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, settings: testSettings())
            let prefix = Array("DKIM-Signature: v=1\r\n".utf8)
            let body = Array(".starts with a dot\r\nmiddle\r\n..two dots\r\n.\r\nend\r\n".utf8)
            #expect(try await connection.send(message(body: body, prefix: prefix)).isDelivered)
            await connection.quit()
            let raw = "DKIM-Signature: v=1\r\n..starts with a dot\r\nmiddle\r\n...two dots\r\n..\r\nend\r\n.\r\n"
            #expect(server.received.rawMessages == [Array(raw.utf8)])
            #expect(server.received.messages == [prefix + body])
        }
    }

    @Test("body without a final CRLF gets one", arguments: ["no newline", "ends with CR\r", ""])
    func bodyWithoutFinalCRLF(text: String) async throws {
        try await withFakeServer(script: standardScript()) { server in
            let connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, settings: testSettings())
            #expect(try await connection.send(message(body: Array(text.utf8))).isDelivered)
            await connection.quit()
            let expected: String
            switch text {
            case "": expected = ""
            case "ends with CR\r": expected = "ends with CR\r\n"
            default: expected = text + "\r\n"
            }
            #expect(server.received.messages == [Array(expected.utf8)])
        }
    }

    @Test("multi-line replies")
    func multiLineReplies() async throws {
        let script = standardScript { command in
            if command == "RCPT TO:<gone@fake.test>" {
                return .reply("550-5.1.1 The email account that you tried to reach does not exist.\r\n550 5.1.1 Please check the address.\r\n")
            }
            if command == FakeSMTPServer.endOfData { return .reply("250-2.0.0 accepted\r\n250-2.0.0 id 42\r\n250 2.0.0 thanks\r\n") }
            return nil
        }
        try await withFakeServer(script: script) { server in
            let connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, settings: testSettings())
            #expect(connection.helloReply.lines.count == 5)
            #expect(connection.extensions == ["PIPELINING": "", "SIZE": "10000000", "8BITMIME": "", "ENHANCEDSTATUSCODES": ""])
            let result = try await connection.send(message(to: ["gone@fake.test", "ok@fake.test"]))
            let refused = result.recipients[0]
            #expect(refused.code == 550)
            #expect(refused.enhancedCode == "5.1.1")
            #expect(refused.lines == ["The email account that you tried to reach does not exist.", "Please check the address."])
            #expect(refused.description
                == "550 5.1.1 The email account that you tried to reach does not exist. / Please check the address.")
            #expect(result.data?.lines == ["accepted", "id 42", "thanks"])
            await connection.quit()
        }
    }

    @Test("overlong reply line and too many lines are protocol violations", arguments: [
        "250 " + String(repeating: "x", count: 5000) + "\r\n",
        String(repeating: "250-line\r\n", count: 600) + "250 last\r\n",
        "250-start\r\n251 wrong code\r\n",
        "hello there\r\n",
    ])
    func protocolViolations(ehlo: String) async throws {
        let script = standardScript { command in command.hasPrefix("EHLO") ? .reply(ehlo) : nil }
        try await withFakeServer(script: script) { server in
            let error = await clientError {
                _ = try await SMTPClientConnection.connect(host: "127.0.0.1", port: server.port, settings: testSettings())
            }
            guard case .protocolViolation? = error else {
                Issue.record("expected protocolViolation, got \(String(describing: error))")
                return
            }
        }
    }

    @Test("overlong line without LF fails without waiting for the timeout")
    func overlongUnterminated() async throws {
        let script = standardScript { command in
            command.hasPrefix("EHLO") ? .reply(String(repeating: "y", count: 10_000)) : nil
        }
        try await withFakeServer(script: script) { server in
            let start = ContinuousClock.now
            let error = await clientError {
                _ = try await SMTPClientConnection.connect(
                    host: "127.0.0.1", port: server.port, settings: testSettings(timeout: .seconds(20)))
            }
            guard case .protocolViolation? = error else {
                Issue.record("expected protocolViolation, got \(String(describing: error))")
                return
            }
            #expect(ContinuousClock.now - start < .seconds(10))
        }
    }

    @Test("a server that stops answering: timeout, connection closed")
    func commandTimeout() async throws {
        let script = standardScript { command in command.hasPrefix("MAIL") ? .silence : nil }
        try await withFakeServer(script: script) { server in
            let connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, settings: testSettings(timeout: .milliseconds(300)))
            let start = ContinuousClock.now
            let error = await clientError { _ = try await connection.send(message()) }
            let elapsed = ContinuousClock.now - start
            guard case .timeout? = error else {
                Issue.record("expected timeout, got \(String(describing: error))")
                return
            }
            #expect(error?.isPermanent == false)
            #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(5))
            try await Task.sleep(for: .milliseconds(100))
            #expect(!connection.isActive)
            // Later use fails at once.
            guard case .connectionClosed? = await clientError({ _ = try await connection.send(message()) }) else {
                Issue.record("expected connectionClosed after the timeout")
                return
            }
        }
    }

    @Test("no greeting: greeting timeout")
    func greetingTimeout() async throws {
        try await withFakeServer(greeting: nil, script: standardScript()) { server in
            var settings = testSettings()
            settings.greetingTimeout = .milliseconds(300)
            let start = ContinuousClock.now
            let error = await clientError {
                _ = try await SMTPClientConnection.connect(host: "127.0.0.1", port: server.port, settings: settings)
            }
            #expect(error == .timeout("greeting"))
            #expect(ContinuousClock.now - start < .seconds(5))
        }
    }

    @Test("DATA termination timeout")
    func dataTerminationTimeout() async throws {
        let script = standardScript { command in command == FakeSMTPServer.endOfData ? .silence : nil }
        try await withFakeServer(script: script) { server in
            var settings = testSettings()
            settings.dataTerminationTimeout = .milliseconds(300)
            let connection = try await SMTPClientConnection.connect(host: "127.0.0.1", port: server.port, settings: settings)
            let error = await clientError { _ = try await connection.send(message()) }
            #expect(error == .timeout("end of data"))
        }
    }

    @Test("the server hangs up in the middle of a transaction")
    func serverCloses() async throws {
        let script = standardScript(ehlo: []) { command in
            command.hasPrefix("RCPT") ? .replyAndClose("421 4.3.0 shutting down\r\n") : nil
        }
        try await withFakeServer(pipelining: false, script: script) { server in
            let connection = try await SMTPClientConnection.connect(host: "127.0.0.1", port: server.port, settings: testSettings())
            // The 421 to the first RCPT is read; the second RCPT finds the connection gone.
            let error = await clientError { _ = try await connection.send(message(to: ["a@fake.test", "b@fake.test"])) }
            guard case .connectionClosed? = error else {
                Issue.record("expected connectionClosed, got \(String(describing: error))")
                return
            }
            #expect(server.received.commands.last == "RCPT TO:<a@fake.test>")
        }
    }

    @Test("connection refused")
    func connectionRefused() async throws {
        // Bind a port, then free it: nothing listens there.
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(listener.localAddress?.port)
        try await listener.close()
        let error = await clientError {
            _ = try await SMTPClientConnection.connect(host: "127.0.0.1", port: port, settings: testSettings())
        }
        guard case .connectFailed? = error else {
            Issue.record("expected connectFailed, got \(String(describing: error))")
            return
        }
        #expect(error?.isPermanent == false)
    }

    @Test("required TLS without STARTTLS on offer")
    func requiredTLSUnavailable() async throws {
        try await withFakeServer(script: standardScript()) { server in
            let error = await clientError {
                _ = try await SMTPClientConnection.connect(host: "127.0.0.1", port: server.port, settings: testSettings(tls: .required))
            }
            #expect(error == .tlsUnavailable)
            let received = await server.received { $0.commands.count >= 2 }
            #expect(received.commands == ["EHLO client.test", "QUIT"])
        }
    }

    @Test("STARTTLS refused: required fails, opportunistic goes on in plaintext")
    func startTLSRefused() async throws {
        let script = standardScript(ehlo: ["PIPELINING", "STARTTLS"]) { command in
            command == "STARTTLS" ? .reply("454 4.7.0 TLS not available\r\n") : nil
        }
        try await withFakeServer(script: script) { server in
            let error = await clientError {
                _ = try await SMTPClientConnection.connect(host: "127.0.0.1", port: server.port, settings: testSettings(tls: .required))
            }
            guard case .startTLSRefused(let reply)? = error else {
                Issue.record("expected startTLSRefused, got \(String(describing: error))")
                return
            }
            #expect(reply.code == 454)

            let connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, settings: testSettings(tls: .opportunistic))
            #expect(connection.tls == nil)
            #expect(try await connection.send(message()).isDelivered)
            await connection.quit()
        }
    }

    @Test("credentials are never sent in plaintext")
    func noAuthWithoutTLS() async throws {
        try await withFakeServer(script: standardScript(ehlo: ["PIPELINING", "AUTH PLAIN LOGIN"])) { server in
            var settings = testSettings(tls: .opportunistic)
            settings.credentials = SMTPClientCredentials(username: "user", password: "secret")
            let error = await clientError {
                _ = try await SMTPClientConnection.connect(host: "127.0.0.1", port: server.port, settings: settings)
            }
            guard case .authenticationUnavailable? = error else {
                Issue.record("expected authenticationUnavailable, got \(String(describing: error))")
                return
            }
            #expect(!server.received.commands.contains { $0.hasPrefix("AUTH") })
            #expect(!settings.credentials!.description.contains("secret"))
        }
    }

    @Test("values that would inject commands are refused before anything is sent")
    func injectionRefused() async throws {
        try await withFakeServer(script: standardScript(ehlo: ["PIPELINING", "DSN"])) { server in
            let connection = try await SMTPClientConnection.connect(host: "127.0.0.1", port: server.port, settings: testSettings())
            for bad in [message(from: "a@b\r\nRCPT TO:<x@y>"), message(to: ["x@y>\r\nDATA"]), message(to: [])] {
                guard case .invalidArgument? = await clientError({ _ = try await connection.send(bad) }) else {
                    Issue.record("expected invalidArgument")
                    continue
                }
            }
            var badNotify = message()
            badNotify.recipients[0].notify = "SUCCESS\r\nQUIT"
            var badORCPT = message()
            badORCPT.recipients[0].originalRecipient = "rfc 822;x@y"
            var badRET = message()
            badRET.ret = "ALL"
            for bad in [badNotify, badORCPT, badRET] {
                guard case .invalidArgument? = await clientError({ _ = try await connection.send(bad) }) else {
                    Issue.record("expected invalidArgument")
                    continue
                }
            }
            #expect(try await connection.send(message()).isDelivered)
            await connection.quit()
            #expect(server.received.commands.count(where: { $0.hasPrefix("MAIL") }) == 1)
        }
        var settings = testSettings()
        settings.heloName = "bad name\r\nMAIL FROM:<x>"
        let error = await clientError {
            _ = try await SMTPClientConnection.connect(host: "127.0.0.1", port: 1, settings: settings)
        }
        guard case .invalidArgument? = error else {
            Issue.record("expected invalidArgument for the HELO name, got \(String(describing: error))")
            return
        }
    }

    @Test("message body from a file")
    func fileBody() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("message.eml").path
        let content = Array("Subject: file\r\n\r\n.dot\r\nbody".utf8)
        try Data(content).write(to: URL(fileURLWithPath: path))
        try await withFakeServer(script: standardScript()) { server in
            let connection = try await SMTPClientConnection.connect(host: "127.0.0.1", port: server.port, settings: testSettings())
            let fileMessage = SMTPOutgoingMessage(
                sender: "s@client.test", recipients: [SMTPOutgoingRecipient(address: "r@fake.test")],
                body: .file(path: path), size: Int64(content.count))
            #expect(try await connection.send(fileMessage).isDelivered)
            // A missing file is reported before MAIL; the connection stays usable.
            var missing = fileMessage
            missing.body = .file(path: directory.appendingPathComponent("missing").path)
            guard case .messageUnreadable? = await clientError({ _ = try await connection.send(missing) }) else {
                Issue.record("expected messageUnreadable")
                return
            }
            #expect(try await connection.send(fileMessage).isDelivered)
            await connection.quit()
            #expect(server.received.messages == [content + [13, 10], content + [13, 10]])
            #expect(server.received.commands.count(where: { $0.hasPrefix("MAIL") }) == 2)
        }
    }

    @Test("a 20 MB file streams through intact")
    func largeFileBody() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("large.eml").path
        // Lines of varying length, some starting with dots, so stuffing falls across block boundaries.
        var content: [UInt8] = []
        content.reserveCapacity(20 * 1024 * 1024 + 200)
        var state: UInt32 = 12345
        var lineNumber = 0
        while content.count < 20 * 1024 * 1024 {
            state = state &* 1_103_515_245 &+ 12345
            let length = Int(state >> 16) % 190
            if lineNumber % 7 == 0 { content.append(UInt8(ascii: ".")) }
            for index in 0..<length { content.append(UInt8(truncatingIfNeeded: 0x41 + (index + lineNumber) % 26)) }
            content.append(13)
            content.append(10)
            lineNumber += 1
        }
        try Data(content).write(to: URL(fileURLWithPath: path))
        let script = standardScript(ehlo: ["PIPELINING", "SIZE 50000000"])
        try await withFakeServer(keepRaw: false, script: script) { server in
            let connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: server.port, settings: testSettings(timeout: .seconds(60)))
            let fileMessage = SMTPOutgoingMessage(
                sender: "s@client.test", recipients: [SMTPOutgoingRecipient(address: "r@fake.test")],
                body: .file(path: path), size: Int64(content.count))
            #expect(try await connection.send(fileMessage).isDelivered)
            await connection.quit()
            let received = server.received.messages
            #expect(received.count == 1)
            #expect(received.first?.count == content.count)
            #expect(received.first == content)
        }
    }
}

/// Writes its text as soon as the connection is up, then closes.
private final class WriteAndClose: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let text: String

    init(text: String) {
        self.text = text
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

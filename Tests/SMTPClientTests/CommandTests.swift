import Testing
@testable import SMTPClient

@Suite("Command lines and EHLO parsing")
struct CommandTests {
    private func extensions(_ keywords: [String]) -> ServerExtensions {
        ServerExtensions(ehloReply: SMTPClientReply(code: 250, lines: ["mx.example greets you"] + keywords))
    }

    @Test("EHLO keywords are upper-cased, parameters kept")
    func ehloParsing() {
        let parsed = extensions(["pipelining", "SIZE 35882577", "auth login  PLAIN xoauth2", "8BITMIME", "", "X-Vendor a b"])
        #expect(parsed.keywords == [
            "PIPELINING": "", "SIZE": "35882577", "AUTH": "login PLAIN xoauth2", "8BITMIME": "", "X-VENDOR": "a b",
        ])
        #expect(parsed.pipelining && parsed.eightBitMIME && !parsed.dsn && !parsed.startTLS)
        #expect(parsed.maximumMessageSize == 35_882_577)
        #expect(parsed.authMechanisms == ["LOGIN", "PLAIN", "XOAUTH2"])
    }

    @Test("SIZE without a usable number declares no limit", arguments: ["SIZE", "SIZE 0", "SIZE -5", "SIZE lots"])
    func sizeWithoutLimit(line: String) {
        let parsed = extensions([line])
        #expect(parsed.size)
        #expect(parsed.maximumMessageSize == nil)
    }

    @Test("MAIL and RCPT parameters follow the extensions")
    func parameters() throws {
        var outgoing = SMTPOutgoingMessage(
            sender: "a@b.example",
            recipients: [SMTPOutgoingRecipient(address: "c@d.example", notify: "delay,failure", originalRecipient: "C@D.example")],
            body: .bytes([]), size: 1234, envelopeID: "q1", ret: "full", eightBit: true)
        let all = try TransactionCommands(message: outgoing, extensions: extensions(["SIZE 9999", "8BITMIME", "DSN"]))
        #expect(all.mail == "MAIL FROM:<a@b.example> SIZE=1234 BODY=8BITMIME RET=FULL ENVID=q1\r\n")
        #expect(all.recipients == ["RCPT TO:<c@d.example> NOTIFY=DELAY,FAILURE ORCPT=rfc822;C@D.example\r\n"])

        let none = try TransactionCommands(message: outgoing, extensions: ServerExtensions())
        #expect(none.mail == "MAIL FROM:<a@b.example>\r\n")
        #expect(none.recipients == ["RCPT TO:<c@d.example>\r\n"])

        outgoing.recipients[0].originalRecipient = "utf-8;jörg@d.example"
        let utf8 = try TransactionCommands(message: outgoing, extensions: extensions(["DSN"]))
        #expect(utf8.recipients == ["RCPT TO:<c@d.example> NOTIFY=DELAY,FAILURE ORCPT=utf-8;j+C3+B6rg@d.example\r\n"])
    }

    @Test("invalid NOTIFY values", arguments: ["", "NEVER,SUCCESS", "SUCCESS,SUCCESS", "sometimes", "SUCCESS,"])
    func invalidNotify(value: String) {
        #expect(throws: SMTPClientError.self) { try TransactionCommands.notifyValue(value) }
    }

    @Test("valid NOTIFY values", arguments: [("never", "NEVER"), ("Success", "SUCCESS"), ("failure,delay,success", "FAILURE,DELAY,SUCCESS")])
    func validNotify(value: String, expected: String) throws {
        #expect(try TransactionCommands.notifyValue(value) == expected)
    }

    @Test("invalid ORCPT values", arguments: [";x@y", "rfc822;", "rfc 822;x@y"])
    func invalidORCPT(value: String) {
        #expect(throws: SMTPClientError.self) { try TransactionCommands.originalRecipientValue(value) }
    }

    @Test("reply description and classes")
    func replyDescription() {
        let multi = SMTPClientReply(code: 550, enhancedCode: "5.1.1", lines: ["no such user", "check the address"])
        #expect(multi.description == "550 5.1.1 no such user / check the address")
        #expect(multi.isPermanent && !multi.isTransient && !multi.isPositive)
        #expect(SMTPClientReply(code: 354, lines: ["go ahead"]).isPositive)
        #expect(SMTPClientReply(code: 421, lines: []).description == "421")
        #expect(SMTPClientReply(code: 421, lines: []).isTransient)
    }

    @Test("which errors are permanent")
    func permanence() {
        let permanentReply = SMTPClientReply(code: 554, lines: ["no"])
        let transientReply = SMTPClientReply(code: 421, lines: ["later"])
        #expect(SMTPClientError.greetingRefused(permanentReply).isPermanent)
        #expect(!SMTPClientError.greetingRefused(transientReply).isPermanent)
        #expect(SMTPClientError.heloRefused(permanentReply).isPermanent)
        #expect(SMTPClientError.authenticationFailed(SMTPClientReply(code: 535, lines: [])).isPermanent)
        #expect(!SMTPClientError.authenticationFailed(SMTPClientReply(code: 454, lines: [])).isPermanent)
        #expect(SMTPClientError.messageTooLarge(limit: 10).isPermanent)
        #expect(SMTPClientError.smtpUTF8NotSupported.isPermanent)
        #expect(!SMTPClientError.startTLSRefused(permanentReply).isPermanent)
        #expect(!SMTPClientError.timeout("x").isPermanent)
        #expect(!SMTPClientError.tlsUnavailable.isPermanent)
        #expect(!SMTPClientError.protocolViolation("x").isPermanent)
    }

    @Test("SNI only for host names")
    func serverNameIndication() {
        #expect(SMTPClientConnection.serverNameIndication("mx.example.org.") == "mx.example.org")
        #expect(SMTPClientConnection.serverNameIndication("mx.example.org") == "mx.example.org")
        #expect(SMTPClientConnection.serverNameIndication("192.0.2.1") == nil)
        #expect(SMTPClientConnection.serverNameIndication("2001:db8::1") == nil)
    }
}

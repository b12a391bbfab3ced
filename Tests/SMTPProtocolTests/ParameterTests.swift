import Testing
@testable import SMTPProtocol

@Suite("MAIL and RCPT parameters, xtext")
struct ParameterTests {
    private func mailParams(_ parameters: String) -> Result<MailParameters, SMTPSyntaxError> {
        parse("MAIL FROM:<a@b.example> \(parameters)").map { command in
            if case .mail(_, let params) = command { return params }
            return MailParameters(envelopeID: "unexpected command")
        }
    }

    private func rcptParams(_ parameters: String) -> Result<RcptParameters, SMTPSyntaxError> {
        parse("RCPT TO:<a@b.example> \(parameters)").map { command in
            if case .rcpt(_, let params) = command { return params }
            return RcptParameters(notify: .never)
        }
    }

    @Test("SIZE (RFC 1870)")
    func size() {
        #expect(mailParams("SIZE=0").success?.size == 0)
        #expect(mailParams("size=1048576").success?.size == 1_048_576)
        #expect(mailParams("SIZE=99999999999999999999").success?.size == Int.max)  // 20 digits saturate
        for bad in ["SIZE", "SIZE=abc", "SIZE=-1", "SIZE=1.5", "SIZE=123456789012345678901"] {
            let error = mailParams(bad).failure
            #expect(error?.reply.code == 501 && error?.reply.enhancedCode == EnhancedStatusCode(5, 5, 4), "\(bad)")
        }
    }

    @Test("BODY (RFC 6152, RFC 3030)")
    func body() {
        #expect(mailParams("BODY=7BIT").success?.body == .sevenBit)
        #expect(mailParams("BODY=8bitmime").success?.body == .eightBitMIME)
        #expect(mailParams("body=BinaryMIME").success?.body == .binaryMIME)
        #expect(mailParams("BODY=8BIT").failure?.reply.code == 501)
        #expect(mailParams("BODY").failure?.reply.code == 501)
    }

    @Test("SMTPUTF8 (RFC 6531) takes no value")
    func smtputf8() {
        #expect(mailParams("SMTPUTF8").success?.smtpUTF8 == true)
        #expect(mailParams("smtputf8").success?.smtpUTF8 == true)
        #expect(mailParams("SIZE=1").success?.smtpUTF8 == false)
        #expect(mailParams("SMTPUTF8=yes").failure?.reply.code == 501)
    }

    @Test("RET and ENVID (RFC 3461)")
    func dsnMail() {
        #expect(mailParams("RET=FULL").success?.ret == .full)
        #expect(mailParams("ret=hdrs").success?.ret == .headers)
        #expect(mailParams("RET=NONE").failure?.reply.code == 501)
        #expect(mailParams("ENVID=QQ314159").success?.envelopeID == "QQ314159")
        #expect(mailParams("ENVID=a+2Bb+3Dc+20d").success?.envelopeID == "a+b=c d")
        #expect(mailParams("ENVID=\(String(repeating: "x", count: 100))").success?.envelopeID?.count == 100)
        for bad in ["ENVID=\(String(repeating: "x", count: 101))", "ENVID=a+0Ab", "ENVID=a+C3+A9", "ENVID=a+", "ENVID=a+4", "ENVID=a+GG", "ENVID"] {
            #expect(mailParams(bad).failure?.reply.code == 501, "\(bad)")
        }
    }

    @Test("AUTH= on MAIL (RFC 4954 §5)")
    func authParameter() {
        #expect(mailParams("AUTH=<>").success?.auth == .unknown)
        #expect(mailParams("AUTH=e+3Dmc2@example.com").success?.auth == .identity("e=mc2@example.com"))
        #expect(mailParams("AUTH=bad+ZZ").failure?.reply.code == 501)
        #expect(mailParams("AUTH=a+00b").failure?.reply.code == 501)
    }

    @Test("all MAIL parameters together, in any order and case, with runs of spaces")
    func combined() {
        let params = mailParams("smtputf8  BODY=8BITMIME SIZE=500 ENVID=id1 RET=HDRS AUTH=<>  ").success
        #expect(params == MailParameters(size: 500, body: .eightBitMIME, smtpUTF8: true, ret: .headers, envelopeID: "id1", auth: .unknown))
    }

    @Test("unknown and misplaced parameters are 555 5.5.4; duplicates and junk are 501 5.5.4")
    func unknownParameters() {
        for unknown in ["FOO=bar", "XFORWARD", "NOTIFY=NEVER", "ORCPT=rfc822;a@b"] {
            let error = mailParams(unknown).failure
            #expect(error?.reply.code == 555 && error?.reply.enhancedCode == EnhancedStatusCode(5, 5, 4), "\(unknown)")
        }
        #expect(mailParams("FOO=bar").failure == .unrecognizedParameter(keyword: "FOO"))
        #expect(mailParams("foo-bar").failure == .unrecognizedParameter(keyword: "FOO-BAR"))
        #expect(rcptParams("SIZE=10").failure == .unrecognizedParameter(keyword: "SIZE"))
        #expect(rcptParams("SMTPUTF8").failure?.reply.code == 555)
        #expect(SMTPSyntaxError.unrecognizedParameter(keyword: "FOO").reply.encode() == bytes("555 5.5.4 Unsupported parameter FOO\r\n"))

        for junk in ["SIZE=1 SIZE=2", "=x", "-FOO", "A=", "A=b=c", "SIZE=1\u{7F}"] {
            let error = mailParams(junk).failure
            #expect(error?.reply.code == 501 && error?.reply.enhancedCode == EnhancedStatusCode(5, 5, 4), "\(junk)")
        }
        #expect(parse(bytes("MAIL FROM:<a@b.example> SIZE=1") + [0x09] + bytes("BODY=7BIT")).failure?.reply.code == 501)
    }

    @Test("NOTIFY (RFC 3461 §4.1)")
    func notify() {
        #expect(rcptParams("NOTIFY=NEVER").success?.notify == .never)
        #expect(rcptParams("NOTIFY=SUCCESS,FAILURE,DELAY").success?.notify == .on([.success, .failure, .delay]))
        #expect(rcptParams("notify=failure").success?.notify == .on(.failure))
        #expect(rcptParams("NOTIFY=delay,success").success?.notify == .on([.delay, .success]))
        for bad in ["NOTIFY=NEVER,SUCCESS", "NOTIFY=SUCCESS,,FAILURE", "NOTIFY=SUCCESS,", "NOTIFY=ALWAYS", "NOTIFY", "NOTIFY=NEVER NOTIFY=NEVER"] {
            #expect(rcptParams(bad).failure?.reply.code == 501, "\(bad)")
        }
        #expect(DSNNotify.on([.delay, .success]).encoded == "SUCCESS,DELAY")
    }

    @Test("ORCPT (RFC 3461 §4.2)")
    func orcpt() throws {
        let recipient = try #require(rcptParams("ORCPT=rfc822;user+2Btag@example.com").success?.originalRecipient)
        #expect(recipient.addressType == "rfc822")
        #expect(recipient.address == "user+tag@example.com")
        #expect(recipient.encoded == "rfc822;user+2Btag@example.com")
        let utf8 = try #require(rcptParams("ORCPT=utf-8;j+C3+BCrgen@example.com").success?.originalRecipient)
        #expect(utf8.address == "jürgen@example.com")
        let both = rcptParams("ORCPT=rfc822;a@b.example NOTIFY=SUCCESS").success
        #expect(both?.notify == .on(.success) && both?.originalRecipient?.address == "a@b.example")
        let longest = "ORCPT=rfc822;" + String(repeating: "a", count: 493)  // 500 characters
        #expect(rcptParams(longest).success?.originalRecipient?.address.count == 493)
        let tooLong = longest + "a"
        #expect(rcptParams(tooLong).failure?.reply.code == 501)
        for bad in ["ORCPT=rfc822", "ORCPT=;a@b", "ORCPT=rfc822;", "ORCPT=rf c822;a@b", "ORCPT=rfc822;a+0Db", "ORCPT=rfc822;a+FFb", "ORCPT=rfc822;a+2"] {
            #expect(rcptParams(bad).failure?.reply.code == 501, "\(bad)")
        }
        #expect(OriginalRecipient(addressType: "rfc 822", address: "a@b") == nil)
        #expect(OriginalRecipient(addressType: "rfc822", address: String(repeating: "+", count: 200)) == nil)  // 600 encoded
    }

    @Test("xtext decodes the RFC 3461 examples and refuses malformed input")
    func xtextVectors() {
        #expect(XText.decode(bytes("QQ314159")) == bytes("QQ314159"))
        #expect(XText.decode(bytes("+2B+3D")) == bytes("+="))
        #expect(XText.decode(bytes("a+2bb")) == bytes("a+b"))  // lower-case hex accepted
        #expect(XText.decode(bytes("")) == [])
        for bad in ["+", "+2", "+G0", "a=b", "a b", "\u{7F}", "é"] {
            #expect(XText.decode(bytes(bad)) == nil, "\(bad)")
        }
        #expect(XText.encode(bytes("a+b=c d\u{7F}")) == "a+2Bb+3Dc+20d+7F")
        #expect(XText.encode("ü") == "+C3+BC")
    }

    @Test("xtext round-trips every byte value")
    func xtextRoundTrip() {
        let all = (0...255).map { UInt8($0) }
        let encoded = XText.encode(all)
        #expect(encoded.utf8.allSatisfy { $0 >= 33 && $0 <= 126 && $0 != UInt8(ascii: "=") })
        #expect(XText.decode(Array(encoded.utf8)) == all)
        var rng = SplitMix64(seed: 3461)
        for _ in 0..<200 {
            let length = Int.random(in: 0...40, using: &rng)
            let data = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(XText.decode(Array(XText.encode(data).utf8)) == data)
        }
    }
}

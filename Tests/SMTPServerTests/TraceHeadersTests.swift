import Foundation
import SMTPServer
import Testing

@Suite struct TraceHeadersTests {
    @Test func protocolNames() {
        typealias T = TraceHeaders.Transport
        #expect(T(extended: false, authenticated: false, utf8: false).protocolName == "SMTP")
        #expect(T(extended: true, authenticated: false, utf8: false).protocolName == "ESMTP")
        #expect(T(extended: true, authenticated: false, utf8: false, tlsVersion: "TLSv1.3").protocolName == "ESMTPS")
        #expect(T(extended: true, authenticated: true, utf8: false, tlsVersion: "TLSv1.3").protocolName == "ESMTPSA")
        #expect(T(extended: true, authenticated: true, utf8: false).protocolName == "ESMTPA")
        #expect(T(extended: true, authenticated: true, utf8: true, tlsVersion: "TLSv1.2").protocolName == "UTF8SMTPSA")
    }

    @Test func receivedHeaderLayout() {
        let date = Date(timeIntervalSince1970: 1_796_000_000)
        let header = String(decoding: TraceHeaders.received(
            helo: "client.example.org", clientAddress: nil, hostname: "mx.example.test",
            transport: .init(extended: true, authenticated: false, utf8: false, tlsVersion: "TLSv1.3", tlsCipher: "TLS_AES_128_GCM_SHA256"),
            id: "abc", recipient: "user@example.test", date: date), as: UTF8.self)
        #expect(header == "Received: from client.example.org\r\n\tby mx.example.test (Skjold) with ESMTPS id abc\r\n"
            + "\t(version=TLSv1.3 cipher=TLS_AES_128_GCM_SHA256)\r\n\tfor <user@example.test>;\r\n\t"
            + TraceHeaders.rfc5322Date(date) + "\r\n")
        let withAddress = String(decoding: TraceHeaders.received(
            helo: "h", clientAddress: "2001:db8::1", hostname: "mx", transport: .init(extended: true, authenticated: false, utf8: false),
            id: "i", recipient: nil, date: date), as: UTF8.self)
        #expect(withAddress.hasPrefix("Received: from h ([IPv6:2001:db8::1])\r\n"))
    }

    @Test func clientTextCannotInjectHeaders() {
        let header = String(decoding: TraceHeaders.received(
            helo: "evil\r\nBcc: victim@example.org", clientAddress: nil, hostname: "mx",
            transport: .init(extended: true, authenticated: false, utf8: false), id: "i", recipient: nil, date: Date()), as: UTF8.self)
        #expect(!header.contains("\r\nBcc:"))
        #expect(TraceHeaders.returnPath("a\r\nb@x") == Array("Return-Path: <ab@x>\r\n".utf8))
    }

    @Test func dateFormat() {
        // 2026-11-29 08:00:00 UTC was a Sunday.
        let date = ISO8601DateFormatter().date(from: "2026-11-29T08:00:00Z")!
        #expect(TraceHeaders.rfc5322Date(date) == "Sun, 29 Nov 2026 08:00:00 +0000")
        let early = ISO8601DateFormatter().date(from: "2027-01-03T07:05:09Z")!
        #expect(TraceHeaders.rfc5322Date(early) == "Sun, 03 Jan 2027 07:05:09 +0000")
    }
}

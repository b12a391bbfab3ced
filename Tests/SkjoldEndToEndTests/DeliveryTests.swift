import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Outbound delivery as a user and an admin meet it: mail submitted over the real submission port
/// reaches a loopback receiver (Python aiosmtpd) over STARTTLS with a DKIM signature dkimpy verifies;
/// the queue survives a receiver that is down, answers 4xx or 5xx, and a restart; MX resolution against a
/// loopback DNS server (dnslib).
enum DeliveryTestSupport {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let sinkScript = repository.appendingPathComponent("scripts/testing/smtp_sink.py").path
    static let dnsScript = repository.appendingPathComponent("scripts/testing/dns_server.py").path

    /// python3 with aiosmtpd, dnslib and dkimpy (+ PyNaCl for Ed25519), and openssl for the receiver's certificate.
    static let available: Bool = {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import aiosmtpd, dnslib, dkim, nacl"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            print("delivery tests skipped: python3 -c 'import aiosmtpd, dnslib, dkim, nacl' failed (pip install aiosmtpd dnslib dkimpy pynacl)")
        }
        return process.terminationStatus == 0
    }()

    /// A loopback TCP port nobody listens on right now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ChildTimeout(what: "socket()") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw ChildTimeout(what: "bind()") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A Python helper started in the background and waited for until it prints "ready".
    final class Helper: @unchecked Sendable {
        // @unchecked: immutable after init; Process is only signalled.
        let process: Process
        let stdout: OutputCollector
        let stderr: OutputCollector

        init(_ arguments: [String], in directory: URL) async throws {
            (process, stdout, stderr) = try Child.launch(URL(fileURLWithPath: "/usr/bin/env"), ["python3"] + arguments, in: directory)
            let ready = await eventually(timeout: .seconds(15)) { stdout.lines.contains { $0.text.hasPrefix("ready") } }
            guard ready else {
                stop()
                throw ChildTimeout(what: "\(arguments.first ?? "helper") ready; stderr: \(stderr.text)")
            }
        }

        func stop() {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    /// The receiver: messages land in `out` as NNNNNN.eml + NNNNNN.json.
    struct Sink {
        let helper: Helper
        let out: URL
        let port: Int

        static func start(in scratch: Scratch, port: Int, name: String = "sink", tls: Bool = true) async throws -> Sink {
            let out = scratch.url.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            var arguments = [sinkScript, out.path, String(port)]
            if tls {
                let key = scratch.url.appendingPathComponent("sink-key.pem").path
                let cert = scratch.url.appendingPathComponent("sink-cert.pem").path
                if !FileManager.default.fileExists(atPath: cert) {
                    let made = try await Child.run(URL(fileURLWithPath: "/usr/bin/openssl"), [
                        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=sink.example.org",
                    ], in: scratch.url)
                    try #require(made.status == 0, "openssl: \(made.stderr)")
                }
                arguments += ["--tls", cert, key]
            }
            return Sink(helper: try await Helper(arguments, in: scratch.url), out: out, port: port)
        }

        func setMode(_ mode: String) throws {
            try Data(mode.utf8).write(to: out.appendingPathComponent("mode"))
        }

        /// Received messages in order: bytes and metadata.
        func messages() -> [(bytes: Data, meta: [String: Any])] {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
            return names.compactMap { name in
                let base = out.appendingPathComponent(String(name.dropLast(4)))
                guard let bytes = try? Data(contentsOf: base.appendingPathExtension("eml")),
                      let json = try? Data(contentsOf: base.appendingPathExtension("json")),
                      let meta = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else { return nil }
                return (bytes, meta)
            }
        }

        func stat(_ key: String) -> Int {
            guard let data = try? Data(contentsOf: out.appendingPathComponent("stats.json")),
                  let stats = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return 0 }
            return stats[key] as? Int ?? 0
        }

        func stop() { helper.stop() }
    }

    /// Submits `message` as demo@skjold.test over STARTTLS + AUTH (smtplib).
    static let submitScript = """
        import smtplib, ssl, sys
        port, password, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        recipients = sys.argv[4:]
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with open(path, "rb") as f:
            message = f.read()
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.starttls(context=context)
            smtp.login("demo@skjold.test", password)
            refused = smtp.sendmail("demo@skjold.test", recipients, message)
            assert not refused, refused
        """

    static func submit(_ message: String, to recipients: [String], report: StartupReport, password given: String? = nil,
                       scratch: Scratch) async throws {
        let submission = try #require(report.listeners.first { $0.name == "submission" })
        let password = try #require(given ?? report.demoPassword)
        let file = try scratch.file("message-\(UUID().uuidString).eml", contents: message)
        let result = try await Child.run(URL(fileURLWithPath: "/usr/bin/env"),
                                         ["python3", "-c", submitScript, String(submission.port), password, file.path] + recipients,
                                         in: scratch.url)
        try #require(result.status == 0, "submission failed: \(result)")
    }

    /// Every message in demo's INBOX whose subject contains `subject`, as text.
    static let inboxScript = """
        import imaplib, ssl, sys
        port, password, subject = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        m = imaplib.IMAP4("127.0.0.1", port)
        m.starttls(context)
        m.login("demo@skjold.test", password)
        m.select("INBOX", readonly=True)
        typ, data = m.search(None, "SUBJECT", '"%s"' % subject)
        for num in data[0].split():
            typ, parts = m.fetch(num, "(BODY.PEEK[])")
            sys.stdout.write(parts[0][1].decode("utf-8", "replace"))
            sys.stdout.write("\\n=====END=====\\n")
        m.logout()
        """

    static func inbox(subject: String, report: StartupReport, password: String, scratch: Scratch) async throws -> [String] {
        let imap = try #require(report.listeners.first { $0.name == "imap" })
        let result = try await Child.run(URL(fileURLWithPath: "/usr/bin/env"),
                                         ["python3", "-c", inboxScript, String(imap.port), password, subject], in: scratch.url)
        try #require(result.status == 0, "imap failed: \(result)")
        return result.stdout.components(separatedBy: "\n=====END=====\n").filter { !$0.isEmpty }
    }

    /// Verifies every DKIM-Signature of `message` with dkimpy, the public keys taken from `skjold domain dns`.
    static let verifyScript = """
        import dkim, sys, re
        records = {}
        for line in open(sys.argv[1]):
            m = re.match(r'^(\\S+)\\s+IN\\s+TXT\\s+(.*)$', line.strip())
            if m and "._domainkey." in m.group(1):
                value = "".join(re.findall(r'"([^"]*)"', m.group(2)))
                records[m.group(1).rstrip(".").lower()] = value.encode()
        message = open(sys.argv[2], "rb").read()
        def dnsfunc(name, timeout=5):
            return records.get(name.decode().rstrip(".").lower() if isinstance(name, bytes) else name.rstrip(".").lower())
        count = message.count(b"DKIM-Signature:")
        d = dkim.DKIM(message)
        ok = sum(1 for index in range(count) if d.verify(idx=index, dnsfunc=dnsfunc))
        print("signatures", count, "verified", ok)
        sys.exit(0 if count >= 1 and ok == count else 1)
        """
}

extension EndToEnd {
    @Suite("outbound delivery", .enabled(if: DeliveryTestSupport.available, "needs python3 with aiosmtpd, dnslib, dkimpy, pynacl and openssl"))
    struct DeliveryTests {
        typealias Support = DeliveryTestSupport

        @Test("submitted mail reaches a loopback receiver over STARTTLS, byte-exact, DKIM-signed (dkimpy verifies), TLS in the log")
        func deliversOverTLSWithDKIM() async throws {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let port = try Support.freePort()
            let sink = try await Support.Sink.start(in: scratch, port: port)
            defer { sink.stop() }
            let message = "From: Demo User <demo@skjold.test>\r\nTo: friend.unique@example.org\r\nSubject: DKIM check\r\n"
                + "Date: Sun, 29 Nov 2026 12:00:00 +0000\r\nMessage-ID: <dkim-1@skjold.test>\r\n"
                + "X-Folded: first part\r\n\tsecond part   \r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                + "Hello,  world \r\n.line starting with a dot\r\nGrüße\r\n\r\n\r\n"
            let arguments = ["--set", "delivery.routes.\"example.org\"=\"127.0.0.1:\(port)\"", "--set", "delivery.retry_intervals=[\"1s\"]"]
            var serverLog = ""
            try await withDevServer(data: scratch.data, in: scratch.url, extraArguments: arguments) { server, report in
                try await Support.submit(message, to: ["friend.unique@example.org"], report: report, scratch: scratch)
                let arrived = await eventually(timeout: .seconds(20)) { sink.messages().count == 1 }
                try #require(arrived, "nothing arrived; server log: \(server.stderr.text)")
                let received = try #require(sink.messages().first)
                let text = String(decoding: received.bytes, as: UTF8.self)
                #expect(received.bytes.starts(with: Data("DKIM-Signature: ".utf8)), "\(text.prefix(300))")
                #expect(received.bytes.suffix(Data(message.utf8).count) == Data(message.utf8), "the original bytes arrive unchanged")
                let tls = try #require(received.meta["tls"] as? [String: Any], "the receiver saw no TLS")
                let version = try #require(tls["version"] as? String)
                #expect(version == "TLSv1.3" || version == "TLSv1.2")
                #expect(received.meta["mail_from"] as? String == "demo@skjold.test")
                #expect(received.meta["rcpt_tos"] as? [String] == ["friend.unique@example.org"])
                #expect(text.contains("a=ed25519-sha256") && text.contains("a=rsa-sha256"), "both signatures")

                let dns = try await Child.skjold(["domain", "dns", "skjold.test", "--data", scratch.data.path], in: scratch.url)
                #expect(dns.status == 0, "\(dns)")
                #expect(dns.stdoutLines.contains { $0.hasPrefix("skjold.test.") && $0.contains("IN MX") })
                #expect(dns.stdoutLines.contains { $0.contains("v=spf1") })
                #expect(dns.stdoutLines.contains { $0.hasPrefix("_dmarc.skjold.test.") && $0.contains("v=DMARC1") })
                #expect(dns.stdoutLines.filter { $0.contains("._domainkey.skjold.test.") && $0.contains("v=DKIM1") }.count == 2)
                let records = try scratch.file("dns.txt", contents: dns.stdout)
                let saved = scratch.url.appendingPathComponent("received.eml")
                try received.bytes.write(to: saved)
                let verify = try await Child.run(URL(fileURLWithPath: "/usr/bin/env"),
                                                 ["python3", "-c", Support.verifyScript, records.path, saved.path], in: scratch.url)
                #expect(verify.status == 0, "dkimpy: \(verify)")

                let queueEmpty = await eventually(timeout: .seconds(10)) {
                    (try? FileManager.default.contentsOfDirectory(atPath: scratch.data.appendingPathComponent("queue").path))?.isEmpty ?? false
                }
                #expect(queueEmpty, "the queue entry is removed after delivery")
                if version == "TLSv1.3", let cipher = tls["cipher"] as? String {
                    let logged = await eventually(timeout: .seconds(5)) { server.stderr.text.contains(cipher) }
                    #expect(logged, "the log names the cipher \(cipher): \(server.stderr.text)")
                }
                serverLog = server.stderr.text
            }
            #expect(serverLog.contains("delivery attempt") && serverLog.contains("TLSv1."), "\(serverLog)")
            #expect(!serverLog.contains("friend.unique"), "no recipient addresses in the log by default")
        }

        @Test("receiver down, then 4xx, then up: queued, retried, delivered once; 5xx: a DSN in the sender's Inbox; restarts lose and repeat nothing")
        func retriesBouncesAndRestarts() async throws {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let port = try Support.freePort()
            let arguments = ["--set", "delivery.routes.\"example.org\"=\"127.0.0.1:\(port)\"", "--set", "delivery.retry_intervals=[\"1s\"]",
                             "--set", "delivery.warn_after=\"2s\""]
            let data = scratch.data.path
            let message = "From: demo@skjold.test\r\nTo: kim@example.org\r\nSubject: retry me\r\nMessage-ID: <retry-1@skjold.test>\r\n\r\nbody\r\n"

            // 1. Receiver down: the message waits in the queue with the connection error as its last reply.
            var password = ""
            try await withDevServer(data: scratch.data, in: scratch.url, extraArguments: arguments) { server, report in
                password = try #require(report.demoPassword)
                try await Support.submit(message, to: ["kim@example.org"], report: report, scratch: scratch)
                var shown = ""
                let tried = await eventually(timeout: .seconds(15)) {
                    shown = (try? Self.queueShowAll(data: data, in: scratch.url)) ?? ""
                    return shown.contains("attempts: 2")
                }
                #expect(tried, "retried while the receiver is down: \(shown)\n\(server.stderr.text)")
                #expect(shown.contains("kim@example.org  pending"), "\(shown)")
                #expect(shown.contains("last reply: 451 4.4.1"), "\(shown)")
                // warn_after (2 s here): one "delayed" notice, naming the recipient; the message stays queued.
                var delayed: [String] = []
                let warned = await eventually(timeout: .seconds(15)) {
                    delayed = (try? Self.blockingInbox(subject: "Delayed Mail", report: report, password: password, scratch: scratch)) ?? []
                    return !delayed.isEmpty
                }
                #expect(warned, "a delay notice arrives; log: \(server.stderr.text)")
                #expect(delayed.count <= 1)
                let notice = delayed.first ?? ""
                #expect(notice.contains("Action: delayed") && notice.contains("Final-Recipient: rfc822; kim@example.org"), "\(notice)")
                #expect(notice.contains("Will-Retry-Until: "), "\(notice)")
                #expect(try Self.queueShowAll(data: data, in: scratch.url).contains("delay notice sent: yes"))
            }
            // 2. Restarted with the receiver answering 451: retried, still queued.
            let sink = try await Support.Sink.start(in: scratch, port: port)
            defer { sink.stop() }
            try sink.setMode("tempfail")
            try await withDevServer(data: scratch.data, in: scratch.url, extraArguments: arguments) { server, report in
                let retried = await eventually(timeout: .seconds(15)) { sink.stat("rcpt") >= 2 }
                #expect(retried, "4xx is retried: \(sink.stat("rcpt")) RCPTs")
                let shown = try Self.queueShowAll(data: data, in: scratch.url)
                #expect(shown.contains("451 4.3.0 try again later (sink)"), "\(shown)")
                #expect(sink.messages().isEmpty)
                // 3. The receiver accepts: delivered exactly once, the queue empties.
                try sink.setMode("accept")
                let delivered = await eventually(timeout: .seconds(15)) { sink.messages().count == 1 }
                #expect(delivered, "delivered after 4xx; log: \(server.stderr.text)")
                let emptied = await eventually(timeout: .seconds(10)) { (try? Self.queueList(data: data, in: scratch.url)) == ["queue is empty"] }
                #expect(emptied)
                // 4. 5xx: a failure notice lands in the sender's Inbox, naming the recipient and the remote reply.
                try sink.setMode("reject")
                let bounceMessage = message.replacingOccurrences(of: "retry-1", with: "bounce-1").replacingOccurrences(of: "kim@", with: "nobody@")
                try await Support.submit(bounceMessage, to: ["nobody@example.org"], report: report, password: password, scratch: scratch)
                var notices: [String] = []
                let bounced = await eventually(timeout: .seconds(20)) {
                    notices = (try? Self.blockingInbox(subject: "Undelivered Mail", report: report, password: password, scratch: scratch)) ?? []
                    return !notices.isEmpty
                }
                #expect(bounced, "a DSN arrives; log: \(server.stderr.text)")
                let notice = notices.first ?? ""
                #expect(notice.contains("multipart/report; report-type=delivery-status"), "\(notice)")
                #expect(notice.contains("Final-Recipient: rfc822; nobody@example.org"), "\(notice)")
                #expect(notice.contains("Action: failed"), "\(notice)")
                #expect(notice.contains("Status: 5.1.1"), "\(notice)")
                #expect(notice.contains("550 5.1.1 <nobody@example.org>: no such user here (sink)"), "\(notice)")
                #expect(notice.contains("Message-ID: <bounce-1@skjold.test>"), "the original headers are attached")
                #expect(notice.contains("From: Mail Delivery System <MAILER-DAEMON@localhost>"), "\(notice)")
            }
            // 5. Another restart: nothing is sent twice, no second notice.
            try sink.setMode("accept")
            try await withDevServer(data: scratch.data, in: scratch.url, extraArguments: arguments) { _, report in
                try await Task.sleep(for: .seconds(3))
                #expect(sink.messages().count == 1, "nothing sent twice after restarts")
                let notices = try await Support.inbox(subject: "Undelivered Mail", report: report, password: password, scratch: scratch)
                #expect(notices.count == 1, "one notice only")
                #expect(try Self.queueList(data: data, in: scratch.url) == ["queue is empty"])
            }
        }

        @Test("MX resolution against a loopback DNS server: priority order, A fallback, null MX, NXDOMAIN, SERVFAIL")
        func mxResolution() async throws {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let smtpPort = try Support.freePort()
            let dnsPort = try Support.freePort()
            let sink = try await Support.Sink.start(in: scratch, port: smtpPort, tls: false)
            defer { sink.stop() }
            // mx1 (preferred) points to 127.0.0.3 where nothing listens; mx2 to the receiver.
            let zone = """
                {
                  "mx.test.": {"MX": [[20, "mx2.mx.test."], [10, "mx1.mx.test."]]},
                  "mx1.mx.test.": {"A": ["127.0.0.3"]},
                  "mx2.mx.test.": {"A": ["127.0.0.1"]},
                  "afallback.test.": {"A": ["127.0.0.1"]},
                  "nullmx.test.": {"MX": [[0, "."]]},
                  "servfail.test.": {"rcode": "SERVFAIL"}
                }
                """
            let zoneFile = try scratch.file("zone.json", contents: zone)
            let dns = try await Support.Helper([Support.dnsScript, zoneFile.path, String(dnsPort)], in: scratch.url)
            defer { dns.stop() }
            let arguments = ["--set", "delivery.dns_server=\"127.0.0.1:\(dnsPort)\"", "--set", "delivery.smtp_port=\(smtpPort)",
                             "--set", "delivery.retry_intervals=[\"1h\"]"]
            let data = scratch.data.path
            try await withDevServer(data: scratch.data, in: scratch.url, extraArguments: arguments) { server, report in
                let password = try #require(report.demoPassword)
                for (n, recipient) in ["a@mx.test", "b@afallback.test", "c@nullmx.test", "d@nxdomain.test", "e@servfail.test"].enumerated() {
                    let message = "From: demo@skjold.test\r\nTo: \(recipient)\r\nSubject: mx \(n)\r\n\r\nbody \(n)\r\n"
                    try await Support.submit(message, to: [recipient], report: report, scratch: scratch)
                }
                let arrived = await eventually(timeout: .seconds(20)) { sink.messages().count == 2 }
                #expect(arrived, "mx.test and afallback.test delivered; log: \(server.stderr.text)")
                let recipients = Set(sink.messages().flatMap { $0.meta["rcpt_tos"] as? [String] ?? [] })
                #expect(recipients == ["a@mx.test", "b@afallback.test"])
                #expect(server.stderr.text.contains("via=mx2.mx.test[127.0.0.1]:\(smtpPort)"), "delivered through the second MX")
                var notices: [String] = []
                let bounced = await eventually(timeout: .seconds(20)) {
                    notices = (try? Self.blockingInbox(subject: "Undelivered Mail", report: report, password: password, scratch: scratch)) ?? []
                    return notices.count >= 2
                }
                #expect(bounced, "null MX and NXDOMAIN bounce at once: \(notices)")
                let all = notices.joined(separator: "\n")
                #expect(all.contains("Final-Recipient: rfc822; c@nullmx.test") && all.contains("Status: 5.1.10"), "\(all)")
                #expect(all.contains("Final-Recipient: rfc822; d@nxdomain.test") && all.contains("Status: 5.1.2"), "\(all)")
                #expect(!all.contains("e@servfail.test"), "SERVFAIL is not a bounce")
                let list = try Self.queueList(data: data, in: scratch.url)
                #expect(list.count == 1, "only the SERVFAIL message stays queued: \(list)")
                let shown = try Self.queueShowAll(data: data, in: scratch.url)
                #expect(shown.contains("e@servfail.test  pending") && shown.contains("4.4.3"), "\(shown)")
            }
        }

        // MARK: Helpers

        static func queueList(data: String, in directory: URL) throws -> [String] {
            try blockingRun(["queue", "list", "--data", data], in: directory).stdoutLines
        }

        /// `queue show` of every queued message, concatenated.
        static func queueShowAll(data: String, in directory: URL) throws -> String {
            let lines = try queueList(data: data, in: directory)
            var text = ""
            for line in lines where line != "queue is empty" {
                let id = String(line.prefix { $0 != " " })
                text += try blockingRun(["queue", "show", id, "--data", data], in: directory).stdout
            }
            return text
        }

        static func blockingInbox(subject: String, report: StartupReport, password: String, scratch: Scratch) throws -> [String] {
            let imap = try #require(report.listeners.first { $0.name == "imap" })
            let result = try blockingRun(["python3", "-c", Support.inboxScript, String(imap.port), password, subject], in: scratch.url,
                                         executable: URL(fileURLWithPath: "/usr/bin/env"))
            return result.stdout.components(separatedBy: "\n=====END=====\n").filter { !$0.isEmpty }
        }

        /// A child process run to completion from a synchronous condition (for `eventually`).
        static func blockingRun(_ arguments: [String], in directory: URL, executable: URL? = nil) throws -> CommandResult {
            let process = Process()
            process.executableURL = try executable ?? SkjoldBinary.url()
            process.arguments = arguments
            process.currentDirectoryURL = directory
            process.environment = Child.environment
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            let stderr = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return CommandResult(arguments: arguments, status: process.terminationStatus,
                                 stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
        }
    }
}

import Foundation
import Logging
import MailServerCore
import MailStore
import MailStoreSQLite
import MailTesting
import POP3Server
import Testing

/// An in-process POP3 setup on loopback over a fresh store: account alice@example.test with messages.
final class POP3TestServer: @unchecked Sendable {
    static let password = "correct horse battery staple 1"
    static let sharedTLS: Result<ServerTLS, any Error> = Result {
        try ServerTLS.selfSigned(hostname: "localhost", directory: NSTemporaryDirectory() + "skjold-pop3-tls-" + UUID().uuidString)
    }
    let directory: String
    var store: SQLiteMailStore
    var pop3: MailListener
    var pop3s: MailListener
    private var task: Task<Void, Never>?

    init(directory: String? = nil, bandwidth: Int64 = 10_000_000_000) async throws {
        let fresh = directory == nil
        self.directory = directory ?? NSTemporaryDirectory() + "skjold-pop3-" + UUID().uuidString
        store = try Self.openStore(self.directory)
        if fresh {
            _ = try await store.directory.addDomain("example.test")
            _ = try await store.directory.addAccount("alice@example.test", password: Self.password, plan: "standard", noBackup: false)
        }
        (pop3, pop3s) = try Self.listeners(store, bandwidth: bandwidth)
        try await start()
    }

    static func openStore(_ directory: String) throws -> SQLiteMailStore {
        try SQLiteMailStore(layout: StorageLayout(dataDir: directory + "/data", nobackupDir: directory + "/nobackup"),
                            plans: PlanCatalog(names: ["standard"], aliasLimits: ["standard": 100]), passwordCost: 10)
    }

    static func listeners(_ store: SQLiteMailStore, bandwidth: Int64) throws -> (MailListener, MailListener) {
        var logger = Logger(label: "test.pop3")
        logger.logLevel = .critical
        let tls = try sharedTLS.get()
        let settings = POP3ServerSettings(hostname: "localhost", maximumErrors: 8, defaultBandwidth: bandwidth)
        let throttle = LoginThrottle(maximumDelay: .milliseconds(300))
        let locks = MaildropLocks()
        return (POP3Listeners.listener(name: "pop3", host: "127.0.0.1", port: 0, implicitTLS: false, tls: tls, settings: settings,
                                       store: store, logger: logger, throttle: throttle, locks: locks, quotas: store.quotas),
                POP3Listeners.listener(name: "pop3s", host: "127.0.0.1", port: 0, implicitTLS: true, tls: tls, settings: settings,
                                       store: store, logger: logger, throttle: throttle, locks: locks, quotas: store.quotas))
    }

    private func start() async throws {
        try await pop3.bind()
        try await pop3s.bind()
        let listeners = [pop3, pop3s]
        task = Task {
            await withTaskGroup(of: Void.self) { group in
                for listener in listeners { group.addTask { try? await listener.run() } }
            }
        }
    }

    var port: Int { pop3.boundPort ?? 0 }
    var tlsPort: Int { pop3s.boundPort ?? 0 }

    func stopListeners() async {
        pop3.triggerGracefulShutdown()
        pop3s.triggerGracefulShutdown()
        await task?.value
    }

    func stop() async {
        await stopListeners()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func deliver(_ text: String, to address: String = "alice@example.test") async throws {
        let account = try #require(try await store.directory.account(address))
        _ = try await store.mail(for: account).deliver(.bytes(Array(text.utf8)), to: "INBOX", flags: [], internalDate: Date())
    }

    func inboxCount() async throws -> Int {
        let account = try #require(try await store.directory.account("alice@example.test"))
        return try await store.mail(for: account).messages(in: "INBOX").count
    }
}

@Suite struct POP3ServerTests {
    static let messages = [
        "Subject: one\r\n\r\nfirst message\r\n.dot line\r\n",
        "Subject: two\r\nX-Long: yes\r\n\r\nline 1\r\nline 2\r\nline 3\r\n",
        "Subject: three\r\n\r\nthird \u{e9}\r\n",
    ]

    static let poplibScript = #"""
import poplib, ssl, sys, socket
mode, port, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
if mode == 'stls':
    p = poplib.POP3('127.0.0.1', port, timeout=20)
    caps = p.capa()
    assert 'STLS' in caps, caps
    try:
        p.user('alice@example.test'); raise SystemExit('USER accepted before TLS')
    except poplib.error_proto as e:
        assert b'[AUTH]' in e.args[0], e
    p.stls(context=ctx)
    caps = p.capa()
    assert 'STLS' not in caps and 'TOP' in caps and 'UIDL' in caps and 'PIPELINING' in caps, caps
    assert caps.get('SASL') == ['PLAIN'], caps
    assert 'RESP-CODES' in caps and 'AUTH-RESP-CODE' in caps and caps.get('EXPIRE') == ['NEVER'], caps
else:
    p = poplib.POP3_SSL('127.0.0.1', port, context=ctx, timeout=20)
try:
    p.user('alice@example.test'); p.pass_('wrong'); raise SystemExit('wrong password accepted')
except poplib.error_proto as e:
    assert e.args[0].startswith(b'-ERR [AUTH]'), e
p.user('alice@example.test'); p.pass_(pw)
count, size = p.stat()
assert count == 3, count
resp, listing, _ = p.list()
assert len(listing) == 3
resp, uidls, _ = p.uidl()
assert len(set(u.split()[1] for u in uidls)) == 3
resp, lines, octets = p.retr(1)
assert lines == [b'Subject: one', b'', b'first message', b'.dot line'], lines
resp, lines, _ = p.top(2, 1)
assert lines == [b'Subject: two', b'X-Long: yes', b'', b'line 1'], lines
resp, lines, _ = p.retr(3)
assert lines[-1] == 'third \u00e9'.encode(), lines
try:
    p.retr(4); raise SystemExit('RETR 4 accepted')
except poplib.error_proto:
    pass
p.dele(1)
try:
    p.retr(1); raise SystemExit('deleted message retrieved')
except poplib.error_proto:
    pass
if mode == 'drop':
    p.sock.close()   # no QUIT: nothing may be deleted
    print('ok')
    raise SystemExit(0)
assert p.stat()[0] == 2
p.rset()
assert p.stat()[0] == 3
p.dele(2)
p.quit()
print('ok')
"""#

    func runPoplib(_ mode: String, _ port: Int) async throws {
        let (status, output) = try await blocking { try runPython(Self.poplibScript, [mode, String(port), POP3TestServer.password]) }
        #expect(status == 0, "\(output)")
        #expect(output.contains("ok"))
    }

    @Test(.enabled(if: pythonAvailable(), "python3 not installed"))
    func poplibOverSTLSDeletesAtQuit() async throws {
        let server = try await POP3TestServer()
        defer { Task { await server.stop() } }
        for message in Self.messages { try await server.deliver(message) }
        try await runPoplib("stls", server.port)
        #expect(try await server.inboxCount() == 2)
    }

    @Test(.enabled(if: pythonAvailable(), "python3 not installed"))
    func poplibOverImplicitTLSAndDroppedConnectionDeletesNothing() async throws {
        let server = try await POP3TestServer()
        defer { Task { await server.stop() } }
        for message in Self.messages { try await server.deliver(message) }
        try await runPoplib("drop", server.tlsPort)
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await server.inboxCount() == 3)
        try await runPoplib("tls", server.tlsPort)
        #expect(try await server.inboxCount() == 2)
    }

    /// Raw protocol over STLS is not possible with a plain socket, so this covers the plaintext-state rules
    /// and hostile input; the logged-in rules are covered through poplib above.
    @Test func plaintextStateAndHostileInput() async throws {
        let server = try await POP3TestServer()
        defer { Task { await server.stop() } }
        let port = server.port
        try await blocking {
            let client = try RawClient(port: port)
            #expect(try client.readLine().hasPrefix("+OK"))
            func expectLine(_ command: String, _ prefix: String) throws {
                try client.send(command + "\r\n")
                let line = try client.readLine()
                #expect(line.hasPrefix(prefix), "\(command): \(line)")
            }
            try expectLine("USER alice@example.test", "-ERR [AUTH]")
            try expectLine("AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdAB4", "-ERR [AUTH]")
            try expectLine("STAT", "-ERR")
            try expectLine("FOO", "-ERR")
            try client.send([UInt8](repeating: 0x41, count: 10_000_000) + [13, 10])
            #expect(try client.readLine().hasPrefix("-ERR"))
            try expectLine("NOOP", "-ERR")  // NOOP only in TRANSACTION
            try client.send("CAPA\r\n")
            var capabilities: [String] = []
            while true { let line = try client.readLine(); if line == "." { break }; capabilities.append(line) }
            #expect(capabilities.contains("STLS") && capabilities.contains("USER") && !capabilities.contains("SASL PLAIN"))
            // Past the error budget (8 here) the server says goodbye and closes.
            var closed = false
            for _ in 0..<10 {
                try? client.send("BAD\r\n")
                guard let line = try? client.readLine() else { closed = true; break }
                if line.contains("Too many errors") { closed = client.isClosed(); break }
            }
            #expect(closed)
            _ = try? client.readLine()
        }
    }

    @Test(.enabled(if: pythonAvailable(), "python3 not installed"))
    func weeklyBandwidthAllowance() async throws {
        let server = try await POP3TestServer(bandwidth: 40)
        defer { Task { await server.stop() } }
        for message in Self.messages { try await server.deliver(message) }
        let script = #"""
import poplib, ssl, sys
port, pw = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
p = poplib.POP3_SSL('127.0.0.1', port, context=ctx, timeout=20)
p.user('alice@example.test'); p.pass_(pw)
p.retr(2)   # 53 octets: the allowance of 40 is now used up
try:
    p.retr(1); raise SystemExit('RETR past the allowance')
except poplib.error_proto as e:
    assert e.args[0].startswith(b'-ERR [SYS/PERM] Weekly download allowance'), e
try:
    p.top(1, 0); raise SystemExit('TOP past the allowance')
except poplib.error_proto as e:
    assert b'[SYS/PERM]' in e.args[0], e
assert len(p.list()[1]) == 3 and len(p.uidl()[1]) == 3   # listing still works
p.dele(1)                                                # and cleaning up
p.quit()
print('ok')
"""#
        let port = server.tlsPort
        let (status, output) = try await blocking { try runPython(script, [String(port), POP3TestServer.password]) }
        #expect(status == 0, "\(output)")
        #expect(try await server.inboxCount() == 2)
    }

    @Test(.enabled(if: pythonAvailable(), "python3 not installed"))
    func oneSessionPerMaildropAndStableUIDLsAcrossRestart() async throws {
        let server = try await POP3TestServer()
        for message in Self.messages { try await server.deliver(message) }
        let script = #"""
import poplib, ssl, sys
port, pw = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
a = poplib.POP3_SSL('127.0.0.1', port, context=ctx, timeout=20)
a.user('alice@example.test'); a.pass_(pw)
b = poplib.POP3_SSL('127.0.0.1', port, context=ctx, timeout=20)
b.user('alice@example.test')
try:
    b.pass_(pw); raise SystemExit('second session got the maildrop')
except poplib.error_proto as e:
    assert e.args[0].startswith(b'-ERR [IN-USE]'), e
print(' '.join(u.decode().split()[1] for u in a.uidl()[1]))
a.quit()
b.user('alice@example.test'); b.pass_(pw)   # free again after QUIT
b.quit()
"""#
        let port = server.tlsPort
        let (status, before) = try await blocking { try runPython(script, [String(port), POP3TestServer.password]) }
        #expect(status == 0, "\(before)")
        // Restart: new store instance and listeners on the same data.
        await server.stopListeners()
        let restarted = try await POP3TestServer(directory: server.directory)
        defer { Task { await restarted.stop() } }
        let port2 = restarted.tlsPort
        let (status2, after) = try await blocking { try runPython(script, [String(port2), POP3TestServer.password]) }
        #expect(status2 == 0, "\(after)")
        #expect(before == after)
        #expect(before.split(separator: " ").count == 3)
    }
}

/// A real download client: fetchmail (Debian) fetches 1,000 messages over POP3S, hands each to an MDA
/// that writes it to a file, and deletes them from the server.
@Suite struct FetchmailTests {
    static let count = Int(ProcessInfo.processInfo.environment["SKJOLD_FETCHMAIL_COUNT"] ?? "") ?? 1000

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/fetchmail"), "fetchmail not installed"))
    func fetchmailDownloadsAThousandMessagesByteExact() async throws {
        let server = try await POP3TestServer()
        defer { Task { await server.stop() } }
        let account = try #require(try await server.store.directory.account("alice@example.test"))
        let mail = try await server.store.mail(for: account)
        let count = Self.count
        try await withThrowingTaskGroup(of: Void.self) { group in
            for batch in 0..<16 {
                group.addTask {
                    for i in stride(from: batch, to: count, by: 16) {
                        _ = try await mail.deliver(.bytes(Array(Self.message(i, lineEnd: "\r\n").utf8)), to: "INBOX",
                                                   flags: [], internalDate: Date())
                    }
                }
            }
            try await group.waitForAll()
        }
        let home = server.directory + "/fetchmail"
        let out = home + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let mda = home + "/mda.sh"
        try "#!/bin/sh\nexec cat > \"$1/msg.$$\"\n".write(toFile: mda, atomically: true, encoding: .utf8)
        chmod(mda, 0o755)
        let rc = home + "/fetchmailrc"
        try """
            set no bouncemail
            set no syslog
            set invisible
            poll 127.0.0.1 service \(server.tlsPort) protocol POP3 no uidl
              user "alice@example.test" there with password "\(POP3TestServer.password)" is "\(NSUserName())" here
              ssl no sslcertck fetchall nokeep
              mda "\(mda) \(out)"

            """.write(toFile: rc, atomically: true, encoding: .utf8)
        chmod(rc, 0o600)
        let (status, output) = try await blocking { () -> (Int32, String) in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/fetchmail")
            process.arguments = ["--fetchmailrc", rc, "--pidfile", home + "/pid", "--nodetach", "--silent"]
            process.environment = ["HOME": home, "PATH": "/usr/bin:/bin"]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        #expect(status == 0, "\(output)")
        let files = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(files.count == count)
        var seen = Set<Int>()
        for file in files {
            let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: out + "/" + file)), as: UTF8.self)
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Message-ID: <m") }),
                  let number = Int(line.dropFirst("Message-ID: <m".count).prefix { $0.isNumber }) else { continue }
            // fetchmail hands the MDA LF line ends; everything else is byte for byte what was stored.
            if text == Self.message(number, lineEnd: "\n") { seen.insert(number) }
        }
        #expect(seen.count == count)
        #expect(try await server.inboxCount() == 0, "downloaded messages deleted from the server")
    }

    static func message(_ i: Int, lineEnd: String) -> String {
        ["Return-Path: <sender@example.org>", "Message-ID: <m\(i)@example.test>", "Subject: number \(i)", "",
         "body of \(i)", ".dot \(i)", "..two dots", "\u{e6}\u{f8}\u{e5}"].map { $0 + lineEnd }.joined()
    }
}

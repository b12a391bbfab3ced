import Foundation
import IMAPServer
import Logging
import MailServerCore
import MailStore
import MailStoreSQLite
import MailTesting
import Testing

/// An in-process IMAP setup on loopback over a fresh store: account alice@example.test, a STARTTLS
/// listener and an implicit-TLS one.
final class IMAPTestServer: @unchecked Sendable {
    static let password = "correct horse battery staple 1"
    static let tlsDirectory = NSTemporaryDirectory() + "skjold-imap-tls-" + UUID().uuidString
    static let sharedTLS: Result<ServerTLS, any Error> = Result {
        try ServerTLS.selfSigned(hostname: "localhost", directory: tlsDirectory)
    }
    /// The self-signed certificate, for clients that pin it (mbsync's CertificateFile).
    static var certificatePath: String { tlsDirectory + "/cert.pem" }
    let directory: String
    let store: SQLiteMailStore
    let imap: MailListener
    let imaps: MailListener
    private var task: Task<Void, Never>?

    init(maximumMessageSize: Int = 1 << 20, maximumErrors: Int = 8, storage: Int64 = 10_000_000_000,
         bandwidth: Int64 = 10_000_000_000, messageSizePerPlan: [String: Int] = [:],
         idleTimeout: Duration = .seconds(30 * 60)) async throws {
        directory = NSTemporaryDirectory() + "skjold-imap-" + UUID().uuidString
        store = try SQLiteMailStore(layout: StorageLayout(dataDir: directory + "/data", nobackupDir: directory + "/nobackup"),
                                    plans: PlanCatalog(names: ["standard"], aliasLimits: ["standard": 100]), passwordCost: 10)
        _ = try await store.directory.addDomain("example.test")
        _ = try await store.directory.addAccount("alice@example.test", password: Self.password, plan: "standard", noBackup: false)
        var logger = Logger(label: "test.imap")
        logger.logLevel = .critical
        let tls = try Self.sharedTLS.get()
        let settings = IMAPServerSettings(hostname: "localhost", idleTimeout: idleTimeout, maximumErrors: maximumErrors,
                                          maximumMessageSize: maximumMessageSize,
                                          temporaryDirectory: directory + "/spool", defaultStorage: storage,
                                          defaultBandwidth: bandwidth, messageSizePerPlan: messageSizePerPlan)
        let throttle = LoginThrottle(maximumDelay: .milliseconds(200))
        imap = IMAPListeners.listener(name: "imap", host: "127.0.0.1", port: 0, implicitTLS: false, tls: tls, settings: settings,
                                      store: store, logger: logger, throttle: throttle, quotas: store.quotas)
        imaps = IMAPListeners.listener(name: "imaps", host: "127.0.0.1", port: 0, implicitTLS: true, tls: tls, settings: settings,
                                       store: store, logger: logger, throttle: throttle, quotas: store.quotas)
        try await imap.bind()
        try await imaps.bind()
        let listeners = [imap, imaps]
        task = Task {
            await withTaskGroup(of: Void.self) { group in
                for listener in listeners { group.addTask { try? await listener.run() } }
            }
        }
    }

    var port: Int { imap.boundPort ?? 0 }
    var tlsPort: Int { imaps.boundPort ?? 0 }

    func stop() async {
        imap.triggerGracefulShutdown()
        imaps.triggerGracefulShutdown()
        await task?.value
        try? FileManager.default.removeItem(atPath: directory)
    }

    func mail() async throws -> any AccountMailStore {
        let account = try #require(try await store.directory.account("alice@example.test"))
        return try await store.mail(for: account)
    }

    /// Stores a message the way SMTP delivery does.
    func deliver(_ text: String, to mailbox: String = "INBOX", flags: Set<String> = []) async throws {
        _ = try await mail().deliver(.bytes(Array(text.utf8)), to: mailbox, flags: flags, internalDate: Date())
    }

    /// Runs a Python script with arguments `plainPort tlsPort password extra...`; expects exit 0 and "ok".
    func python(_ script: String, _ extra: [String] = []) async throws {
        let arguments = [String(port), String(tlsPort), Self.password] + extra
        let (status, output) = try await blocking { try runPython(IMAPTestServer.prelude + script, arguments) }
        #expect(status == 0, "\(output)")
        #expect(output.contains("ok"), "\(output)")
    }

    /// Like ``python(_:_:)``, and returns the script's output (for measured figures).
    @discardableResult
    func pythonOutput(_ script: String, _ extra: [String] = []) async throws -> String {
        let arguments = [String(port), String(tlsPort), Self.password] + extra
        let (status, output) = try await blocking { try runPython(IMAPTestServer.prelude + script, arguments) }
        #expect(status == 0, "\(output)")
        #expect(output.contains("ok"), "\(output)")
        return output
    }

    /// Stores many messages at once (concurrent deliveries share group commits).
    func deliverMany(_ count: Int, to mailbox: String = "INBOX", _ text: @escaping @Sendable (Int) -> String) async throws {
        let mail = try await mail()
        var next = 0
        while next < count {
            let upper = min(count, next + 200)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in next..<upper {
                    group.addTask { _ = try await mail.deliver(.bytes(Array(text(i).utf8)), to: mailbox, flags: [], internalDate: Date()) }
                }
                try await group.waitForAll()
            }
            next = upper
        }
    }

    /// Shared helpers for the scripts: connections and a raw tagged exchange over an existing client.
    static let prelude = #"""
import imaplib, ssl, sys, socket, time, re
PORT, TLSPORT, PW = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
USER = 'alice@example.test'
CTX = ssl.create_default_context(); CTX.check_hostname = False; CTX.verify_mode = ssl.CERT_NONE
def tls():
    m = imaplib.IMAP4_SSL('127.0.0.1', TLSPORT, ssl_context=CTX, timeout=20)
    m.login(USER, PW)
    return m
def ok(r):
    typ, data = r
    assert typ == 'OK', r
    return data
def raw(m, line, literal=None):
    """Sends one tagged command line (bytes); returns (untagged lines, tagged line)."""
    tag = m._new_tag()
    m.send(tag + b' ' + line + b'\r\n')
    lines = []
    while True:
        l = m.readline()
        if not l: raise SystemExit('connection closed after %r: %r' % (line, lines))
        m_lit = re.search(rb'\{(\d+)\}\r\n$', l)
        if m_lit:
            l = l + m.read(int(m_lit.group(1))) + m.readline()
        if l.startswith(tag + b' '):
            return lines, l.rstrip(b'\r\n')
        lines.append(l.rstrip(b'\r\n'))

"""#
}

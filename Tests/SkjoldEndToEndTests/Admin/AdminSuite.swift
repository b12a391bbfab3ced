import Foundation
import Testing

/// Parent of every suite here. Serialized: the tests start real `skjold` servers and time nothing, but
/// several servers hashing passwords with scrypt at once would crowd a 2-core machine.
@Suite("admin: backup, restore, export, erasure", .serialized)
enum AdminSuite {}

/// Files under a folder that contain any of the needles, with the needle found; every byte of every file.
func filesContaining(_ needles: [String], under root: String) -> [String] {
    var hits: [String] = []
    guard let walker = FileManager.default.enumerator(atPath: root) else { return hits }
    let patterns = needles.map { Data($0.utf8) }
    while let relative = walker.nextObject() as? String {
        let path = root + "/" + relative
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              let data = FileManager.default.contents(atPath: path) else { continue }
        for (needle, pattern) in zip(needles, patterns) where data.range(of: pattern) != nil {
            hits.append("\(relative): \(needle)")
        }
    }
    return hits
}

/// Runs `python3 -c script args...` to completion.
func python(_ script: String, _ arguments: [String], in directory: URL) async throws -> CommandResult {
    try await Child.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script] + arguments, in: directory)
}

/// A random lowercase token, unique per test run (markers, local parts).
func uniqueToken(_ prefix: String) -> String {
    prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
}

enum Scripts {
    /// Delivers `count` messages over SMTP (MX listener, no auth) to `recipient`, printing each message's tag
    /// once the server has acknowledged it with 250.
    static let deliver = """
        import smtplib, sys
        port, count, tag, recipient = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            for i in range(count):
                name = "%s-%04d" % (tag, i)
                body = ("From: sender@example.net\\r\\nTo: %s\\r\\nSubject: message %s\\r\\n\\r\\nbody %s\\r\\n" % (recipient, name, name))
                refused = smtp.sendmail("sender@example.net", [recipient], body.encode())
                assert not refused, refused
                print(name, flush=True)
        """

    /// Submits one message for a remote recipient as `login` (STARTTLS + AUTH): it lands in the outbound queue.
    static let submit = """
        import smtplib, ssl, sys
        port, login, password, recipient, marker = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.starttls(context=context)
            smtp.login(login, password)
            body = "From: %s\\r\\nTo: %s\\r\\nSubject: queued\\r\\n\\r\\n%s\\r\\n" % (login, recipient, marker)
            refused = smtp.sendmail(login, [recipient], body.encode())
            assert not refused, refused
        """
}

extension StartupReport {
    func port(_ name: String) throws -> Int {
        try #require(listeners.first { $0.name == name }, "no \(name) listener: \(lines)").port
    }
}

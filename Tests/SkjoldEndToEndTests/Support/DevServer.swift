import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One listener as `serve` prints it under "listening:" (ServerRuntime.run):
/// `  <name padded to 12> <host:port padded to 22> <what it serves>`.
struct PrintedListener: Sendable, Equatable {
    var name: String
    var host: String
    var port: Int

    /// Parses `  smtp         127.0.0.1:2525     MX ...`; the host may be a bracketed IPv6 address.
    init?(line: String) {
        guard line.hasPrefix("  ") else { return nil }
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count >= 2 else { return nil }
        let address = fields[1]
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        var host = address[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { return nil }
        name = String(fields[0])
        self.host = String(host)
        self.port = port
    }
}

/// What `serve` printed up to its "ready" line.
struct StartupReport: Sendable {
    var lines: [String]
    var listeners: [PrintedListener]
    /// From "launched" to the "ready" line.
    var readyAfter: Duration

    /// The demo account's password, printed only on the first start.
    var demoPassword: String? {
        for line in lines {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("password: ") else { continue }
            return trimmed.dropFirst("password: ".count).split(separator: " ").first.map(String.init)
        }
        return nil
    }

    /// The hex SHA-256 fingerprint from the "TLS certificate:" line.
    var certificateFingerprint: String? {
        guard let line = lines.first(where: { $0.hasPrefix("TLS certificate:") }),
              let range = line.range(of: "SHA-256 ") else { return nil }
        return String(line[range.upperBound...].prefix { $0 != ")" })
    }
}

/// `skjold serve --dev --data DIR` as a child process, every listener on an ephemeral port of
/// 127.0.0.1 so tests never fight over fixed ports.
final class DevServer: Sendable {
    let process: Process
    let stdout: OutputCollector
    let stderr: OutputCollector
    let launchedAt: ContinuousClock.Instant

    static let listenerNames = ["smtp", "submission", "submissions", "imap", "imaps", "pop3", "pop3s", "https", "http"]

    /// Starts the server; call `stop()` when done (`withDevServer` does).
    init(data: URL, in directory: URL, extraArguments: [String] = []) throws {
        var arguments = ["serve", "--dev", "--data", data.path]
        for name in Self.listenerNames { arguments += ["--set", "listen.\(name)=127.0.0.1:0"] }
        // Tests reach loopback only: outbound delivery is held unless a test routes it somewhere itself.
        if !extraArguments.contains(where: { $0.hasPrefix("delivery.") }) { arguments += ["--set", "delivery.hold=true"] }
        arguments += extraArguments
        launchedAt = .now
        (process, stdout, stderr) = try Child.launch(try SkjoldBinary.url(), arguments, in: directory)
    }

    /// Waits (bounded) for the "ready" line and returns what came before it.
    func waitUntilReady(timeout: Duration = .seconds(20)) async throws -> StartupReport {
        let found = await eventually(timeout: timeout) {
            stdout.lines.contains { $0.text.hasPrefix("ready") } || !process.isRunning
        }
        let lines = stdout.lines
        guard found, let readyIndex = lines.firstIndex(where: { $0.text.hasPrefix("ready") }) else {
            throw ChildTimeout(what: "serve --dev did not print \"ready\" within \(timeout) (running: \(process.isRunning))\nstdout: \(stdout.text)\nstderr: \(stderr.text)")
        }
        let before = lines[...readyIndex].map(\.text)
        var listeners: [PrintedListener] = []
        if let header = before.firstIndex(of: "listening:") {
            for line in before[(header + 1)...] {
                guard let listener = PrintedListener(line: line) else { break }
                listeners.append(listener)
            }
        }
        return StartupReport(lines: before, listeners: listeners, readyAfter: lines[readyIndex].at - launchedAt)
    }

    /// SIGTERM, then (after `grace`) SIGKILL. Returns the exit status, or nil if it had to be killed
    /// or died of a signal.
    @discardableResult
    func stop(grace: Duration = .seconds(15)) async -> Int32? {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let exited = await Child.waitForExit(process, timeout: grace)
        _ = await eventually(timeout: .seconds(5)) { stdout.isFinished && stderr.isFinished }
        guard exited, process.terminationReason == .exit else { return nil }
        return process.terminationStatus
    }

    deinit {
        // Last resort: never leave a server behind, whatever a test did.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
    }
}

/// Runs `body` against a dev server on `data`, stopping the server however `body` ends.
/// Returns the server's exit status from SIGTERM (nil: killed or crashed).
@discardableResult
func withDevServer(data: URL, in directory: URL, extraArguments: [String] = [],
                   _ body: (DevServer, StartupReport) async throws -> Void) async throws -> Int32? {
    let server = try DevServer(data: data, in: directory, extraArguments: extraArguments)
    let report: StartupReport
    do {
        report = try await server.waitUntilReady()
    } catch {
        await server.stop()
        throw error
    }
    do {
        try await body(server, report)
    } catch {
        await server.stop()
        throw error
    }
    let status = await server.stop()
    #expect(status == 0, "server did not exit 0 on SIGTERM; stderr: \(server.stderr.text)")
    return status
}

/// Opens a TCP connection to a printed listener and, with a `readTimeout`, returns the first bytes the
/// server sends within it (a server-speaks-first greeting). Throws if the connection is refused.
func connectTCP(host: String, port: Int, readTimeout: Duration? = nil) throws -> [UInt8] {
    struct ConnectError: Error, CustomStringConvertible {
        var description: String
    }
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    #if canImport(Darwin)
    hints.ai_socktype = SOCK_STREAM
    #else
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    #endif
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
    var list: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(host, String(port), &hints, &list)
    guard status == 0, let info = list else {
        throw ConnectError(description: "getaddrinfo(\(host)): \(String(cString: gai_strerror(status)))")
    }
    defer { freeaddrinfo(list) }
    let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
    guard fd >= 0 else { throw ConnectError(description: "socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
        throw ConnectError(description: "connect \(host):\(port): \(String(cString: strerror(errno)))")
    }
    guard let readTimeout else { return [] }
    let (seconds, attoseconds) = readTimeout.components
    var tv = timeval(tv_sec: Int(seconds), tv_usec: .init(attoseconds / 1_000_000_000_000))
    _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var buffer = [UInt8](repeating: 0, count: 512)
    let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    return count > 0 ? Array(buffer[0..<count]) : []
}

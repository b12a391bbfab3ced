// Copied from Tests/SkjoldEndToEndTests/Support (a test target cannot import another one).
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A line of a child's output and when it arrived (for "listening within 5 s").
struct OutputLine: Sendable {
    var text: String
    var at: ContinuousClock.Instant
}

/// Collects one pipe of a child process on its own thread until end of file.
final class OutputCollector: @unchecked Sendable {
    // @unchecked: all state is guarded by `lock`.
    private let lock = NSLock()
    private var bytes = Data()
    private var pending = Data()
    private var completeLines: [OutputLine] = []
    private var finished = false

    init(_ pipe: Pipe) {
        let handle = pipe.fileHandleForReading
        // A thread of its own rather than a pool thread: it blocks for the child's whole life.
        let thread = Thread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                append(chunk)
            }
            lock.withLock {
                if !pending.isEmpty {
                    completeLines.append(OutputLine(text: String(decoding: pending, as: UTF8.self), at: .now))
                    pending.removeAll()
                }
                finished = true
            }
        }
        thread.start()
    }

    private func append(_ chunk: Data) {
        let now = ContinuousClock.now
        lock.withLock {
            bytes.append(chunk)
            pending.append(chunk)
            while let newline = pending.firstIndex(of: 0x0A) {
                var line = pending[pending.startIndex..<newline]
                if line.last == 0x0D { line = line.dropLast() }
                completeLines.append(OutputLine(text: String(decoding: line, as: UTF8.self), at: now))
                pending.removeSubrange(pending.startIndex...newline)
            }
        }
    }

    var text: String { lock.withLock { String(decoding: bytes, as: UTF8.self) } }
    var lines: [OutputLine] { lock.withLock { completeLines } }
    var isFinished: Bool { lock.withLock { finished } }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(20))
    }
}

/// What a finished `skjold` command printed and how it exited.
struct CommandResult: Sendable, CustomStringConvertible {
    var arguments: [String]
    var status: Int32
    var stdout: String
    var stderr: String

    var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }

    var description: String {
        "skjold \(arguments.joined(separator: " ")) -> exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)"
    }
}

struct ChildTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out: \(what)" }
}

/// Runs child processes the way an admin would, with nothing inherited that could change where
/// Skjold looks for its configuration.
enum Child {
    static var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["SKJOLD_CONFIG"] = nil
        return env
    }

    /// Launches `executable` with stdout and stderr collected, stdin from `stdin` (or /dev/null).
    static func launch(_ executable: URL, _ arguments: [String], in directory: URL,
                       stdin: String? = nil) throws -> (Process, OutputCollector, OutputCollector) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input: Pipe?
        if stdin != nil {
            let pipe = Pipe()
            process.standardInput = pipe
            input = pipe
        } else {
            process.standardInput = FileHandle.nullDevice
            input = nil
        }
        // Foundation closes the parent's copies of the child's pipe ends in run(), so the readers
        // see end of file when the child (and anything it spawned) exits.
        try process.run()
        if let input, let stdin {
            try input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8))
            try input.fileHandleForWriting.close()
        }
        return (process, OutputCollector(out), OutputCollector(err))
    }

    /// Waits for `process` to exit, then SIGKILLs it if it has not after `timeout`.
    static func waitForExit(_ process: Process, timeout: Duration) async -> Bool {
        if await eventually(timeout: timeout, { !process.isRunning }) {
            process.waitUntilExit()
            return true
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return false
    }

    /// Runs one admin command to completion (bounded: 60 s).
    static func skjold(_ arguments: [String], in directory: URL, stdin: String? = nil) async throws -> CommandResult {
        try await run(try SkjoldBinary.url(), arguments, in: directory, stdin: stdin)
    }

    /// Runs any program to completion (bounded: 60 s).
    static func run(_ executable: URL, _ arguments: [String], in directory: URL, stdin: String? = nil) async throws -> CommandResult {
        let (process, out, err) = try launch(executable, arguments, in: directory, stdin: stdin)
        guard await waitForExit(process, timeout: .seconds(60)) else {
            throw ChildTimeout(what: "\(executable.lastPathComponent) \(arguments.joined(separator: " "))")
        }
        _ = await eventually(timeout: .seconds(5)) { out.isFinished && err.isFinished }
        return CommandResult(arguments: arguments, status: process.terminationStatus, stdout: out.text, stderr: err.text)
    }
}

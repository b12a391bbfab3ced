// StoreBench: durable delivery throughput of the embedded store.
//
// Delivers N messages of S bytes with C concurrent tasks, round-robin over A accounts (or enqueues them on the
// outbound queue with --queue), in a fresh data directory, and prints deliveries per second. Every call is
// awaited to completion, so each counted message was durable (blob and index fsync'd) when it was counted.
//
//   swift build -c release && .build/release/StoreBench -n 5000 -s 4096 -c 16 -a 1
import Foundation
import MailStore
import MailStoreSQLite
import Synchronization

struct Options {
    var messages = 5000
    var size = 4096
    var concurrency = 16
    var accounts = 1
    var queue = false
    var directory = FileManager.default.temporaryDirectory.path
    var keep = false

    static let usage = """
        usage: StoreBench [-n messages] [-s bytes] [-c concurrency] [-a accounts] [--queue] [--dir parent] [--keep]
          -n  messages to deliver (default 5000)
          -s  size of each message in bytes (default 4096)
          -c  concurrent delivering tasks (default 16)
          -a  accounts to spread the deliveries over, round-robin (default 1)
          --queue  enqueue on the outbound queue instead of delivering to mailboxes
          --dir    parent folder of the throwaway data directory (default: the temporary directory)
          --keep   leave the data directory in place
        """

    init(_ arguments: [String]) throws {
        var it = arguments.makeIterator()
        func number(_ flag: String) throws -> Int {
            guard let text = it.next(), let value = Int(text), value > 0 else { throw BenchError.usage("\(flag) needs a positive number") }
            return value
        }
        while let arg = it.next() {
            switch arg {
            case "-n": messages = try number(arg)
            case "-s": size = try number(arg)
            case "-c": concurrency = try number(arg)
            case "-a": accounts = try number(arg)
            case "--queue": queue = true
            case "--keep": keep = true
            case "--dir":
                guard let text = it.next() else { throw BenchError.usage("--dir needs a folder") }
                directory = text
            case "-h", "--help": throw BenchError.usage(nil)
            default: throw BenchError.usage("unknown argument \(arg)")
            }
        }
    }
}

enum BenchError: Error { case usage(String?) }

/// A message of exactly `size` bytes with a unique Message-ID, so no two blobs are equal.
func message(_ index: Int, size: Int) -> [UInt8] {
    var bytes = Array("From: bench@bench.test\r\nTo: user@bench.test\r\nMessage-ID: <\(index)@bench.test>\r\nSubject: bench \(index)\r\n\r\n".utf8)
    let line = Array("The quick brown fox jumps over the lazy dog 0123456789 abcdefghijklmnopqrstuvwxyz.\r\n".utf8)
    while bytes.count < size { bytes += line }
    return Array(bytes.prefix(size))
}

func run(_ options: Options) async throws {
    let root = options.directory + "/storebench-" + RandomID.make()
    defer { if !options.keep { try? FileManager.default.removeItem(atPath: root) } }
    let store = try SQLiteMailStore(layout: StorageLayout(dataDir: root + "/data", nobackupDir: root + "/nobackup"),
                                    plans: PlanCatalog(names: ["standard"], aliasLimits: ["standard": 10]), passwordCost: 10)
    _ = try await store.directory.addDomain("bench.test")
    var opened: [any AccountMailStore] = []
    if !options.queue {
        for i in 0..<options.accounts {
            let account = try await store.directory.addAccount("user\(i)@bench.test", password: "bench password \(i)",
                                                               plan: "standard", noBackup: false)
            opened.append(try await store.mail(for: account))
        }
    }
    let mailStores = opened
    let bodies = (0..<options.messages).map { message($0, size: options.size) }
    let next = Counter()
    let clock = ContinuousClock()
    let start = clock.now
    let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
        for _ in 0..<options.concurrency {
            group.addTask {
                var mine: [Duration] = []
                while let i = next.take(below: options.messages) {
                    let began = clock.now
                    if options.queue {
                        _ = try await store.queue.enqueue(sender: "bench@bench.test",
                                                          recipients: [QueuedRecipient(address: "user\(i)@remote.example")],
                                                          source: .bytes(bodies[i]), accountID: nil, dsn: DSNEnvelope())
                    } else {
                        _ = try await mailStores[i % mailStores.count].deliver(.bytes(bodies[i]), to: "INBOX", flags: [],
                                                                               internalDate: Date())
                    }
                    mine.append(clock.now - began)
                }
                return mine
            }
        }
        var all: [Duration] = []
        for try await part in group { all += part }
        return all
    }
    let elapsed = clock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let sorted = latencies.sorted()
    func ms(_ p: Double) -> String {
        let d = sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
        let v = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        return String(format: "%.1f", v)
    }
    // Check the work really landed: every message indexed.
    var stored = 0
    if options.queue {
        stored = try await store.queue.list().count
    } else {
        for mail in mailStores { stored += try await mail.messages(in: "INBOX").count }
    }
    let target = options.queue ? "queue" : "\(options.accounts) account(s)"
    print("""
        \(options.messages) x \(options.size) B, concurrency \(options.concurrency), \(target): \
        \(String(format: "%.2f", seconds)) s, \(String(format: "%.0f", Double(options.messages) / seconds)) msgs/s, \
        latency p50 \(ms(0.5)) ms p99 \(ms(0.99)) ms, stored \(stored)
        """)
    if stored != options.messages { throw MailStoreError.io("expected \(options.messages) stored, found \(stored)") }
}

/// Hands out message indexes to the delivering tasks.
final class Counter: Sendable {
    private let value = Mutex(0)
    func take(below limit: Int) -> Int? {
        value.withLock { v in
            guard v < limit else { return nil }
            defer { v += 1 }
            return v
        }
    }
}

do {
    try await run(try Options(Array(CommandLine.arguments.dropFirst())))
} catch BenchError.usage(let problem) {
    if let problem { FileHandle.standardError.write(Data((problem + "\n").utf8)) }
    print(Options.usage)
    exit(problem == nil ? 0 : 2)
} catch {
    FileHandle.standardError.write(Data("StoreBench: \(error)\n".utf8))
    exit(1)
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The resolver settings of a resolv.conf(5) file: `nameserver` lines and the `timeout:`/`attempts:`
/// options, with glibc's defaults and limits. Search lists and `ndots` are ignored: mail always looks up
/// fully qualified names.
public struct DNSResolverConfiguration: Sendable, Hashable {
    /// glibc MAXNS: only the first three `nameserver` lines are used.
    public static let maximumServers = 3

    public var servers: [DNSServerAddress]
    public var timeout: Duration
    public var attempts: Int

    public init(servers: [DNSServerAddress], timeout: Duration = .seconds(5), attempts: Int = 2) {
        self.servers = servers
        self.timeout = timeout
        self.attempts = attempts
    }

    /// Parses resolv.conf text. Unparsable `nameserver` lines are skipped;
    /// without any server the local resolver 127.0.0.1 is used, as glibc does. `timeout:n` is capped at
    /// 30 seconds and `attempts:n` at 5 (glibc RES_MAXRETRANS, RES_MAXRETRY); defaults are 5 s and 2.
    public init(resolvConf text: String) {
        var servers: [DNSServerAddress] = []
        var timeoutSeconds = 5
        var attempts = 2
        for line in text.split(whereSeparator: \.isNewline) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let keyword = words.first, !keyword.hasPrefix("#"), !keyword.hasPrefix(";") else { continue }
            switch keyword {
            case "nameserver":
                guard words.count >= 2, servers.count < Self.maximumServers,
                      let server = try? DNSServerAddress(parsing: String(words[1]))
                else { continue }
                servers.append(server)
            case "options":
                for option in words.dropFirst() {
                    if option.hasPrefix("timeout:"), let value = Int(option.dropFirst("timeout:".count)) {
                        timeoutSeconds = min(max(value, 1), 30)
                    } else if option.hasPrefix("attempts:"), let value = Int(option.dropFirst("attempts:".count)) {
                        attempts = min(max(value, 1), 5)
                    }
                }
            default:
                continue
            }
        }
        if servers.isEmpty { servers = [DNSServerAddress(host: "127.0.0.1")] }
        self.init(servers: servers, timeout: .seconds(timeoutSeconds), attempts: attempts)
    }

    /// Reads and parses the file at `path`; a missing file gives the defaults (127.0.0.1, 5 s, 2 attempts).
    public init(contentsOf path: String) throws(DNSConfigurationError) {
        guard FileManager.default.fileExists(atPath: path) else {
            self.init(resolvConf: "")
            return
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadableResolvConf(path)
        }
        self.init(resolvConf: String(decoding: data, as: UTF8.self))
    }
}

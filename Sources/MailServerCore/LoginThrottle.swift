import Foundation

/// Failed-login throttling shared by every protocol that checks passwords (SMTP AUTH, IMAP, POP3, web).
///
/// Failures are counted per login name and per client address (IPv6: the /64) within a sliding
/// window. Each failure beyond the first is answered after a growing delay (0.5 s, 1 s, 2 s, ... up to
/// `maximumDelay`), and once either count reaches `lockoutThreshold` further attempts are refused
/// outright (a temporary failure, `454 4.7.0`, `NO [UNAVAILABLE]`, `-ERR [SYS/TEMP]`) until the window
/// has passed. A successful login clears the count of that login name.
///
/// Privacy: kept in memory only, never logged, never written to disk; entries expire with the window.
public final class LoginThrottle: Sendable {
    /// What the caller should do before checking a password.
    public enum Decision: Sendable, Equatable {
        /// Check the password now.
        case proceed
        /// Too many recent failures for this login or address: refuse without checking.
        case refuse
    }

    private struct Entry {
        var failures: Int
        var lastFailure: ContinuousClock.Instant
    }

    private struct State {
        var byLogin: [String: Entry] = [:]
        var byAddress: [String: Entry] = [:]
        var operations = 0
    }

    public let window: Duration
    public let lockoutThreshold: Int
    public let maximumDelay: Duration
    private let state = LockedBox(State())
    private let clock = ContinuousClock()

    /// - Parameters:
    ///   - window: How long a failure counts.
    ///   - lockoutThreshold: Failures (per login or per address) after which attempts are refused.
    ///   - maximumDelay: Upper bound of the delay added to a failed attempt.
    public init(window: Duration = .seconds(15 * 60), lockoutThreshold: Int = 20, maximumDelay: Duration = .seconds(8)) {
        self.window = window
        self.lockoutThreshold = max(1, lockoutThreshold)
        self.maximumDelay = maximumDelay
    }

    /// The process-wide instance the protocol servers share, so that switching protocols does not reset
    /// an attacker's count.
    public static let shared = LoginThrottle()

    /// Whether an attempt for `login` from `address` may be checked at all.
    public func check(login: String, address: String?) -> Decision {
        let now = clock.now
        return state.withLock { state in
            let loginFailures = Self.count(state.byLogin[Self.key(login)], now: now, window: window)
            let addressFailures = address.map { Self.count(state.byAddress[$0], now: now, window: window) } ?? 0
            return max(loginFailures, addressFailures) >= lockoutThreshold ? .refuse : .proceed
        }
    }

    /// Records a failed attempt and returns how long to wait before answering it.
    public func recordFailure(login: String, address: String?) -> Duration {
        let now = clock.now
        return state.withLock { state in
            state.operations &+= 1
            if state.operations % 1024 == 0 { Self.prune(&state, now: now, window: window) }
            let loginCount = Self.bump(&state.byLogin, key: Self.key(login), now: now, window: window)
            let addressCount = address.map { Self.bump(&state.byAddress, key: $0, now: now, window: window) } ?? 0
            return delay(afterFailures: max(loginCount, addressCount))
        }
    }

    /// Records a successful login: its own failure count is forgotten (the address count stays, so one
    /// valid account cannot be used to reset guessing at others).
    public func recordSuccess(login: String) {
        state.withLock { state in _ = state.byLogin.removeValue(forKey: Self.key(login)) }
    }

    /// The delay for the n-th failure in the window: none for the first, then doubling from 0.5 s.
    public func delay(afterFailures failures: Int) -> Duration {
        guard failures >= 2 else { return .zero }
        let exponent = min(failures - 2, 16)
        let delay = Duration.milliseconds(500) * (1 << exponent)
        return min(delay, maximumDelay)
    }

    private static func key(_ login: String) -> String { login.lowercased() }

    private static func count(_ entry: Entry?, now: ContinuousClock.Instant, window: Duration) -> Int {
        guard let entry, now - entry.lastFailure < window else { return 0 }
        return entry.failures
    }

    private static func bump(_ table: inout [String: Entry], key: String, now: ContinuousClock.Instant, window: Duration) -> Int {
        let previous = count(table[key], now: now, window: window)
        table[key] = Entry(failures: previous &+ 1, lastFailure: now)
        return previous &+ 1
    }

    private static func prune(_ state: inout State, now: ContinuousClock.Instant, window: Duration) {
        state.byLogin = state.byLogin.filter { now - $0.value.lastFailure < window }
        state.byAddress = state.byAddress.filter { now - $0.value.lastFailure < window }
    }
}

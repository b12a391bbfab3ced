import Foundation

/// Failed-login throttling shared by every protocol that checks passwords (SMTP AUTH, IMAP, POP3, web).
///
/// Failures are counted per login name, per client address (IPv6: the /64) and per pair of both, within
/// a sliding window. Each failure beyond the first is answered after a growing delay (0.5 s, 1 s, 2 s,
/// ... up to `maximumDelay`), driven by the larger of the login and the address count. Attempts are
/// refused outright (a temporary failure: `454 4.7.0`, `NO [UNAVAILABLE]`, `-ERR [SYS/TEMP]`) once the
/// client address, or that address for that login, has failed `lockoutThreshold` times — never because
/// of failures from other addresses alone, so an attacker elsewhere cannot lock the owner out.
/// A successful login clears the counts of that login name.
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
        var byPair: [String: Entry] = [:]
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
    public init(window: Duration = .seconds(15 * 60), lockoutThreshold: Int = 10, maximumDelay: Duration = .seconds(2)) {
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
            guard let address else { return .proceed }
            let addressFailures = Self.count(state.byAddress[address], now: now, window: window)
            let pairFailures = Self.count(state.byPair[Self.pairKey(login, address)], now: now, window: window)
            return max(addressFailures, pairFailures) >= lockoutThreshold ? .refuse : .proceed
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
            if let address { _ = Self.bump(&state.byPair, key: Self.pairKey(login, address), now: now, window: window) }
            return delay(afterFailures: max(loginCount, addressCount))
        }
    }

    /// Records a successful login: the failure counts of that login are forgotten (the address count
    /// stays, so one valid account cannot be used to reset guessing at others).
    public func recordSuccess(login: String, address: String? = nil) {
        state.withLock { state in
            _ = state.byLogin.removeValue(forKey: Self.key(login))
            if let address { _ = state.byPair.removeValue(forKey: Self.pairKey(login, address)) }
        }
    }

    /// The delay for the n-th failure in the window: none for the first, then doubling from 0.5 s.
    public func delay(afterFailures failures: Int) -> Duration {
        guard failures >= 2 else { return .zero }
        let exponent = min(failures - 2, 16)
        let delay = Duration.milliseconds(500) * (1 << exponent)
        return min(delay, maximumDelay)
    }

    private static func key(_ login: String) -> String { login.lowercased() }
    private static func pairKey(_ login: String, _ address: String) -> String { login.lowercased() + "\u{0}" + address }

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
        state.byPair = state.byPair.filter { now - $0.value.lastFailure < window }
    }
}

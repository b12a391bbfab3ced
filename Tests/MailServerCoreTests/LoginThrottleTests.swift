import Testing

@testable import MailServerCore

@Suite("Login throttling") struct LoginThrottleTests {
    @Test("delays grow after the first failure and are capped")
    func delays() {
        let throttle = LoginThrottle(lockoutThreshold: 100, maximumDelay: .seconds(4))
        #expect(throttle.recordFailure(login: "a@x", address: "192.0.2.1") == .zero)
        #expect(throttle.recordFailure(login: "a@x", address: "192.0.2.1") == .milliseconds(500))
        #expect(throttle.recordFailure(login: "a@x", address: "192.0.2.1") == .seconds(1))
        #expect(throttle.recordFailure(login: "a@x", address: "192.0.2.1") == .seconds(2))
        #expect(throttle.recordFailure(login: "a@x", address: "192.0.2.1") == .seconds(4))
        #expect(throttle.recordFailure(login: "a@x", address: "192.0.2.1") == .seconds(4))
        #expect(throttle.delay(afterFailures: 10_000) == .seconds(4), "no overflow")
    }

    @Test("an attacking address is refused, the owner elsewhere is not locked out")
    func lockoutIsPerAddress() {
        let throttle = LoginThrottle(lockoutThreshold: 5, maximumDelay: .zero)
        for _ in 0..<200 { _ = throttle.recordFailure(login: "victim@x", address: "198.51.100.7") }
        #expect(throttle.check(login: "victim@x", address: "198.51.100.7") == .refuse)
        #expect(throttle.check(login: "other@x", address: "198.51.100.7") == .refuse, "the address is refused for every login")
        #expect(throttle.check(login: "victim@x", address: "203.0.113.9") == .proceed, "the owner from elsewhere still gets in")
        #expect(throttle.check(login: "VICTIM@X", address: "203.0.113.9") == .proceed)
    }

    @Test("failures expire with the window; success clears the login's count")
    func windowAndSuccess() async throws {
        let throttle = LoginThrottle(window: .milliseconds(200), lockoutThreshold: 3, maximumDelay: .seconds(1))
        for _ in 0..<3 { _ = throttle.recordFailure(login: "a@x", address: "192.0.2.1") }
        #expect(throttle.check(login: "a@x", address: "192.0.2.1") == .refuse)
        try await Task.sleep(for: .milliseconds(300))
        #expect(throttle.check(login: "a@x", address: "192.0.2.1") == .proceed)
        _ = throttle.recordFailure(login: "b@x", address: "192.0.2.2")
        #expect(throttle.recordFailure(login: "b@x", address: "192.0.2.3") == .milliseconds(500), "login count spans addresses")
        throttle.recordSuccess(login: "b@x", address: "192.0.2.3")
        #expect(throttle.recordFailure(login: "b@x", address: "192.0.2.4") == .zero)
    }
}

/// Why a lookup produced no answer. Every case is temporary for mail delivery (RFC 5321 §5.1: defer, do
/// not bounce) except `invalidName`, which no retry can fix.
public enum DNSError: Error, Sendable, Hashable {
    /// Every server answered SERVFAIL, REFUSED or another error RCODE (RFC 1035 §4.1.1), or hung up: retry later.
    case serverFailure(String)
    /// No server replied within the timeout on any attempt.
    case timeout
    /// A server replied from the right address with a message that does not decode or does not fit the
    /// question (a CNAME loop, an over-long chain).
    case malformedResponse(String)
    /// The name is not a valid ASCII domain name (callers pass A-labels, RFC 5890).
    case invalidName(String)
    /// The resolver was configured without a usable server address.
    case noServers
}

/// Why a resolver could not be configured.
public enum DNSConfigurationError: Error, Sendable, Hashable {
    /// Not a numeric IPv4/IPv6 address with an optional port in 1...65535.
    case invalidServerAddress(String)
    /// The resolv.conf file exists but could not be read.
    case unreadableResolvConf(String)
}

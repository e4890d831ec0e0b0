import Foundation

/// Limits failed logins per login name and per client address, in fixed windows.
///
/// Defaults: 5 failures of one login name or 20 from one address within a 15-minute window lock that name or
/// address until the window ends (429 with `Retry-After`). A success clears the name's count. The executable gives
/// it the database's counters (`SQLWindowCounters`), so a lockout holds on every instance and survives a restart;
/// only logins touch them, never API calls. Tests may use ``InMemoryWindowCounters``.
public struct LoginThrottle: Sendable {
    /// Limits.
    public struct Limits: Sendable {
        /// Failures per login name per window.
        public var perLoginName: Int
        /// Failures per client address per window.
        public var perAddress: Int
        /// Window length in seconds.
        public var window: TimeInterval

        /// Creates limits.
        public init(perLoginName: Int = 5, perAddress: Int = 20, window: TimeInterval = 900) {
            self.perLoginName = perLoginName
            self.perAddress = perAddress
            self.window = window
        }
    }

    /// The limits in force.
    public let limits: Limits
    /// Where failures are counted.
    public let counters: any WindowCounters

    /// Creates a throttle.
    public init(limits: Limits = Limits(), counters: any WindowCounters = InMemoryWindowCounters()) {
        self.limits = limits
        self.counters = counters
    }

    private func buckets(loginName: String, address: String, now: Date) -> [CounterBucket] {
        [
            CounterBucket.window("lf|n|" + loginName.lowercased(), length: Int(limits.window), budget: limits.perLoginName, now: now),
            CounterBucket.window("lf|a|" + address, length: Int(limits.window), budget: limits.perAddress, now: now),
        ]
    }

    /// Throws ``KeygateError/rateLimited(retryAfterSeconds:limit:)`` while the name or the address is locked.
    public func check(loginName: String, address: String, now: Date) async throws {
        let buckets = buckets(loginName: loginName, address: address, now: now)
        let counts = try await counters.counts(buckets.map(\.key))
        if let locked = buckets.first(where: { (counts[$0.key] ?? 0) >= $0.budget }) {
            throw KeygateError.rateLimited(
                retryAfterSeconds: max(1, Int(locked.expiresAt.timeIntervalSince(now).rounded(.up))),
                limit: "\(locked.budget) failed logins per \(Int(limits.window / 60)) minutes")
        }
    }

    /// Counts a failure against the name and the address.
    public func recordFailure(loginName: String, address: String, now: Date) async throws {
        try await counters.increment(buckets(loginName: loginName, address: address, now: now))
    }

    /// Clears the name's count after a successful login.
    public func recordSuccess(loginName: String, now: Date) async throws {
        try await counters.reset(buckets(loginName: loginName, address: "", now: now)[0].key)
    }
}

import Foundation
import Synchronization

/// Limits failed logins per login name and per client address (fixed windows, in this process).
///
/// Defaults: 5 failures of one login name or 20 from one address within 15 minutes lock that name or address
/// for the rest of the window. A success clears the name's count. Decision: the counters live in memory; with
/// several instances each enforces its own count (issue 4 moves them to the shared database).
public final class LoginThrottle: Sendable {
    /// Limits.
    public struct Limits: Sendable {
        /// Failures per login name per window.
        public var perLoginName: Int
        /// Failures per client address per window.
        public var perAddress: Int
        /// Window length.
        public var window: TimeInterval

        /// Creates limits.
        public init(perLoginName: Int = 5, perAddress: Int = 20, window: TimeInterval = 900) {
            self.perLoginName = perLoginName
            self.perAddress = perAddress
            self.window = window
        }
    }

    private struct Counter {
        var windowStart: Date
        var failures: Int
    }

    private let limits: Limits
    private let state = Mutex<[String: Counter]>([:])

    /// Creates a throttle.
    public init(limits: Limits = Limits()) { self.limits = limits }

    /// Throws ``KeygateError/rateLimited(retryAfterSeconds:limit:)`` while the name or address is locked.
    public func check(loginName: String, address: String, now: Date) throws {
        let retry = state.withLock { counters -> Int? in
            var worst: Int?
            for (key, limit) in [("n:" + loginName.lowercased(), limits.perLoginName), ("a:" + address, limits.perAddress)] {
                guard let c = counters[key] else { continue }
                let end = c.windowStart.addingTimeInterval(limits.window)
                if now >= end { counters[key] = nil; continue }
                if c.failures >= limit { worst = max(worst ?? 0, Int(end.timeIntervalSince(now).rounded(.up))) }
            }
            return worst
        }
        if let retry {
            throw KeygateError.rateLimited(
                retryAfterSeconds: max(retry, 1), limit: "\(limits.perLoginName) failed logins per \(Int(limits.window / 60)) minutes")
        }
    }

    /// Counts a failure against the name and the address.
    public func recordFailure(loginName: String, address: String, now: Date) {
        state.withLock { counters in
            for key in ["n:" + loginName.lowercased(), "a:" + address] {
                if var c = counters[key], now < c.windowStart.addingTimeInterval(limits.window) {
                    c.failures += 1
                    counters[key] = c
                } else {
                    counters[key] = Counter(windowStart: now, failures: 1)
                }
            }
            // Bound memory under a spray of distinct names: drop expired windows when the table grows.
            if counters.count > 100_000 {
                counters = counters.filter { now < $0.value.windowStart.addingTimeInterval(limits.window) }
            }
        }
    }

    /// Clears the name's count after a successful login.
    public func recordSuccess(loginName: String) {
        _ = state.withLock { $0.removeValue(forKey: "n:" + loginName.lowercased()) }
    }
}

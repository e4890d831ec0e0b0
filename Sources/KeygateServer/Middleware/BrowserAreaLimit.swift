import Foundation
import Hummingbird
import KeygateCore

/// A request limit per client address for the browser areas (`/portal`, `/provider`), counted in memory: the
/// pages need no database write to be limited, and each instance limits what it serves. Defaults: 20 requests a
/// second and 600 a minute per address, far above a person's clicks and the page's few assets. Applied by
/// ``EdgeMiddleware``; API paths never reach it.
struct BrowserAreaLimit: Sendable {
    let counters: InMemoryWindowCounters
    let perSecond: Int
    let perMinute: Int
    let now: @Sendable () -> Date
    let metrics: HTTPMetrics

    /// Counts one request from `address`.
    /// - Throws: ``KeygateError/rateLimited(retryAfterSeconds:limit:)`` when a budget is spent.
    func admit(address: String) async throws {
        let buckets = [
            CounterBucket.window("pl|s|\(address)", length: 1, budget: perSecond, now: now()),
            CounterBucket.window("pl|m|\(address)", length: 60, budget: perMinute, now: now()),
        ]
        if let full = try await counters.acquire(buckets) {
            metrics.rateLimited("browser")
            let seconds = max(1, Int(full.expiresAt.timeIntervalSince(now()).rounded(.up)))
            throw KeygateError.rateLimited(retryAfterSeconds: seconds, limit: "\(full.budget) page requests")
        }
    }
}

import Foundation
import Hummingbird
import KeygateCore

/// A request limit per client address for the browser areas (`/portal`, `/provider`), counted in memory: the
/// pages need no database write to be limited, and each instance limits what it serves. Defaults: 20 requests a
/// second and 600 a minute per address, far above a person's clicks and the page's few assets.
struct BrowserAreaLimitMiddleware: RouterMiddleware {
    let counters: InMemoryWindowCounters
    let perSecond: Int
    let perMinute: Int
    let now: @Sendable () -> Date
    let metrics: HTTPMetrics

    func handle(
        _ request: Request, context: KeygateRequestContext, next: (Request, KeygateRequestContext) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/portal") || path.hasPrefix("/provider") else { return try await next(request, context) }
        let address = context.clientAddress
        let buckets = [
            CounterBucket.window("pl|s|\(address)", length: 1, budget: perSecond, now: now()),
            CounterBucket.window("pl|m|\(address)", length: 60, budget: perMinute, now: now()),
        ]
        if let full = try await counters.acquire(buckets) {
            metrics.rateLimited("browser")
            let seconds = max(1, Int(full.expiresAt.timeIntervalSince(now()).rounded(.up)))
            throw KeygateError.rateLimited(retryAfterSeconds: seconds, limit: "\(full.budget) page requests")
        }
        return try await next(request, context)
    }
}

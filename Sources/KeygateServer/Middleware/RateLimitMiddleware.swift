import Foundation
import Hummingbird
import KeygateCore

/// Applies the per-organization class limits to authenticated API requests (after the session check).
struct RateLimitMiddleware: RouterMiddleware {
    let limiter: RateLimiter
    let now: @Sendable () -> Date
    let metrics: HTTPMetrics

    func handle(
        _ request: Request, context: APIContext,
        next: (Request, APIContext) async throws -> Response
    ) async throws -> Response {
        let principal = context.principal
        let requestClass: RateLimiter.RequestClass =
            switch request.method {
            case .get, .head: .get
            case .delete: .delete
            default: .write
            }
        if let refused = try await limiter.acquire(orgID: principal.orgID, class: requestClass, now: now()) {
            metrics.rateLimited(requestClass.rawValue)
            throw KeygateError.rateLimited(retryAfterSeconds: refused.retryAfter, limit: refused.label)
        }
        return try await next(request, context)
    }
}

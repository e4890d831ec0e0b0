import Foundation
import HTTPTypes
import Hummingbird
import KeygateCore

/// Checks the caller's session on every API request, counts it as usage, applies the organization's request limits,
/// and puts the principal in the context.
///
/// The session id may arrive several times: the Go SDK re-logs in after a 401 and its cookie jar then sends the stale
/// and the new id together (`Cookie: JSESSIONID=<stale>; JSESSIONID=<new>`, stale first), plus its own
/// `JSessionID: <id>` request header. As Tomcat does, the first *valid* one wins (cookies in order, then the header);
/// only ``KeygateError/sessionNotValid`` moves on to the next, and at most ``Request/maxSessionCandidates`` are
/// tried, so a request cannot make the server check an unbounded number of ids.
///
/// The request limits are applied here rather than in a middleware of their own: they need the principal, and one
/// layer less on every API call is measurable (issue 19).
struct SessionMiddleware: RouterMiddleware {
    let keygate: Keygate
    let limiter: RateLimiter
    let now: @Sendable () -> Date
    let metrics: HTTPMetrics

    func handle(
        _ request: Request, context: KeygateRequestContext,
        next: (Request, KeygateRequestContext) async throws -> Response
    ) async throws -> Response {
        let principal = try await authenticate(request.sessionTokens)
        // Every session-checked request counts as usage (in memory; flushed by the server's usage service).
        keygate.usage.recordUsage(principal)
        try await limit(request.method, principal)
        var context = context
        context.principal = principal
        return try await next(request, context)
    }

    private func authenticate(_ tokens: [Substring]) async throws -> Principal {
        for token in tokens {
            do {
                return try await keygate.sessions.authenticate(token: token)
            } catch KeygateError.sessionNotValid {
                continue
            }
        }
        throw KeygateError.sessionNotValid
    }

    /// The per-organization class limits (``RateLimiter``): GET and HEAD, DELETE, and every other method as a write.
    private func limit(_ method: HTTPRequest.Method, _ principal: Principal) async throws {
        let requestClass: RateLimiter.RequestClass =
            switch method {
            case .get, .head: .get
            case .delete: .delete
            default: .write
            }
        guard limiter.limits[requestClass].isLimited else { return }
        if let refused = try await limiter.acquire(orgID: principal.orgID, class: requestClass, now: now()) {
            metrics.rateLimited(requestClass.rawValue)
            throw KeygateError.rateLimited(retryAfterSeconds: refused.retryAfter, limit: refused.label)
        }
    }
}

extension Request {
    /// The most session ids one request may offer.
    static let maxSessionCandidates = 4

    /// Every JSESSIONID value from the `Cookie` header(s), in order, then the `JSessionID` request header's.
    var sessionTokens: [Substring] {
        var tokens = Cookies.values(self, named: "JSESSIONID", limit: Self.maxSessionCandidates)
        if tokens.count < Self.maxSessionCandidates, let header = headers[.jSessionID] {
            tokens.append(Substring(header.trimmingCharacters(in: .whitespaces)))
        }
        return tokens
    }
}

extension HTTPField.Name {
    /// The Go SDK's own session header.
    static let jSessionID = HTTPField.Name("JSessionID")!
}

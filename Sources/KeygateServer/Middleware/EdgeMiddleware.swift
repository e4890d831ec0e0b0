import Foundation
import HTTPTypes
import Hummingbird
import KeygateCore

/// The one middleware every request passes through, outermost: what surrounds a request whatever it is.
///
/// In order, on the way in:
/// 1. the request id (``RequestIDs``): the client's `X-Request-Id` when well-formed, else a new one, bound to the
///    task for every log line;
/// 2. the client's address behind a trusted proxy, and a 400 for a second `Host` header (``TrustedProxies``);
/// 3. the browser areas' per-address limit (``BrowserAreaLimit``), for `/portal` and `/provider` only;
///
/// and on the way out, whatever happened inside:
/// 4. an error becomes an answer: a page under `/portal` and `/provider` (``BrowserAreaErrors``), the legacy JSON
///    shape everywhere else (``APIErrors``), so nothing leaves as a thrown error;
/// 5. a 404 for a path the API serves with another method becomes a 405 (``RouteTable``);
/// 6. headers every answer carries: `Cache-Control: no-store` unless a route set its own (the API's answers hold keys
///    and session state, and no shared or browser cache may keep them), `Strict-Transport-Security` (one year) when
///    Keygate serves TLS itself, and `X-Request-Id`;
/// 7. the request is counted and timed in ``HTTPMetrics`` with the status the client sees.
///
/// Why one middleware and not eight: each Hummingbird middleware is a layer of async calls and a copy of the request
/// context on every request, and the eight layers this replaces cost more than the framework's own work on the
/// session-checked hot path (issue 19's profile). Each concern is still its own type or function, tested through the
/// router; this type only puts them in order.
struct EdgeMiddleware: RouterMiddleware {
    let metrics: HTTPMetrics
    let servesTLS: Bool
    let routes: RouteTable
    let proxies: TrustedProxies
    let browserLimit: BrowserAreaLimit
    let browserErrors: BrowserAreaErrors

    func handle(
        _ request: Request, context: KeygateRequestContext, next: (Request, KeygateRequestContext) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let id = RequestIDs.id(from: request.headers[.xRequestID])
        // The path as the router sees it: parsed (an absolute-form target keeps its scheme and host in the raw one),
        // and with leading empty segments dropped (the router skips them: `//portal/signin` is the sign-in page). The area
        // it lies in, looked up only when it may be one (every such path starts with `/p`).
        let parsed = request.uri.path.drop(while: { $0 == "/" })
        let area = parsed.utf8.first == UInt8(ascii: "p") ? BrowserAreaErrors.Area.of(path: "/" + parsed) : nil
        var response = await RequestIDs.$current.withValue(id) {
            do {
                let forwarded = try proxies.forwardedClient(request, peer: context.peerAddress)
                if area != nil { try await browserLimit.admit(address: forwarded ?? context.clientAddress) }
                guard let forwarded else { return try await next(request, context) }
                var routed = context
                routed.addresses.forwarded = forwarded
                return try await next(request, routed)
            } catch {
                if let area {
                    return browserErrors.page(for: error, in: area, logger: context.logger)
                }
                return APIErrors.response(for: error, logger: context.logger)
            }
        }
        response = routes.methodNotAllowed(response, request: request, matchedRoute: context.endpointPath)
        // Appended, not assigned: no answer carries these yet, and assigning scans for one to replace.
        if !response.headers.contains(.cacheControl) { response.headers.append(HTTPField(name: .cacheControl, value: "no-store")) }
        if servesTLS { response.headers[.strictTransportSecurity] = "max-age=31536000" }
        response.headers.append(HTTPField(name: .xRequestID, value: id))
        metrics.record(route: context.endpointPath, method: request.method, status: response.status, duration: .now - start)
        return response
    }
}

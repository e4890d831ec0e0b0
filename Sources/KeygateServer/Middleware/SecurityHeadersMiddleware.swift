import Foundation
import HTTPTypes
import Hummingbird
import KeygateCore

/// Headers every answer carries.
///
/// - `Cache-Control: no-store` unless a route set its own: the API's answers hold keys and session state, and no
///   shared or browser cache may keep them.
/// - `Strict-Transport-Security` (one year) when Keygate serves TLS itself, so a browser never falls back to plain
///   HTTP for the portal.
struct SecurityHeadersMiddleware: RouterMiddleware {
    let servesTLS: Bool

    func handle(
        _ request: Request, context: KeygateRequestContext, next: (Request, KeygateRequestContext) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        if servesTLS { response.headers[.strictTransportSecurity] = "max-age=31536000" }
        return response
    }
}

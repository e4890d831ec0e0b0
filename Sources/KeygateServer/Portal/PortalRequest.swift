import Foundation
import HTTPTypes
import Hummingbird
import KeygateCore

/// The portal's cookie, CSRF token and form parsing.
///
/// - The cookie `kg_portal` holds the browser's portal session tokens, one per organization signed in to,
///   joined by `.` (tokens are hex): HttpOnly, SameSite=Strict, Path=/portal, Secure over TLS. It is separate
///   from the API's `JSESSIONID`, and a portal token is not an API session.
/// - Every form carries a CSRF token: the SHA-256 of the cookie's tokens (sorted, so their order does not
///   matter), which a page from another origin can neither read nor compute. It changes with every sign-in and
///   sign-out. POSTs also refuse an `Origin` header naming another host.
enum PortalRequest {
    static let cookieName = "kg_portal"
    /// At most this many organizations at once in one browser.
    /// Each token is one database read per page, so the bound is also the most reads a forged cookie can cause.
    static let maxSessions = 8

    /// The portal tokens in the request's cookie.
    static func tokens(_ request: Request) -> [Substring] {
        (cookie(request, named: cookieName) ?? "").split(separator: ".").prefix(maxSessions).map { $0 }
    }

    /// The value of the cookie `name`, if the request has it.
    static func cookie(_ request: Request, named name: String) -> Substring? { Cookies.value(request, named: name) }

    /// The CSRF token for a cookie value.
    static func csrfToken(cookieValue: String) -> String { Cookies.csrfToken(area: "portal", cookieValue: cookieValue) }

    /// The CSRF token for the request's own cookie.
    static func csrfToken(_ request: Request) -> String {
        csrfToken(cookieValue: tokens(request).sorted().joined(separator: "."))
    }

    /// Refuses a state-changing request without the right CSRF token, or sent from another origin.
    static func checkCSRF(_ request: Request, form: [String: String], expected: String? = nil) throws {
        try checkOrigin(request)
        guard let sent = form["csrf"], ConstantTime.equals(sent, expected ?? csrfToken(request)) else {
            throw KeygateError.forbidden("the form expired or did not come from this site: reload the page and try again")
        }
    }

    /// Refuses a POST whose `Origin` names another host than the one it was sent to, or is `null` (a sandboxed
    /// or opaque origin). Without the header (older clients, privacy tools) the CSRF token alone decides.
    static func checkOrigin(_ request: Request) throws {
        guard let origin = request.headers[.origin] else { return }
        let host = request.head.authority ?? ""
        guard let url = URL(string: origin), let originHost = url.host else {
            throw KeygateError.forbidden("cross-site request refused")
        }
        let originAuthority = url.port.map { "\(originHost):\($0)" } ?? originHost
        guard originAuthority.lowercased() == host.lowercased() else { throw KeygateError.forbidden("cross-site request refused") }
    }

    /// `Set-Cookie` for `tokens` (an expired cookie when empty).
    static func setCookie(_ tokens: [String], secure: Bool) -> String {
        Cookies.set(cookieName, tokens.isEmpty ? nil : tokens.joined(separator: "."), path: "/portal", secure: secure)
    }

    /// An `application/x-www-form-urlencoded` body as a dictionary (the last value of a repeated field wins).
    /// - Throws: ``KeygateError/invalidInput(_:)`` for another content type or a body that is not text.
    static func form(_ request: Request, context: some KeygateContext) async throws -> [String: String] {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/x-www-form-urlencoded") else {
            throw KeygateError.invalidInput("expected a form (application/x-www-form-urlencoded)")
        }
        let buffer = try await context.collectBody(request)
        guard let text = buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes) else {
            throw KeygateError.invalidInput("the form is not text")
        }
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String? { s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard let name = parts.first.flatMap(decode) else { throw KeygateError.invalidInput("the form is malformed") }
            guard let value = parts.count > 1 ? decode(parts[1]) : "" else { throw KeygateError.invalidInput("the form is malformed") }
            fields[name] = value
        }
        return fields
    }
}

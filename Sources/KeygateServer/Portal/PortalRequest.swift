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

    /// `Set-Cookie` for `tokens` (an expired cookie when empty).
    static func setCookie(_ tokens: [String], secure: Bool) -> String {
        Cookies.set(cookieName, tokens.isEmpty ? nil : tokens.joined(separator: "."), path: "/portal", secure: secure)
    }

    /// A portal POST's form, refused without the token of the request's own cookie or from another origin.
    static func checkedForm<Form: TokenForm>(_ type: Form.Type, _ request: Request, context: some KeygateContext) async throws -> Form {
        try await BrowserForms.checkedForm(Form.self, request, context: context, expected: csrfToken(request))
    }

    /// See ``BrowserForms/checkOrigin(_:)``.
    static func checkOrigin(_ request: Request) throws { try BrowserForms.checkOrigin(request) }
}

import Foundation
import HTTPTypes
import Hummingbird
import KeygateCore

/// What the portal's and the console's forms share: parsing a posted form, the CSRF and Origin checks, and the
/// sentence a refusal is shown as. Each area supplies its own CSRF token (``Cookies/csrfToken(area:cookieValue:)``).
enum BrowserForms {
    /// Refuses a state-changing request without the right CSRF token, or sent from another origin.
    static func checkCSRF(_ request: Request, form: [String: String], expected: String) throws {
        try checkOrigin(request)
        guard let sent = form["csrf"], ConstantTime.equals(sent, expected) else {
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

    /// A domain message as a sentence for a page: capitalized, with a full stop.
    static func sentence(_ message: String) -> String {
        let text = message.prefix(1).uppercased() + message.dropFirst()
        return text.hasSuffix(".") ? text : text + "."
    }
}

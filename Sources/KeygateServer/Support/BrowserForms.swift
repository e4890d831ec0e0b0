import Foundation
import HTTPTypes
import Hummingbird
import KeygateCore

/// What the portal's and the console's forms share: parsing a posted form, the CSRF and Origin checks, and the
/// sentence a refusal is shown as. Each area supplies its own CSRF token (``Cookies/csrfToken(area:cookieValue:)``).
enum BrowserForms {
    /// Refuses a state-changing request without the right CSRF token, or sent from another origin.
    static func checkCSRF(_ request: Request, token: String?, expected: String) throws {
        try checkOrigin(request)
        guard let token, ConstantTime.equals(token, expected) else {
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

    /// A state-changing form: decoded, then refused without `expected` (the area's CSRF token) or from another origin.
    static func checkedForm<Form: TokenForm>(
        _ type: Form.Type, _ request: Request, context: some KeygateContext, expected: String
    ) async throws -> Form {
        let form = try await decode(Form.self, request, context: context)
        try checkCSRF(request, token: form.csrf, expected: expected)
        return form
    }

    /// An `application/x-www-form-urlencoded` body decoded into its form struct with Hummingbird's
    /// `URLEncodedFormDecoder`.
    /// - Throws: ``KeygateError/invalidInput(_:)`` for another content type, a body that is not text, a repeated
    ///   field, or a value the struct cannot hold.
    static func decode<Form: Decodable>(_ type: Form.Type, _ request: Request, context: some KeygateContext) async throws -> Form {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw KeygateError.invalidInput("expected a form (application/x-www-form-urlencoded)")
        }
        let buffer = try await context.collectBody(request)
        guard let text = buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes) else {
            throw KeygateError.invalidInput("the form is not text")
        }
        do {
            return try URLEncodedFormDecoder().decode(Form.self, from: text)
        } catch let error as DecodingError {
            throw KeygateError.invalidInput(Self.problem(error))
        } catch {
            throw KeygateError.invalidInput("the form is malformed")
        }
    }

    /// What is wrong with a form, for the page.
    private static func problem(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context), .dataCorrupted(let context):
            guard let field = context.codingPath.last?.stringValue else { return "the form is malformed" }
            return "the form's field \(field) is not valid"
        @unknown default:
            return "the form is malformed"
        }
    }

    /// A domain message as a sentence for a page: capitalized, with a full stop.
    static func sentence(_ message: String) -> String {
        let text = message.prefix(1).uppercased() + message.dropFirst()
        return text.hasSuffix(".") ? text : text + "."
    }
}

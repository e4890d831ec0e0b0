import HTTPTypes
import Hummingbird
import KeygateCore
import Logging
import Mustache

/// Renders the portal's pages. Every HTML answer carries a strict Content-Security-Policy (scripts and styles
/// from this origin only, no framing), `no-store`, and `Referrer-Policy: same-origin` (no referrer leaves the
/// site; `no-referrer` would also make the browser send `Origin: null` on the portal's own form posts).
struct PortalViews: Sendable {
    let library: MustacheLibrary

    init() {
        var library = MustacheLibrary()
        for template in Template.allCases {
            // The templates are compiled in; a parse error is a programming error caught by every portal test.
            do { try library.register(template.source, named: template.rawValue) } catch {
                preconditionFailure("template \(template.rawValue): \(error)")
            }
        }
        self.library = library
    }

    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy:
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        .cacheControl: "no-store",
        HTTPField.Name("Referrer-Policy")!: "same-origin",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
    ]

    /// A page, from its typed view model (``PageModel``), with the model's template.
    func page(_ model: some PageModel, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        let html = library.render(model, withTemplate: model.template.rawValue) ?? ""
        var headers = Self.securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A page with a heading, a sentence and an optional link: errors and notices.
    func message(
        heading: String, text: String, status: HTTPResponse.Status, link: (href: String, label: String)? = nil,
        chrome: PortalChrome = PortalChrome(), console: Bool = false
    ) -> Response {
        guard !console else { return page(ConsoleMessagePage(title: heading, heading: heading, text: text), status: status) }
        let model = MessagePage(
            chrome: chrome, title: heading, heading: heading, text: text, link: link.map { MessagePage.Link(href: $0.href, label: $0.label) })
        return page(model, status: status)
    }

    /// A redirect after a form (303, so the browser follows with GET).
    static func redirect(_ location: String, headers extra: HTTPFields = [:]) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        headers.append(contentsOf: extra)
        return Response(status: .seeOther, headers: headers)
    }

    /// A static asset.
    static func asset(_ text: String, type: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=300", HTTPField.Name("X-Content-Type-Options")!: "nosniff"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Turns any error on a portal or console path into an HTML page (never the API's JSON), with the same status
/// mapping: every request under `/portal` and `/provider`, an unknown path or method there too (route-group
/// middleware would not see those: the router answers them before any group). Applied by ``EdgeMiddleware``.
/// An ended or missing session goes back to the area's sign-in page.
struct BrowserAreaErrors: Sendable {
    /// Where an ended session goes, where "back" leads, and whose message page: the portal's or the console's.
    struct Area: Sendable {
        var signInPath: String
        var home: String
        var console: Bool

        static let portal = Area(signInPath: "/portal/signin", home: "/portal", console: false)
        static let provider = Area(signInPath: "/provider/signin", home: "/provider", console: true)

        /// The browser area `path` lies in, if any.
        static func of(path: String) -> Area? {
            if path == "/portal" || path.hasPrefix("/portal/") { return .portal }
            if path == "/provider" || path.hasPrefix("/provider/") { return .provider }
            return nil
        }
    }

    let views: PortalViews

    /// The page for `error` in `area`.
    func page(for error: any Error, in area: Area, logger: Logger) -> Response {
        switch error {
        case let error as KeygateError:
            switch error {
            case .sessionNotValid:
                return PortalViews.redirect(area.signInPath)
            case .rateLimited(let seconds, _), .loginLocked(let seconds):
                return views.message(
                    heading: "Too many attempts", text: "Wait \(seconds) seconds, then try again.", status: .tooManyRequests,
                    link: (area.signInPath, "Sign in"), console: area.console)
            default:
                let (status, _, text) = error.http
                return views.message(
                    heading: Self.heading(status), text: text, status: status, link: (area.home, "Back"), console: area.console)
            }
        case let error as HTTPError:
            return views.message(
                heading: Self.heading(error.status), text: error.body ?? "The request could not be handled.", status: error.status,
                console: area.console)
        default:
            logger.error("portal request failed", metadata: ["error": "\(String(reflecting: error))"])
            return views.message(
                heading: "Something went wrong", text: "The server could not complete this request. Nothing was changed; try again.",
                status: .serviceUnavailable, console: area.console)
        }
    }

    static func heading(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "That did not work"
        case 401: "Sign in needed"
        case 403: "Not allowed"
        case 404: "Not found"
        case 409: "Changed meanwhile"
        case 413: "Too large"
        default: "Something went wrong"
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import KeygateCore

/// The provider console (`/provider`): the operator's view across organizations. List them (admins, key
/// status, last use), create one, disable or enable its key, read its audit trail. Operators sign in with
/// accounts made by `keygate provider create-operator`; the cookie `kg_provider` (Path=/provider) is separate
/// from the portal's and the API's.
struct ProviderController {
    let keygate: Keygate
    let views: PortalViews
    let settings: ServerSettings
    static let cookieName = "kg_provider"

    func addRoutes(to router: Router<KeygateRequestContext>) {
        let console = router.group("provider")
        console.get("signin", use: signInPage)
        console.post("signin", use: signIn)
        // Every other page: behind the console's session check, with the operator in a typed context.
        let signedIn = console.group().add(middleware: ConsoleSessionMiddleware(keygate: keygate)).group(context: ConsoleContext.self)
        signedIn.get(use: organizations)
        signedIn.post("signout", use: signOut)
        signedIn.post("orgs", use: createOrganization)
        signedIn.get("orgs/{orgID}", use: organization)
        signedIn.post("orgs/{orgID}/key", use: setKeyEnabled)
    }

    func secure(_ request: Request, _ context: some KeygateContext) -> Bool { settings.cookiesAreSecure(request, context) }

    func setCookie(_ token: String?, request: Request, context: some KeygateContext) -> String {
        Cookies.set(Self.cookieName, token, path: "/provider", secure: secure(request, context))
    }

    static func csrf(_ token: Substring) -> String { Cookies.csrfToken(area: "provider", cookieValue: token) }

    /// A POST's form after the CSRF and origin checks.
    func checkedForm<Form: TokenForm>(_ type: Form.Type, _ request: Request, context: ConsoleContext) async throws -> Form {
        try await BrowserForms.checkedForm(Form.self, request, context: context, expected: Self.csrf(context.token[...]))
    }

    @Sendable func signInPage(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        views.page(ConsoleSignInPage())
    }

    @Sendable func signIn(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        try BrowserForms.checkOrigin(request)
        let form = try await BrowserForms.decode(SignInForm.self, request, context: context)
        let login = form.loginName ?? ""
        func failed(_ message: String, _ status: HTTPResponse.Status) -> Response {
            views.page(ConsoleSignInPage(error: message, loginName: login), status: status)
        }
        guard !login.isEmpty, let password = form.password, !password.isEmpty else {
            return failed("Enter your login and password.", .badRequest)
        }
        let token: String
        do {
            token = try await keygate.operators.operatorSignIn(loginName: login, password: password, clientAddress: context.clientAddress)
        } catch {
            LoginLog.refused(context.logger, surface: "console", loginName: login, address: context.clientAddress, error: error)
            switch error {
            case KeygateError.invalidCredentials: return failed("The login or password is wrong.", .unauthorized)
            case KeygateError.adminDisabled: return failed("This operator account is disabled.", .forbidden)
            case KeygateError.invalidInput(let message): return failed(BrowserForms.sentence(message), .badRequest)
            default: throw error
            }
        }
        return PortalViews.redirect("/provider", headers: [.setCookie: setCookie(token, request: request, context: context)])
    }

    @Sendable func signOut(_ request: Request, context: ConsoleContext) async throws -> Response {
        _ = try await checkedForm(TokenOnlyForm.self, request, context: context)
        try await keygate.operators.operatorSignOut(token: context.token[...])
        return PortalViews.redirect("/provider/signin", headers: [.setCookie: setCookie(nil, request: request, context: context)])
    }

    /// Organizations per page of the list: a page of rows renders in a few milliseconds whatever the total.
    static let pageSize = 100

    @Sendable func organizations(_ request: Request, context: ConsoleContext) async throws -> Response {
        let query = request.uri.queryParameters
        return try await renderOrganizations(
            context, done: query["done"].map(String.init), search: query["q"].map(String.init) ?? "",
            page: query["page"].flatMap { Int(String($0)) } ?? 1)
    }

    func renderOrganizations(
        _ context: ConsoleContext, done: String? = nil, search: String = "", page number: Int = 1, status: HTTPResponse.Status = .ok,
        adjust: (inout ConsoleOrganizationsPage) -> Void = { _ in }
    ) async throws -> Response {
        let list = try await keygate.organizations.organizationPage(context.provider, search: search, page: number, pageSize: Self.pageSize)
        let needle = search.trimmingCharacters(in: .whitespaces)
        let encoded = needle.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        var page = ConsoleOrganizationsPage(
            chrome: context.chrome, count: list.totalIsCapped ? "More than \(list.total.formatted())" : "\(list.total)", q: needle, page: list.page,
            pages: list.pages,
            prev: list.page > 1 ? "/provider?q=\(encoded)&page=\(list.page - 1)" : nil,
            next: list.page < list.pages ? "/provider?q=\(encoded)&page=\(list.page + 1)" : nil,
            orgs: list.summaries.map { summary in
                ConsoleOrganizationsPage.Row(
                    id: summary.organization.id, name: summary.organization.name, admins: summary.adminCount,
                    keyStatus: summary.keyEnabled.map { $0 ? "Enabled" : "Disabled" } ?? "None",
                    lastUsed: summary.keyLastUsedAt.map { $0.formatted(.iso8601) } ?? "")
            })
        if done == "disabled" { page.done = "The key was disabled; its sessions ended." }
        if done == "enabled" { page.done = "The key was enabled." }
        adjust(&page)
        return views.page(page, status: status)
    }

    @Sendable func createOrganization(_ request: Request, context: ConsoleContext) async throws -> Response {
        let form = try await checkedForm(NewOrganizationForm.self, request, context: context)
        let chrome = context.chrome
        let name = form.name ?? ""
        let admin = form.adminLogin ?? ""
        do {
            let result = try await keygate.organizations.provisionOrganization(context.provider, name: name, adminLogin: admin, password: nil)
            let page = ConsoleCreatedPage(
                chrome: chrome, title: "\(result.organization.name) is ready", id: result.organization.id, name: result.organization.name,
                login: result.admin.loginName, password: result.password, key: result.key.value.rawValue)
            return views.page(page, status: .created)
        } catch let error as KeygateError {
            switch error {
            case .invalidInput, .conflict:
                let (status, _, message) = error.http
                return try await renderOrganizations(context, status: status) { page in
                    page.formError = BrowserForms.sentence(message)
                    page.formName = name
                    page.formAdmin = admin
                }
            default: throw error
            }
        }
    }

    @Sendable func organization(_ request: Request, context: ConsoleContext) async throws -> Response {
        let chrome = context.chrome
        guard let orgID = context.parameters.get("orgID", as: Int64.self) else { throw KeygateError.notFound("no such organization") }
        let org = try await keygate.organizations.organization(context.provider, id: orgID)
        var page = ConsoleOrganizationPage(
            chrome: chrome, title: org.name, id: org.id, name: org.name,
            events: try await keygate.audit.auditTrail(context.provider, orgID: org.id, limit: 200).map {
                EventRow(iso: $0.at.formatted(.iso8601), actor: $0.actor.name, action: $0.action, detail: $0.detail)
            })
        if let key = try await keygate.keys.currentKey(context.provider, orgID: org.id) {
            page.hasKey = true
            page.enabled = key.enabled
            page.keyStatus = key.enabled ? "Enabled" : "Disabled"
            page.modifiedBy = key.lastModifiedBy.name
            page.modifiedOn = key.lastModifiedAt.formatted(.iso8601)
            page.sessions = try await keygate.keys.liveSessionCount(context.provider, orgID: org.id)
        }
        page.usage = UsagePanel(try await keygate.usage.usageReport(context.provider, orgID: org.id, days: 7))
        if let done = request.uri.queryParameters["done"] {
            page.done = done == "disabled" ? "The key was disabled; its sessions ended." : "The key was enabled."
        }
        return views.page(page)
    }

    @Sendable func setKeyEnabled(_ request: Request, context: ConsoleContext) async throws -> Response {
        let form = try await checkedForm(KeyStateForm.self, request, context: context)
        guard let orgID = context.parameters.get("orgID", as: Int64.self) else { throw KeygateError.notFound("no such organization") }
        let enable: Bool
        switch form.action {
        case "disable": enable = false
        case "enable": enable = true
        default: throw KeygateError.invalidInput("unknown action")
        }
        _ = try await keygate.keys.setKeyEnabled(context.provider, orgID: orgID, enabled: enable)
        return PortalViews.redirect("/provider/orgs/\(orgID)?done=\(enable ? "enabled" : "disabled")")
    }
}

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
        console.get(use: organizations)
        console.get("signin", use: signInPage)
        console.post("signin", use: signIn)
        console.post("signout", use: signOut)
        console.post("orgs", use: createOrganization)
        console.get("orgs/{orgID}", use: organization)
        console.post("orgs/{orgID}/key", use: setKeyEnabled)
    }

    func secure(_ request: Request, _ context: KeygateRequestContext) -> Bool { settings.cookiesAreSecure(request, context) }

    func setCookie(_ token: String?, request: Request, context: KeygateRequestContext) -> String {
        Cookies.set(Self.cookieName, token, path: "/provider", secure: secure(request, context))
    }

    static func csrf(_ token: Substring) -> String { Cookies.csrfToken(area: "provider", cookieValue: token) }

    /// The signed-in operator, with the page chrome.
    func signedIn(_ request: Request) async throws -> (ProviderOperator, token: Substring, chrome: [String: Any]) {
        guard let token = PortalRequest.cookie(request, named: Self.cookieName) else { throw KeygateError.sessionNotValid }
        let op = try await keygate.operatorSession(token: token)
        return (op, token, ["operator": op.loginName, "csrf": Self.csrf(token)])
    }

    /// A POST's form after the CSRF and origin checks.
    func checkedForm(_ request: Request, context: KeygateRequestContext) async throws -> (ProviderOperator, [String: String], [String: Any]) {
        let (op, token, chrome) = try await signedIn(request)
        let form = try await PortalRequest.form(request, context: context)
        try PortalRequest.checkCSRF(request, form: form, expected: Self.csrf(token))
        return (op, form, chrome)
    }

    @Sendable func signInPage(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        views.page("provider-signin", ["title": "Sign in"])
    }

    @Sendable func signIn(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        try PortalRequest.checkOrigin(request)
        let form = try await PortalRequest.form(request, context: context)
        let login = form["loginName"] ?? ""
        func failed(_ message: String, _ status: HTTPResponse.Status) -> Response {
            views.page("provider-signin", ["title": "Sign in", "error": message, "loginName": login], status: status)
        }
        guard !login.isEmpty, login.count <= 256, let password = form["password"], !password.isEmpty, password.count <= 1024 else {
            return failed("Enter your login and password.", .badRequest)
        }
        do {
            let token: String
            do {
                token = try await keygate.operatorSignIn(loginName: login, password: password, clientAddress: context.clientAddress)
            } catch {
                LoginLog.refused(context.logger, surface: "console", loginName: login, address: context.clientAddress, error: error)
                throw error
            }
            return PortalViews.redirect("/provider", headers: [.setCookie: setCookie(token, request: request, context: context)])
        } catch KeygateError.invalidCredentials {
            return failed("The login or password is wrong.", .unauthorized)
        } catch KeygateError.adminDisabled {
            return failed("This operator account is disabled.", .forbidden)
        }
    }

    @Sendable func signOut(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        _ = try await checkedForm(request, context: context)
        if let token = PortalRequest.cookie(request, named: Self.cookieName) { try await keygate.operatorSignOut(token: token) }
        return PortalViews.redirect("/provider/signin", headers: [.setCookie: setCookie(nil, request: request, context: context)])
    }

    /// Organizations per page of the list: a page of rows renders in a few milliseconds whatever the total.
    static let pageSize = 100

    @Sendable func organizations(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        let (_, _, chrome) = try await signedIn(request)
        let query = request.uri.queryParameters
        return try await renderOrganizations(
            chrome, done: query["done"].map(String.init), search: query["q"].map(String.init) ?? "",
            page: query["page"].flatMap { Int(String($0)) } ?? 1)
    }

    func renderOrganizations(
        _ chrome: [String: Any], done: String? = nil, search: String = "", page: Int = 1, extra: [String: Any] = [:],
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        var values = chrome
        values["title"] = "Organizations"
        let list = try await keygate.organizationPage(search: search, page: page, pageSize: Self.pageSize)
        let needle = search.trimmingCharacters(in: .whitespaces)
        values["count"] = list.total
        values["q"] = needle
        values["page"] = list.page
        values["pages"] = list.pages
        let encoded = needle.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        if list.page > 1 { values["prev"] = "/provider?q=\(encoded)&page=\(list.page - 1)" }
        if list.page < list.pages { values["next"] = "/provider?q=\(encoded)&page=\(list.page + 1)" }
        values["orgs"] = list.summaries.map { summary -> [String: Any] in
            [
                "id": summary.organization.id, "name": summary.organization.name, "admins": summary.adminCount,
                "keyStatus": summary.keyEnabled.map { $0 ? "Enabled" : "Disabled" } ?? "None",
                "lastUsed": summary.keyLastUsedAt.map { $0.formatted(.iso8601) } ?? "",
            ]
        }
        if done == "disabled" { values["done"] = "The key was disabled; its sessions ended." }
        if done == "enabled" { values["done"] = "The key was enabled." }
        values.merge(extra) { _, new in new }
        return views.page("provider-orgs", values, status: status)
    }

    @Sendable func createOrganization(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        let (op, form, chrome) = try await checkedForm(request, context: context)
        let name = form["name"] ?? ""
        let admin = form["adminLogin"] ?? ""
        do {
            let result = try await keygate.provisionOrganization(name: name, adminLogin: admin, password: nil, operator: op.loginName)
            var values = chrome
            values["title"] = "\(result.organization.name) is ready"
            values["id"] = result.organization.id
            values["name"] = result.organization.name
            values["login"] = result.admin.loginName
            values["password"] = result.password
            values["key"] = result.key.value.rawValue
            return views.page("provider-created", values, status: .created)
        } catch let error as KeygateError {
            switch error {
            case .invalidInput, .conflict:
                let (status, _, message) = error.http
                return try await renderOrganizations(
                    chrome, extra: ["formError": PortalController.sentence(message), "formName": name, "formAdmin": admin], status: status)
            default: throw error
            }
        }
    }

    @Sendable func organization(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        let (_, _, chrome) = try await signedIn(request)
        guard let orgID = context.parameters.get("orgID", as: Int64.self) else { throw KeygateError.notFound("no such organization") }
        let org = try await keygate.organization(id: orgID)
        var values = chrome
        values["title"] = org.name
        values["id"] = org.id
        values["name"] = org.name
        if let key = try await keygate.currentKey(orgID: org.id) {
            values["hasKey"] = true
            values["enabled"] = key.enabled
            values["keyStatus"] = key.enabled ? "Enabled" : "Disabled"
            values["modifiedBy"] = key.lastModifiedBy.name
            values["modifiedOn"] = key.lastModifiedAt.formatted(.iso8601)
            values["sessions"] = try await keygate.liveSessionCount(orgID: org.id)
        }
        if let done = request.uri.queryParameters["done"] {
            values["done"] = done == "disabled" ? "The key was disabled; its sessions ended." : "The key was enabled."
        }
        values["events"] = try await keygate.auditTrail(orgID: org.id, limit: 200).map {
            ["iso": $0.at.formatted(.iso8601), "actor": $0.actor.name, "action": $0.action, "detail": $0.detail] as [String: Any]
        }
        return views.page("provider-org", values)
    }

    @Sendable func setKeyEnabled(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        let (op, form, _) = try await checkedForm(request, context: context)
        guard let orgID = context.parameters.get("orgID", as: Int64.self) else { throw KeygateError.notFound("no such organization") }
        let enable: Bool
        switch form["action"] {
        case "disable": enable = false
        case "enable": enable = true
        default: throw KeygateError.invalidInput("unknown action")
        }
        _ = try await keygate.providerSetKeyEnabled(orgID: orgID, enabled: enable, operator: op.loginName)
        return PortalViews.redirect("/provider/orgs/\(orgID)?done=\(enable ? "enabled" : "disabled")")
    }
}

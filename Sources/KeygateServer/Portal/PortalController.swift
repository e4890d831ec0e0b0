import Foundation
import HTTPTypes
import Hummingbird
import KeygateCore

/// The admin portal: sign-in, the API Key Management page and its actions, the column chooser, switching
/// between organizations and applying one key to all of them. Server-rendered; every rule is the same use case
/// the API calls (role checks included), so a hidden button is never the only guard.
struct PortalController {
    let keygate: Keygate
    let views: PortalViews
    let settings: ServerSettings

    func addRoutes(to router: Router<KeygateRequestContext>) {
        router.get("portal/assets/portal.css") { _, _ in PortalViews.asset(PortalAssets.css, type: "text/css; charset=utf-8") }
        router.get("portal/assets/portal.js") { _, _ in PortalViews.asset(PortalAssets.js, type: "text/javascript; charset=utf-8") }
        let portal = router.group("portal")
        portal.get(use: home)
        portal.get("signin", use: signInPage)
        portal.post("signin", use: signIn)
        portal.post("signout", use: signOut)
        portal.get("switch", use: switchOrganization)
        portal.post("apply-all", use: applyAll)
        // An organization's pages: the session for it is resolved once, and the context holds it, not optional.
        let organization = portal.group("orgs/{orgID}").add(middleware: PortalSessionMiddleware(keygate: keygate))
            .group(context: PortalContext.self)
        organization.get("keys", use: keysPage)
        organization.post("keys/{action}", use: keyAction)
        organization.post("columns", use: saveColumns)
        organization.get("audit", use: auditPage)
        organization.get("audit.csv", use: auditCSV)
        organization.get("admins", use: adminsPage)
        organization.post("admins", use: createAdmin)
        organization.post("admins/{id}", use: changeAdmin)
        organization.get("roles", use: rolesPage)
        organization.post("roles", use: createRole)
        organization.post("roles/{id}", use: changeRole)
        addWebhookRoutes(to: organization)
    }

    // MARK: Sessions

    typealias Visit = PortalVisit

    func visit(_ request: Request) async throws -> Visit { try await PortalVisit.resolve(request, keygate: keygate) }

    func secure(_ request: Request, _ context: some KeygateContext) -> Bool { settings.cookiesAreSecure(request, context) }

    /// The header, switcher and sign-out form every signed-in page shows.
    func chrome(_ visit: Visit, current orgID: Int64?, request: Request) -> PortalChrome {
        guard !visit.sessions.isEmpty else { return PortalChrome() }
        let me = visit.sessions.first { $0.snapshot.session.orgID == orgID } ?? visit.sessions[0]
        return PortalChrome(
            signedIn: true, csrf: PortalRequest.csrfToken(request), userName: me.snapshot.admin.userName, orgCount: visit.sessions.count,
            orgs: visit.sessions.map {
                OrganizationOption(id: $0.snapshot.session.orgID, name: $0.snapshot.organizationName, current: $0.snapshot.session.orgID == orgID)
            })
    }

    @Sendable func home(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        let visit = try await visit(request)
        guard let first = visit.sessions.first else {
            return PortalViews.redirect("/portal/signin")
        }
        return PortalViews.redirect("/portal/orgs/\(first.snapshot.session.orgID)/keys")
    }

    @Sendable func signInPage(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        let visit = try await visit(request)
        let notice = request.uri.queryParameters["signedOut"] != nil ? "You are signed out." : nil
        return views.page(SignInPage(chrome: chrome(visit, current: nil, request: request), notice: notice))
    }

    @Sendable func signIn(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        try PortalRequest.checkOrigin(request)
        let form = try await BrowserForms.decode(SignInForm.self, request, context: context)
        let loginName = form.loginName ?? ""
        let visit = try await visit(request)
        func failed(_ message: String, _ status: HTTPResponse.Status) -> Response {
            views.page(SignInPage(chrome: chrome(visit, current: nil, request: request), error: message, loginName: loginName), status: status)
        }
        guard !loginName.isEmpty, let password = form.password, !password.isEmpty else {
            return failed("Enter your login name and password.", .badRequest)
        }
        let opened: PortalSignIn
        do {
            opened = try await keygate.portal.portalSignIn(loginName: loginName, password: password, clientAddress: context.clientAddress)
        } catch {
            LoginLog.refused(context.logger, surface: "portal", loginName: loginName, address: context.clientAddress, error: error)
            switch error {
            case KeygateError.invalidCredentials: return failed("The login name or password is wrong.", .unauthorized)
            case KeygateError.adminDisabled: return failed("This account is disabled.", .forbidden)
            case KeygateError.invalidInput(let message): return failed(BrowserForms.sentence(message), .badRequest)
            default: throw error
            }
        }
        // Keep the organizations already signed in to, replacing the one this sign-in covers again.
        let tokens = [opened.token] + visit.sessions.filter { $0.snapshot.session.orgID != opened.orgID }.map(\.token)
        let kept = Array(tokens.prefix(PortalRequest.maxSessions))
        let dropped = visit.sessions.map(\.token).filter { !kept.contains($0) }
        if !dropped.isEmpty { try await keygate.portal.portalSignOut(tokens: dropped.map { Substring($0) }) }
        return PortalViews.redirect(
            "/portal/orgs/\(opened.orgID)/keys", headers: [.setCookie: PortalRequest.setCookie(kept, secure: secure(request, context))])
    }

    @Sendable func signOut(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        _ = try await PortalRequest.checkedForm(TokenOnlyForm.self, request, context: context)
        try await keygate.portal.portalSignOut(tokens: PortalRequest.tokens(request))
        return PortalViews.redirect(
            "/portal/signin?signedOut=1", headers: [.setCookie: PortalRequest.setCookie([], secure: secure(request, context))])
    }

    @Sendable func switchOrganization(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        guard let org = request.uri.queryParameters["org"].flatMap({ Int64(String($0)) }) else {
            throw KeygateError.invalidInput("choose an organization")
        }
        return PortalViews.redirect("/portal/orgs/\(org)/keys")
    }

    // MARK: The API Key Management page

    @Sendable func keysPage(_ request: Request, context: PortalContext) async throws -> Response {
        let (visit, snapshot) = (context.visit, context.session)
        return try await renderKeys(visit, snapshot, request: request, context: context) { page in
            if let done = request.uri.queryParameters["done"] {
                let ended = request.uri.queryParameters["ended"].flatMap { Int(String($0)) } ?? 0
                page.done = Self.doneMessage(String(done), ended: ended)
            }
        }
    }

    static func doneMessage(_ done: String, ended: Int) -> String? {
        let sessions = ended == 1 ? "1 live API session ended." : "\(ended) live API sessions ended."
        switch done {
        case "edited": return "The key was changed. The old key no longer works; \(sessions)"
        case "regenerated": return "A new random key replaced the old one, which no longer works; \(sessions)"
        case "deleted": return "The key was deleted; API access is off until a key is added. \(sessions)"
        case "added": return "The key was added; API access is on."
        case "columns": return "Your columns were saved."
        default: return nil
        }
    }

    /// Renders the page; `adjust` adds a notice, or an error and the dialog to reopen with the submitted value.
    func renderKeys(
        _ visit: Visit, _ snapshot: PortalSnapshot, request: Request, context: some KeygateContext, status: HTTPResponse.Status = .ok,
        adjust: (inout KeysPage) -> Void = { _ in }
    ) async throws -> Response {
        let orgID = snapshot.session.orgID
        var frame = chrome(visit, current: orgID, request: request)
        frame.showTabs(orgID: orgID, current: .keys)
        let access = snapshot.role.apiKeyAccess
        guard access != .none else {
            return views.message(
                heading: "No access", text: "Your role in \(snapshot.organizationName) grants no access to API key management.",
                status: .forbidden, chrome: frame)
        }
        let canWrite = AccessRules.allows(snapshot.role, .changeKey)
        let keys = try await keygate.keys.listKeys(snapshot.principal)
        let sessions = try await keygate.keys.liveSessionCount(snapshot.principal)
        let sessionText = sessions == 1 ? "1 live API session will end." : "\(sessions) live API sessions will end."
        let columns = try await keygate.keyColumns.keyColumns(snapshot.principal)
        var page = KeysPage(
            chrome: frame, orgID: orgID, orgName: snapshot.organizationName, baseURL: baseURL(request, context), canWrite: canWrite,
            readOnly: !canWrite, multiOrg: visit.sessions.count > 1,
            canWriteAny: visit.sessions.contains { AccessRules.allows($0.snapshot.role, .changeKey) }, sessionsEnd: sessionText,
            sessionsEndCap: sessionText.prefix(1).uppercased() + sessionText.dropFirst(),
            columns: columns.map { KeysPage.Column(name: $0.rawValue, title: $0.title) },
            columnChoice: columns.map(\.rawValue).joined(separator: ","),
            allColumns: (columns + KeyColumn.allCases.filter { !columns.contains($0) }).map {
                KeysPage.ColumnChoice(name: $0.rawValue, title: $0.title, shown: columns.contains($0))
            })
        page.usage = UsagePanel(try await keygate.usage.usageReport(snapshot.principal, days: 7))
        page.usageFlush =
            switch settings.usageFlushSeconds {
            case 1: "second"
            case 60: "minute"
            default: "\(settings.usageFlushSeconds) seconds"
            }
        if let key = keys.first {
            page.hasKey = true
            page.keyID = key.id
            page.keyValue = key.value.rawValue
            page.keyDisabled = !key.enabled
            page.cells = columns.map { cell($0, key) }
        }
        adjust(&page)
        return views.page(page, status: status)
    }

    func cell(_ column: KeyColumn, _ key: APIKey) -> KeysPage.Cell {
        var cell = KeysPage.Cell(name: column.rawValue, title: column.title)
        switch column {
        case .key:
            cell.isKey = true
            cell.value = key.value.rawValue
        case .lastModifiedBy:
            cell.isText = true
            cell.value = key.lastModifiedBy.name
        case .lastModifiedOn:
            cell.isTime = true
            cell.hasTime = true
            cell.iso = Self.iso(key.lastModifiedAt)
        case .status:
            cell.isText = true
            cell.value = key.enabled ? "Enabled" : "Disabled"
        case .lastUsed:
            cell.isTime = true
            cell.hasTime = key.lastUsedAt != nil
            cell.iso = key.lastUsedAt.map(Self.iso) ?? ""
        }
        return cell
    }

    static func iso(_ date: Date) -> String { date.formatted(.iso8601) }

    /// The API's base URL as clients should use it (``ServerSettings/apiBaseURL(authority:secure:)``).
    func baseURL(_ request: Request, _ context: some KeygateContext) -> String {
        settings.apiBaseURL(authority: request.head.authority, secure: secure(request, context))
    }

    // MARK: Actions

    @Sendable func keyAction(_ request: Request, context: PortalContext) async throws -> Response {
        let form = try await PortalRequest.checkedForm(KeyForm.self, request, context: context)
        let (visit, snapshot) = (context.visit, context.session)
        let principal = snapshot.principal
        try principal.require(.changeKey)
        let orgID = snapshot.session.orgID
        let action = context.parameters.get("action") ?? ""
        let value = form.keyValue ?? ""
        let id = form.id?.value
        do {
            switch action {
            case "edit":
                guard let id else { throw KeygateError.invalidInput("the form is missing the key id: reload the page") }
                let (_, ended) = try await keygate.keys.editKey(principal, id: id, newValue: value)
                return PortalViews.redirect("/portal/orgs/\(orgID)/keys?done=edited&ended=\(ended)")
            case "regenerate":
                guard let id else { throw KeygateError.invalidInput("the form is missing the key id: reload the page") }
                let (_, ended) = try await keygate.keys.regenerateKey(principal, id: id)
                return PortalViews.redirect("/portal/orgs/\(orgID)/keys?done=regenerated&ended=\(ended)")
            case "delete":
                guard let id else { throw KeygateError.invalidInput("the form is missing the key id: reload the page") }
                let ended = try await keygate.keys.deleteKey(principal, id: id)
                return PortalViews.redirect("/portal/orgs/\(orgID)/keys?done=deleted&ended=\(ended)")
            case "add":
                _ = try await keygate.keys.addKey(principal, value: value.isEmpty ? nil : value)
                return PortalViews.redirect("/portal/orgs/\(orgID)/keys?done=added")
            default:
                throw KeygateError.notFound("no such action")
            }
        } catch let error as KeygateError {
            // Refused: nothing changed. Show the page again with the dialog open and the reason next to the field.
            switch error {
            case .invalidInput, .conflict, .editLockNotAvailable, .notFound, .keyDisabled:
                guard let dialog = KeysPage.Dialog(rawValue: action) else { throw error }
                let (status, _, message) = error.http
                return try await renderKeys(visit, snapshot, request: request, context: context, status: status) { page in
                    page.reopen(dialog, error: BrowserForms.sentence(message), value: dialog == .edit || dialog == .add ? value : nil)
                }
            default:
                throw error
            }
        }
    }

    @Sendable func saveColumns(_ request: Request, context: PortalContext) async throws -> Response {
        let form = try await PortalRequest.checkedForm(ColumnsForm.self, request, context: context)
        let (visit, snapshot) = (context.visit, context.session)
        do {
            try await keygate.keyColumns.setKeyColumns(snapshot.principal, choice: form.columns ?? "")
        } catch let error as KeygateError {
            guard case .invalidInput(let message) = error else { throw error }
            return try await renderKeys(visit, snapshot, request: request, context: context, status: .badRequest) { page in
                page.pageError = BrowserForms.sentence(message)
            }
        }
        return PortalViews.redirect("/portal/orgs/\(snapshot.session.orgID)/keys?done=columns")
    }

    /// One key string for every organization the browser is signed in to, with a result per organization.
    @Sendable func applyAll(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        let form = try await PortalRequest.checkedForm(ApplyKeyForm.self, request, context: context)
        let visit = try await visit(request)
        guard !visit.sessions.isEmpty else { throw KeygateError.sessionNotValid }
        let from = form.from?.value
        let value = form.keyValue ?? ""
        let outcomes: [KeyUseCases.KeyApplyOutcome]
        do {
            outcomes = try await keygate.keys.applyKey(value, to: visit.sessions.map(\.snapshot.principal))
        } catch let error as KeygateError {
            // Nothing was tried: the string is not a key.
            guard let origin = visit.sessions.first(where: { $0.snapshot.session.orgID == from }) ?? visit.sessions.first else { throw error }
            let (status, _, message) = error.http
            return try await renderKeys(visit, origin.snapshot, request: request, context: context, status: status) { page in
                page.reopen(.apply, error: BrowserForms.sentence(message), value: value)
            }
        }
        let results: [AppliedPage.Result] = zip(visit.sessions, outcomes).map { session, outcome in
            let (text, ok): (String, Bool) =
                switch outcome {
                case .unchanged: ("Unchanged: it already has this key.", true)
                case .set(let ended): ("Key set. " + (ended == 1 ? "1 live API session ended." : "\(ended) live API sessions ended."), true)
                case .added: ("Key added (it had none).", true)
                case .refused(let error): ("Not changed: " + error.http.message, false)
                }
            return AppliedPage.Result(name: session.snapshot.organizationName, outcome: text, ok: ok)
        }
        return views.page(
            AppliedPage(
                chrome: chrome(visit, current: from, request: request), orgID: from ?? visit.sessions[0].snapshot.session.orgID,
                results: results))
    }
}

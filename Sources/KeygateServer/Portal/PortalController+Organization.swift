import Foundation
import HTTPTypes
import Hummingbird
import KeygateCore

/// The organization pages besides the key: audit trail (with CSV export), admins and roles. The same use cases
/// as the API, so the role checks are the same.
extension PortalController {
    /// The frame every organization page starts from, `tab` marked current; refuses a role without API key access.
    func organizationChrome(_ visit: Visit, _ snapshot: PortalSnapshot, request: Request, tab: PortalChrome.Tab) throws -> PortalChrome {
        guard snapshot.role.apiKeyAccess != .none else {
            throw KeygateError.forbidden("your role in \(snapshot.organizationName) grants no access to API key management")
        }
        var frame = chrome(visit, current: snapshot.session.orgID, request: request)
        frame.showTabs(orgID: snapshot.session.orgID, current: tab)
        return frame
    }

    // MARK: Audit

    func auditType(_ request: Request) -> String? {
        guard let type = request.uri.queryParameters["type"], !type.isEmpty else { return nil }
        return String(type)
    }

    @Sendable func auditPage(_ request: Request, context: PortalContext) async throws -> Response {
        let (visit, snapshot) = (context.visit, context.session)
        let frame = try organizationChrome(visit, snapshot, request: request, tab: .audit)
        let type = auditType(request)
        // The newest 200 on the page (it renders in a few milliseconds); the CSV export has up to 10,000.
        let events = try await keygate.audit.auditTrail(snapshot.principal, type: type, limit: 200)
        let page = AuditPage(
            chrome: frame, orgID: snapshot.session.orgID, orgName: snapshot.organizationName,
            canWrite: AccessRules.allows(snapshot.role, .changeKey), type: type ?? "",
            types: AuditUseCases.auditTypes.map { Choice(value: $0, label: $0.capitalized, selected: $0 == type) },
            events: events.map { EventRow(iso: Self.iso($0.at), actor: $0.actor.name, action: $0.action, detail: $0.detail) })
        return views.page(page)
    }

    /// The same events as CSV (RFC 4180), with cells that a spreadsheet would run as a formula defused.
    @Sendable func auditCSV(_ request: Request, context: PortalContext) async throws -> Response {
        let snapshot = context.session
        let events = try await keygate.audit.auditTrail(snapshot.principal, type: auditType(request), limit: 10_000)
        var csv = "time,actor,action,detail\r\n"
        for event in events {
            csv += [Self.iso(event.at), event.actor.name, event.action, event.detail].map(Self.csvField).joined(separator: ",") + "\r\n"
        }
        var headers = PortalViews.securityHeaders
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"keygate-audit-\(snapshot.session.orgID).csv\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: csv)))
    }

    static func csvField(_ value: String) -> String {
        var text = value
        if let first = text.first, "=+-@\t\r".contains(first) { text = "'" + text }
        guard text.contains(where: { ",\"\r\n".contains($0) }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    // MARK: Admins

    @Sendable func adminsPage(_ request: Request, context: PortalContext) async throws -> Response {
        let (visit, snapshot) = (context.visit, context.session)
        return try await renderAdmins(visit, snapshot, request: request) { page in
            if let done = request.uri.queryParameters["done"] {
                page.done = ["created": "The admin was added.", "updated": "The admin was updated."][String(done)]
            }
        }
    }

    func renderAdmins(
        _ visit: Visit, _ snapshot: PortalSnapshot, request: Request, status: HTTPResponse.Status = .ok, adjust: (inout AdminsPage) -> Void
    ) async throws -> Response {
        let frame = try organizationChrome(visit, snapshot, request: request, tab: .admins)
        let principal = snapshot.principal
        let roles = try await keygate.roles.listRoles(principal)
        let names = Dictionary(uniqueKeysWithValues: roles.map { ($0.id, $0.name) })
        let admins = try await keygate.admins.listAdmins(principal).map { admin in
            AdminsPage.Row(
                id: admin.id, login: admin.loginName, name: admin.userName, email: admin.email, role: names[admin.roleID] ?? "#\(admin.roleID)",
                status: admin.disabled ? "Disabled" : "Enabled", toggle: admin.disabled ? "enable" : "disable",
                toggleLabel: admin.disabled ? "Enable" : "Disable", isSelf: admin.id == snapshot.admin.id,
                roleOptions: roles.filter { $0.id == admin.roleID || AccessRules.contains(snapshot.role, $0) }.map {
                    AdminsPage.RoleOption(id: $0.id, name: $0.name, selected: $0.id == admin.roleID)
                })
        }
        // The forms show only to a role that may manage admins, and offer only the roles it may grant; the use cases
        // refuse the others anyway (``AccessRules``).
        let canManage = AccessRules.allows(snapshot.role, .manageAdmins)
        var page = AdminsPage(
            chrome: frame, orgID: snapshot.session.orgID, orgName: snapshot.organizationName, canWrite: canManage,
            roles: roles.filter { AccessRules.contains(snapshot.role, $0) }.map { AdminsPage.RoleOption(id: $0.id, name: $0.name) }, admins: admins)
        adjust(&page)
        return views.page(page, status: status)
    }

    @Sendable func createAdmin(_ request: Request, context: PortalContext) async throws -> Response {
        let form = try await PortalRequest.checkedForm(NewAdminForm.self, request, context: context)
        let (visit, snapshot) = (context.visit, context.session)
        let login = form.loginName ?? ""
        let draft = AdminDraft(
            loginName: login, userName: (form.userName ?? "").isEmpty ? login : form.userName, email: form.email ?? "",
            roleID: form.roleID?.value, password: form.password ?? "")
        do {
            _ = try await keygate.admins.createAdmin(snapshot.principal, draft: draft)
        } catch let error as KeygateError {
            switch error {
            case .invalidInput, .conflict:
                let (status, _, message) = error.http
                return try await renderAdmins(visit, snapshot, request: request, status: status) { page in
                    page.formError = BrowserForms.sentence(message)
                    page.formLogin = login
                    page.formName = form.userName ?? ""
                    page.formEmail = form.email ?? ""
                }
            default: throw error
            }
        }
        return PortalViews.redirect("/portal/orgs/\(snapshot.session.orgID)/admins?done=created")
    }

    @Sendable func changeAdmin(_ request: Request, context: PortalContext) async throws -> Response {
        let form = try await PortalRequest.checkedForm(AdminActionForm.self, request, context: context)
        let (visit, snapshot) = (context.visit, context.session)
        guard let id = context.parameters.get("id", as: Int64.self) else { throw KeygateError.notFound("no such admin") }
        let draft: AdminDraft
        switch form.action {
        case "disable": draft = AdminDraft(disabled: true)
        case "enable": draft = AdminDraft(disabled: false)
        case "role":
            guard let roleID = form.roleID?.value else { throw KeygateError.invalidInput("choose a role") }
            draft = AdminDraft(roleID: roleID)
        case "edit":
            draft = AdminDraft(userName: form.userName ?? "", email: form.email ?? "")
        default: throw KeygateError.invalidInput("unknown action")
        }
        do {
            _ = try await keygate.admins.updateAdmin(snapshot.principal, id: id, draft: draft)
        } catch let error as KeygateError {
            switch error {
            case .conflict, .invalidInput:
                let (status, _, message) = error.http
                return try await renderAdmins(visit, snapshot, request: request, status: status) { $0.pageError = BrowserForms.sentence(message) }
            default: throw error
            }
        }
        return PortalViews.redirect("/portal/orgs/\(snapshot.session.orgID)/admins?done=updated")
    }

    // MARK: Roles

    static let levels: [(FeatureAccess, String)] = [(.none, "None"), (.readOnly, "View Only"), (.readWrite, "Full")]

    @Sendable func rolesPage(_ request: Request, context: PortalContext) async throws -> Response {
        let (visit, snapshot) = (context.visit, context.session)
        let frame = try organizationChrome(visit, snapshot, request: request, tab: .roles)
        let canWrite = AccessRules.allows(snapshot.role, .manageRoles)
        let roles = try await keygate.roles.listRoles(snapshot.principal).map { role in
            let level = role.apiKeyAccess
            let editable = (try? AccessRules.checkRoleChange(caller: snapshot.role, current: role, proposed: nil)) != nil
            return RolesPage.Row(
                id: role.id, name: role.name, editable: editable, fixed: role.isNonEditable,
                levelLabel: Self.levels.first { $0.0 == level }?.1 ?? level.rawValue,
                levels: Self.levels.map { Choice(value: $0.0.rawValue, label: $0.1, selected: $0.0 == level) })
        }
        var page = RolesPage(chrome: frame, orgID: snapshot.session.orgID, orgName: snapshot.organizationName, canWrite: canWrite, roles: roles)
        if let done = request.uri.queryParameters["done"] {
            page.done = ["created": "The role was added.", "updated": "The role was saved."][String(done)]
        }
        return views.page(page)
    }

    func level(_ form: RoleForm) throws -> FeatureAccess {
        guard let level = form.level.flatMap(FeatureAccess.init(rawValue:)) else {
            throw KeygateError.invalidInput("choose None, View Only or Full")
        }
        return level
    }

    @Sendable func createRole(_ request: Request, context: PortalContext) async throws -> Response {
        let form = try await PortalRequest.checkedForm(RoleForm.self, request, context: context)
        let snapshot = context.session
        _ = try await keygate.roles.createRole(
            snapshot.principal, draft: RoleDraft(name: form.name ?? "", featurePermissions: [Role.apiKeyManagement: try level(form)]))
        return PortalViews.redirect("/portal/orgs/\(snapshot.session.orgID)/roles?done=created")
    }

    @Sendable func changeRole(_ request: Request, context: PortalContext) async throws -> Response {
        let form = try await PortalRequest.checkedForm(RoleForm.self, request, context: context)
        let snapshot = context.session
        guard let id = context.parameters.get("id", as: Int64.self) else { throw KeygateError.notFound("no such role") }
        _ = try await keygate.roles.updateRole(
            snapshot.principal, id: id, draft: RoleDraft(featurePermissions: [Role.apiKeyManagement: try level(form)]))
        return PortalViews.redirect("/portal/orgs/\(snapshot.session.orgID)/roles?done=updated")
    }
}

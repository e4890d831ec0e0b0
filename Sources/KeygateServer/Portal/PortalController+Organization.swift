import Foundation
import HTTPTypes
import Hummingbird
import KeygateCore

/// The organization pages besides the key: audit trail (with CSV export), admins and roles. The same use cases
/// as the API, so the role checks are the same.
extension PortalController {
    /// Values every organization page starts from; `tab` marks the current one in the navigation.
    func organizationValues(_ visit: Visit, _ snapshot: PortalSnapshot, request: Request, tab: String, title: String) throws -> [String: Any] {
        var values = chrome(visit, current: snapshot.session.orgID, request: request)
        values["title"] = title
        values["orgID"] = snapshot.session.orgID
        values["orgName"] = snapshot.organizationName
        values["nav"] = true
        values["nav" + tab] = true
        values["canWrite"] = snapshot.role.apiKeyAccess.grants(.readWrite)
        guard snapshot.role.apiKeyAccess != .none else {
            throw KeygateError.forbidden("your role in \(snapshot.organizationName) grants no access to API key management")
        }
        return values
    }

    // MARK: Audit

    func auditType(_ request: Request) -> String? {
        guard let type = request.uri.queryParameters["type"], !type.isEmpty else { return nil }
        return String(type)
    }

    @Sendable func auditPage(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        let (visit, snapshot) = try await current(request, context: context)
        var values = try organizationValues(visit, snapshot, request: request, tab: "Audit", title: "Audit")
        let type = auditType(request)
        // The newest 200 on the page (it renders in a few milliseconds); the CSV export has up to 10,000.
        let events = try await keygate.auditTrail(snapshot.principal, type: type, limit: 200)
        values["type"] = type ?? ""
        values["types"] = Keygate.auditTypes.map { ["value": $0, "label": $0.capitalized, "selected": $0 == type] as [String: Any] }
        values["events"] = events.map {
            ["iso": Self.iso($0.at), "actor": $0.actor.name, "action": $0.action, "detail": $0.detail] as [String: Any]
        }
        return views.page("audit", values)
    }

    /// The same events as CSV (RFC 4180), with cells that a spreadsheet would run as a formula defused.
    @Sendable func auditCSV(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        let (_, snapshot) = try await current(request, context: context)
        let events = try await keygate.auditTrail(snapshot.principal, type: auditType(request), limit: 10_000)
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

    @Sendable func adminsPage(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        let (visit, snapshot) = try await current(request, context: context)
        var extra: [String: Any] = [:]
        if let done = request.uri.queryParameters["done"] {
            extra["done"] = ["created": "The admin was added.", "updated": "The admin was updated."][String(done)]
        }
        return try await renderAdmins(visit, snapshot, request: request, extra: extra)
    }

    func renderAdmins(
        _ visit: Visit, _ snapshot: PortalSnapshot, request: Request, extra: [String: Any] = [:], status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        var values = try organizationValues(visit, snapshot, request: request, tab: "Admins", title: "Admins")
        let principal = snapshot.principal
        let roles = try await keygate.listRoles(principal)
        let names = Dictionary(uniqueKeysWithValues: roles.map { ($0.id, $0.name) })
        values["roles"] = roles.map { ["id": $0.id, "name": $0.name] as [String: Any] }
        values["admins"] = try await keygate.listAdmins(principal).map { admin -> [String: Any] in
            [
                "id": admin.id, "login": admin.loginName, "name": admin.userName, "email": admin.email,
                "role": names[admin.roleID] ?? "#\(admin.roleID)", "status": admin.disabled ? "Disabled" : "Enabled",
                "toggle": admin.disabled ? "enable" : "disable", "toggleLabel": admin.disabled ? "Enable" : "Disable",
                "isSelf": admin.id == snapshot.admin.id,
                "roleOptions": roles.map { ["id": $0.id, "name": $0.name, "selected": $0.id == admin.roleID] as [String: Any] },
            ]
        }
        values.merge(extra) { _, new in new }
        return views.page("admins", values, status: status)
    }

    @Sendable func createAdmin(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        let (form, visit, snapshot) = try await posted(request, context: context)
        let login = form["loginName"] ?? ""
        let draft = AdminDraft(
            loginName: login, userName: (form["userName"] ?? "").isEmpty ? login : form["userName"], email: form["email"] ?? "",
            roleID: form["roleID"].flatMap { Int64($0) }, password: form["password"] ?? "")
        do {
            _ = try await keygate.createAdmin(snapshot.principal, draft: draft)
        } catch let error as KeygateError {
            switch error {
            case .invalidInput, .conflict:
                let (status, _, message) = error.http
                return try await renderAdmins(
                    visit, snapshot, request: request,
                    extra: [
                        "formError": Self.sentence(message), "formLogin": login, "formName": form["userName"] ?? "", "formEmail": form["email"] ?? "",
                    ],
                    status: status)
            default: throw error
            }
        }
        return PortalViews.redirect("/portal/orgs/\(snapshot.session.orgID)/admins?done=created")
    }

    @Sendable func changeAdmin(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        let (form, visit, snapshot) = try await posted(request, context: context)
        guard let id = context.parameters.get("id", as: Int64.self) else { throw KeygateError.notFound("no such admin") }
        let draft: AdminDraft
        switch form["action"] {
        case "disable": draft = AdminDraft(disabled: true)
        case "enable": draft = AdminDraft(disabled: false)
        case "role":
            guard let roleID = form["roleID"].flatMap({ Int64($0) }) else { throw KeygateError.invalidInput("choose a role") }
            draft = AdminDraft(roleID: roleID)
        case "edit":
            draft = AdminDraft(userName: form["userName"] ?? "", email: form["email"] ?? "")
        default: throw KeygateError.invalidInput("unknown action")
        }
        do {
            _ = try await keygate.updateAdmin(snapshot.principal, id: id, draft: draft)
        } catch let error as KeygateError {
            switch error {
            case .conflict, .invalidInput:
                let (status, _, message) = error.http
                return try await renderAdmins(visit, snapshot, request: request, extra: ["pageError": Self.sentence(message)], status: status)
            default: throw error
            }
        }
        return PortalViews.redirect("/portal/orgs/\(snapshot.session.orgID)/admins?done=updated")
    }

    // MARK: Roles

    static let levels: [(FeatureAccess, String)] = [(.none, "None"), (.readOnly, "View Only"), (.readWrite, "Full")]

    @Sendable func rolesPage(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        let (visit, snapshot) = try await current(request, context: context)
        var values = try organizationValues(visit, snapshot, request: request, tab: "Roles", title: "Roles")
        let canWrite = snapshot.role.apiKeyAccess.grants(.readWrite)
        if let done = request.uri.queryParameters["done"] {
            values["done"] = ["created": "The role was added.", "updated": "The role was saved."][String(done)]
        }
        values["roles"] = try await keygate.listRoles(snapshot.principal).map { role -> [String: Any] in
            let level = role.apiKeyAccess
            return [
                "id": role.id, "name": role.name, "editable": canWrite && !role.isNonEditable, "fixed": role.isNonEditable,
                "levelLabel": Self.levels.first { $0.0 == level }?.1 ?? level.rawValue,
                "levels": Self.levels.map { ["value": $0.0.rawValue, "label": $0.1, "selected": $0.0 == level] as [String: Any] },
            ]
        }
        return views.page("roles", values)
    }

    func level(_ form: [String: String]) throws -> FeatureAccess {
        guard let level = form["level"].flatMap(FeatureAccess.init(rawValue:)) else {
            throw KeygateError.invalidInput("choose None, View Only or Full")
        }
        return level
    }

    @Sendable func createRole(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        let (form, _, snapshot) = try await posted(request, context: context)
        _ = try await keygate.createRole(
            snapshot.principal, draft: RoleDraft(name: form["name"] ?? "", featurePermissions: [Role.apiKeyManagement: try level(form)]))
        return PortalViews.redirect("/portal/orgs/\(snapshot.session.orgID)/roles?done=created")
    }

    @Sendable func changeRole(_ request: Request, context: KeygateRequestContext) async throws -> Response {
        let (form, _, snapshot) = try await posted(request, context: context)
        guard let id = context.parameters.get("id", as: Int64.self) else { throw KeygateError.notFound("no such role") }
        _ = try await keygate.updateRole(snapshot.principal, id: id, draft: RoleDraft(featurePermissions: [Role.apiKeyManagement: try level(form)]))
        return PortalViews.redirect("/portal/orgs/\(snapshot.session.orgID)/roles?done=updated")
    }
}

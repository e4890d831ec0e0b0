import Hummingbird
import KeygateCore

/// `/adminRoles`, `/adminUsers` and `/passwordChange`.
struct AdminController {
    let keygate: Keygate

    /// Role fields Zscaler defines that Keygate does not model: accepted (the SDK's `add_role` sends them) and
    /// ignored. Anything outside this list and the modelled fields is refused as unknown.
    static let ignoredRoleFields: Set<String> = [
        "policyAccess", "reportAccess", "usernameAccess", "dashboardAccess", "alertingAccess",
        "deviceInfoAccess", "analysisAccess", "logsLimit", "permissions", "featurePermissionsTuples", "isNonEditable",
        "isPartnerRole", "isApiRole", "id", "reportTimeDuration",
    ]
    static let roleFields: Set<String> = ["name", "rank", "roleType", "featurePermissions", "isAuditor", "adminAcctAccess"]
    /// Admin fields Zscaler defines that Keygate does not model: accepted and ignored.
    static let ignoredAdminFields: Set<String> = [
        "id", "comments", "adminScopeType", "adminScopeScopeEntities", "adminScopescopeGroupMemberEntities",
        "isPasswordLoginAllowed", "isDefaultAdmin", "isPasswordExpired", "isExecMobileAppEnabled", "isNonEditable",
        "isSecurityReportCommEnabled", "isServiceUpdateCommEnabled", "isProductUpdateCommEnabled", "isAuditor",
        "name", "execMobileAppTokens", "adminScope",
    ]
    static let adminFields: Set<String> = ["loginName", "userName", "email", "role", "password", "disabled"]

    func addRoutes(to group: RouterGroup<APIContext>) {
        // Auditor roles and admins are left out unless `includeAuditorRole` / `includeAuditorUsers` is true, as
        // Zscaler's recorded answers show.
        group.get("adminRoles") { request, context in
            let principal = context.principal
            let roles = try await roles(principal, request)
            return try jsonResponse(roles.map { RoleDTO($0, channel: principal.channel) })
        }
        // The short form Zscaler answers (the ZIA SDK's `list_roles` calls it).
        group.get("adminRoles/lite") { request, context in
            let principal = context.principal
            let roles = try await roles(principal, request)
            return try jsonResponse(roles.map { RoleLiteDTO($0, channel: principal.channel) })
        }
        group.get("adminRoles/{id}") { request, context in
            let principal = context.principal
            return try jsonResponse(RoleDTO(try await keygate.role(principal, id: try request.pathID(context, "role")), channel: principal.channel))
        }
        group.post("adminRoles") { request, context in
            let principal = context.principal
            let draft = try Self.roleDraft(try await JSONBody.read(request, context: context))
            return try jsonResponse(RoleDTO(try await keygate.createRole(principal, draft: draft), channel: principal.channel))
        }
        group.put("adminRoles/{id}") { request, context in
            let principal = context.principal
            let id = try request.pathID(context, "role")
            let draft = try Self.roleDraft(try await JSONBody.read(request, context: context))
            return try jsonResponse(RoleDTO(try await keygate.updateRole(principal, id: id, draft: draft), channel: principal.channel))
        }
        group.delete("adminRoles/{id}") { request, context in
            try await keygate.deleteRole(context.principal, id: try request.pathID(context, "role"))
            return noContent()
        }

        group.get("adminUsers") { request, context in
            let principal = context.principal
            let includeAuditors = try request.booleanQuery("includeAuditorUsers") ?? false
            let roles = Dictionary(uniqueKeysWithValues: try await keygate.listRoles(principal).map { ($0.id, $0) })
            let admins = try await keygate.listAdmins(principal).filter { includeAuditors || roles[$0.roleID]?.isAuditor != true }
            return try jsonResponse(admins.map { AdminDTO($0, roleName: roles[$0.roleID]?.name ?? "") })
        }
        group.get("adminUsers/{id}") { request, context in
            let principal = context.principal
            let admin = try await keygate.admin(principal, id: try request.pathID(context, "admin"))
            return try jsonResponse(AdminDTO(admin, roleName: try await roleNames(principal)[admin.roleID] ?? ""))
        }
        group.post("adminUsers") { request, context in
            let principal = context.principal
            let draft = try await adminDraft(try await JSONBody.read(request, context: context), principal: principal)
            let admin = try await keygate.createAdmin(principal, draft: draft)
            return try jsonResponse(AdminDTO(admin, roleName: try await roleNames(principal)[admin.roleID] ?? ""))
        }
        group.put("adminUsers/{id}") { request, context in
            let principal = context.principal
            let id = try request.pathID(context, "admin")
            let draft = try await adminDraft(try await JSONBody.read(request, context: context), principal: principal)
            let admin = try await keygate.updateAdmin(principal, id: id, draft: draft)
            return try jsonResponse(AdminDTO(admin, roleName: try await roleNames(principal)[admin.roleID] ?? ""))
        }
        group.delete("adminUsers/{id}") { request, context in
            try await keygate.deleteAdmin(context.principal, id: try request.pathID(context, "admin"))
            return noContent()
        }

        group.post("passwordChange") { request, context in
            let principal = context.principal
            let body = try await JSONBody.read(request, context: context)
            try body.allowOnly(["userName", "oldPassword", "newPassword"])
            try await keygate.changePassword(
                principal, userName: try body.requiredString("userName"), oldPassword: try body.requiredString("oldPassword"),
                newPassword: try body.requiredString("newPassword"), clientAddress: context.clientAddress)
            return noContent()
        }
    }

    private func roles(_ principal: Principal, _ request: Request) async throws -> [Role] {
        let includeAuditors = try request.booleanQuery("includeAuditorRole") ?? false
        return try await keygate.listRoles(principal).filter { includeAuditors || !$0.isAuditor }
    }

    private func roleNames(_ principal: Principal) async throws -> [Int64: String] {
        Dictionary(uniqueKeysWithValues: try await keygate.listRoles(principal).map { ($0.id, $0.name) })
    }

    static func roleDraft(_ body: JSONBody) throws -> RoleDraft {
        try body.allowOnly(roleFields.union(ignoredRoleFields))
        var permissions: [String: FeatureAccess]?
        if let object = try body.object("featurePermissions") {
            permissions = try object.reduce(into: [:]) { result, entry in
                guard case .string(let level) = entry.value, let access = FeatureAccess(lenient: level) else {
                    throw KeygateError.invalidInput("featurePermissions.\(entry.key) must be NONE, READ_ONLY or READ_WRITE")
                }
                result[Role.canonicalFeatureName(entry.key)] = access
            }
        }
        if let level = try body.string("adminAcctAccess") {
            guard let access = FeatureAccess(lenient: level) else {
                throw KeygateError.invalidInput("adminAcctAccess must be NONE, READ_ONLY or READ_WRITE")
            }
            permissions = (permissions ?? [:]).merging([Role.adminAccountAccess: access]) { $1 }
        }
        return RoleDraft(
            name: try body.string("name"), rank: try body.integer("rank").map(Int.init), roleType: try body.string("roleType"),
            featurePermissions: permissions, isAuditor: try body.bool("isAuditor"))
    }

    /// `role` may be `{"id": n}`, a number, or a role name.
    func adminDraft(_ body: JSONBody, principal: Principal) async throws -> AdminDraft {
        try body.allowOnly(Self.adminFields.union(Self.ignoredAdminFields))
        var roleID: Int64?
        switch body.fields["role"] {
        case .none, .null: roleID = nil
        case .integer(let id): roleID = id
        case .object(let object):
            guard let id = try JSONBody(fields: object).integer("id") else { throw KeygateError.invalidInput("role.id is required") }
            roleID = id
        case .string(let name):
            if let id = Int64(name) {
                roleID = id
            } else {
                roleID = try await keygate.role(principal, named: name).id
            }
        default: throw KeygateError.invalidInput("role must be an object with an id")
        }
        return AdminDraft(
            loginName: try body.string("loginName"), userName: try body.string("userName"), email: try body.string("email"),
            roleID: roleID, password: try body.string("password"), disabled: try body.bool("disabled"))
    }
}

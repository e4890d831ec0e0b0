import Hummingbird
import KeygateCore

/// `/adminRoles`, `/adminUsers` and `/passwordChange`.
struct AdminController {
    let keygate: Keygate

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
            return try jsonResponse(
                RoleDTO(try await keygate.roles.role(principal, id: try request.pathID(context, "role")), channel: principal.channel))
        }
        group.post("adminRoles") { request, context in
            let principal = context.principal
            let draft = try await JSONBody.decode(RoleInput.self, request, context: context).draft
            return try jsonResponse(RoleDTO(try await keygate.roles.createRole(principal, draft: draft), channel: principal.channel))
        }
        group.put("adminRoles/{id}") { request, context in
            let principal = context.principal
            let id = try request.pathID(context, "role")
            let draft = try await JSONBody.decode(RoleInput.self, request, context: context).draft
            return try jsonResponse(RoleDTO(try await keygate.roles.updateRole(principal, id: id, draft: draft), channel: principal.channel))
        }
        group.delete("adminRoles/{id}") { request, context in
            try await keygate.roles.deleteRole(context.principal, id: try request.pathID(context, "role"))
            return noContent()
        }

        group.get("adminUsers") { request, context in
            let principal = context.principal
            let includeAuditors = try request.booleanQuery("includeAuditorUsers") ?? false
            let roles = Dictionary(uniqueKeysWithValues: try await keygate.roles.listRoles(principal).map { ($0.id, $0) })
            let admins = try await keygate.admins.listAdmins(principal).filter { includeAuditors || roles[$0.roleID]?.isAuditor != true }
            return try jsonResponse(admins.map { AdminDTO($0, roleName: roles[$0.roleID]?.name ?? "") })
        }
        group.get("adminUsers/{id}") { request, context in
            let principal = context.principal
            let admin = try await keygate.admins.admin(principal, id: try request.pathID(context, "admin"))
            return try jsonResponse(AdminDTO(admin, roleName: try await roleNames(principal)[admin.roleID] ?? ""))
        }
        group.post("adminUsers") { request, context in
            let principal = context.principal
            let draft = try await adminDraft(try await JSONBody.decode(AdminInput.self, request, context: context), principal: principal)
            let admin = try await keygate.admins.createAdmin(principal, draft: draft)
            return try jsonResponse(AdminDTO(admin, roleName: try await roleNames(principal)[admin.roleID] ?? ""))
        }
        group.put("adminUsers/{id}") { request, context in
            let principal = context.principal
            let id = try request.pathID(context, "admin")
            let draft = try await adminDraft(try await JSONBody.decode(AdminInput.self, request, context: context), principal: principal)
            let admin = try await keygate.admins.updateAdmin(principal, id: id, draft: draft)
            return try jsonResponse(AdminDTO(admin, roleName: try await roleNames(principal)[admin.roleID] ?? ""))
        }
        group.delete("adminUsers/{id}") { request, context in
            try await keygate.admins.deleteAdmin(context.principal, id: try request.pathID(context, "admin"))
            return noContent()
        }

        group.post("passwordChange") { request, context in
            let principal = context.principal
            let input = try await JSONBody.decode(PasswordChangeInput.self, request, context: context)
            try await keygate.admins.changePassword(
                principal, userName: input.userName, oldPassword: input.oldPassword, newPassword: input.newPassword,
                clientAddress: context.clientAddress)
            return noContent()
        }
    }

    private func roles(_ principal: Principal, _ request: Request) async throws -> [Role] {
        let includeAuditors = try request.booleanQuery("includeAuditorRole") ?? false
        return try await keygate.roles.listRoles(principal).filter { includeAuditors || !$0.isAuditor }
    }

    private func roleNames(_ principal: Principal) async throws -> [Int64: String] {
        Dictionary(uniqueKeysWithValues: try await keygate.roles.listRoles(principal).map { ($0.id, $0.name) })
    }

    /// The admin's draft, its role named by id or by name (`role` may be `{"id": n}`, a number, or a role name).
    func adminDraft(_ input: AdminInput, principal: Principal) async throws -> AdminDraft {
        var draft = input.draft
        switch input.role {
        case nil: draft.roleID = nil
        case .id(let id)?: draft.roleID = id
        case .name(let name)?: draft.roleID = try await keygate.roles.role(principal, named: name).id
        }
        return draft
    }
}

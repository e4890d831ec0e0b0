import Foundation

// Roles: their feature permissions (`APIKEY_MANAGEMENT`, `ADMIN_ACCT_ACCESS`) decide what an admin may do.

/// Fields a caller may set on a role; nil leaves the current value.
public struct RoleDraft: Sendable {
    /// Name.
    public var name: String?
    /// Rank.
    public var rank: Int?
    /// Role type.
    public var roleType: String?
    /// Feature permissions (canonical names); replaces the given features only.
    public var featurePermissions: [String: FeatureAccess]?
    /// Auditor flag.
    public var isAuditor: Bool?

    public init(
        name: String? = nil, rank: Int? = nil, roleType: String? = nil, featurePermissions: [String: FeatureAccess]? = nil,
        isAuditor: Bool? = nil
    ) {
        self.name = name
        self.rank = rank
        self.roleType = roleType
        self.featurePermissions = featurePermissions
        self.isAuditor = isAuditor
    }
}

/// Roles, under the role-change rule.
public struct RoleUseCases: UseCases {
    /// What this concept needs of storage (roles), and no more: its use cases reach data only through it.
    let roleStorage: any RoleStore
    let environment: UseCaseEnvironment
}

extension RoleUseCases {
    /// The organization's roles. Requires ``AccessRules/Action/viewRoles``.
    public func listRoles(_ principal: Principal) async throws -> [Role] {
        try principal.require(.viewRoles)
        return try await roleStorage.roles(orgID: principal.orgID)
    }

    /// One role. Requires ``AccessRules/Action/viewRoles``.
    public func role(_ principal: Principal, id: Int64) async throws -> Role {
        try principal.require(.viewRoles)
        guard let role = try await roleStorage.role(orgID: principal.orgID, id: id) else {
            throw KeygateError.notFound("role \(id) not found")
        }
        return role
    }

    /// The organization's role with this name (case-insensitive), for clients that name roles instead of
    /// giving ids (the SDK's `add_admin`, the CLI's `--role`).
    /// - Throws: ``KeygateError/invalidInput(_:)`` listing the roles that exist.
    public func role(_ provider: Provider, orgID: Int64, named name: String) async throws -> Role {
        try await role(in: orgID, named: name)
    }

    /// The caller's organization's role with this name (the SDK's `add_admin` names roles). Requires
    /// ``AccessRules/Action/viewRoles``.
    public func role(_ principal: Principal, named name: String) async throws -> Role {
        try principal.require(.viewRoles)
        return try await role(in: principal.orgID, named: name)
    }

    private func role(in orgID: Int64, named name: String) async throws -> Role {
        let roles = try await roleStorage.roles(orgID: orgID)
        guard let role = roles.first(where: { $0.name.lowercased() == name.lowercased() }) else {
            throw KeygateError.invalidInput("role \(name) does not exist; roles: \(roles.map(\.name).joined(separator: ", "))")
        }
        return role
    }

    /// Creates a role. Requires ``AccessRules/Action/manageRoles``, and the role must lie within the caller's
    /// (``AccessRules/checkRoleChange(caller:current:proposed:)``).
    public func createRole(_ principal: Principal, draft: RoleDraft) async throws -> Role {
        try principal.require(.manageRoles)
        guard let name = draft.name else { throw KeygateError.invalidInput("name is required") }
        try Role.validateName(name)
        let role = Role(
            id: 0, orgID: principal.orgID, name: name, rank: try Self.validRank(draft.rank ?? 7),
            roleType: try Self.validRoleType(draft.roleType ?? Role.defaultRoleType), featurePermissions: draft.featurePermissions ?? [:],
            isNonEditable: false, isAuditor: draft.isAuditor ?? false)
        try AccessRules.checkRoleChange(caller: principal.role, current: nil, proposed: role)
        return try await roleStorage.insertRole(
            role, audit: audit(principal, .roleCreated, "role \(name)"), basis: AuthorizationBasis(roles: [principal.role]))
    }

    /// Updates a role; live sessions of its admins follow the new permissions on their next request. Requires
    /// ``AccessRules/Action/manageRoles``; the role before and after must lie within the caller's, and it must not be
    /// the caller's own role or the Super Admin role.
    public func updateRole(_ principal: Principal, id: Int64, draft: RoleDraft) async throws -> Role {
        try principal.require(.manageRoles)
        let current = try await self.role(principal, id: id)
        try AccessRules.checkRoleChange(caller: principal.role, current: current, proposed: nil)
        var role = current
        if let name = draft.name {
            try Role.validateName(name)
            role.name = name
        }
        if let rank = draft.rank { role.rank = try Self.validRank(rank) }
        if let type = draft.roleType { role.roleType = try Self.validRoleType(type) }
        if let isAuditor = draft.isAuditor { role.isAuditor = isAuditor }
        if let permissions = draft.featurePermissions { role.featurePermissions.merge(permissions) { $1 } }
        try AccessRules.checkRoleChange(caller: principal.role, current: current, proposed: role)
        try await roleStorage.updateRole(
            role, audit: audit(principal, .roleUpdated, "role \(role.id)"), basis: AuthorizationBasis(roles: [principal.role, current]))
        return role
    }

    /// Deletes a role that no admin holds. Requires ``AccessRules/Action/manageRoles``; the role must lie within the
    /// caller's and not be their own or the Super Admin role.
    public func deleteRole(_ principal: Principal, id: Int64) async throws {
        try principal.require(.manageRoles)
        let role = try await self.role(principal, id: id)
        try AccessRules.checkRoleChange(caller: principal.role, current: role, proposed: nil)
        try await roleStorage.deleteRole(
            orgID: principal.orgID, id: id, audit: audit(principal, .roleDeleted, "role \(id)"),
            basis: AuthorizationBasis(roles: [principal.role, role]))
    }

    /// A role type as stored and reported back: printable, at most 64 characters.
    private static func validRoleType(_ type: String) throws -> String {
        try Admin.validateText(type, field: "roleType", required: true)
        guard type.count <= 64 else { throw KeygateError.invalidInput("roleType must be at most 64 characters") }
        return type
    }

    private static func validRank(_ rank: Int) throws -> Int {
        guard (0...7).contains(rank) else { throw KeygateError.invalidInput("rank must be 0-7") }
        return rank
    }

    /// An organization's roles.
    public func roles(_ provider: Provider, orgID: Int64) async throws -> [Role] { try await roleStorage.roles(orgID: orgID) }
}

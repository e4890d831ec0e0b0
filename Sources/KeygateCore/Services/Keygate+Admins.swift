import Foundation

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

    /// Creates a draft.
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

/// Fields a caller may set on an admin; nil leaves the current value.
public struct AdminDraft: Sendable {
    /// Sign-in name.
    public var loginName: String?
    /// Display name.
    public var userName: String?
    /// E-mail.
    public var email: String?
    /// Role id.
    public var roleID: Int64?
    /// New password (write-only).
    public var password: String?
    /// Disabled flag.
    public var disabled: Bool?

    /// Creates a draft.
    public init(
        loginName: String? = nil, userName: String? = nil, email: String? = nil, roleID: Int64? = nil,
        password: String? = nil, disabled: Bool? = nil
    ) {
        self.loginName = loginName
        self.userName = userName
        self.email = email
        self.roleID = roleID
        self.password = password
        self.disabled = disabled
    }
}

extension Keygate {
    // MARK: Roles

    /// The organization's roles. Requires `READ_ONLY`.
    public func listRoles(_ principal: Principal) async throws -> [Role] {
        try principal.require(.readOnly)
        return try await store.roles(orgID: principal.orgID)
    }

    /// One role. Requires `READ_ONLY`.
    public func role(_ principal: Principal, id: Int64) async throws -> Role {
        try principal.require(.readOnly)
        guard let role = try await store.role(orgID: principal.orgID, id: id) else {
            throw KeygateError.notFound("role \(id) not found")
        }
        return role
    }

    /// The organization's role with this name (case-insensitive), for clients that name roles instead of
    /// giving ids (the SDK's `add_admin`, the CLI's `--role`).
    /// - Throws: ``KeygateError/invalidInput(_:)`` listing the roles that exist.
    public func role(orgID: Int64, named name: String) async throws -> Role {
        let roles = try await store.roles(orgID: orgID)
        guard let role = roles.first(where: { $0.name.lowercased() == name.lowercased() }) else {
            throw KeygateError.invalidInput("role \(name) does not exist; roles: \(roles.map(\.name).joined(separator: ", "))")
        }
        return role
    }

    /// Creates a role. Requires `READ_WRITE`.
    public func createRole(_ principal: Principal, draft: RoleDraft) async throws -> Role {
        try principal.require(.readWrite)
        guard let name = draft.name else { throw KeygateError.invalidInput("name is required") }
        try Role.validateName(name)
        let role = Role(
            id: 0, orgID: principal.orgID, name: name, rank: try Self.validRank(draft.rank ?? 7),
            roleType: draft.roleType ?? Role.defaultRoleType, featurePermissions: draft.featurePermissions ?? [:],
            isNonEditable: false, isAuditor: draft.isAuditor ?? false)
        return try await store.insertRole(role, audit: audit(principal, "role.created", "role \(name)"))
    }

    /// Updates a role; live sessions of its admins follow the new permissions on their next request.
    public func updateRole(_ principal: Principal, id: Int64, draft: RoleDraft) async throws -> Role {
        try principal.require(.readWrite)
        var role = try await self.role(principal, id: id)
        guard !role.isNonEditable else { throw KeygateError.forbidden("the \(role.name) role cannot be edited") }
        if let name = draft.name {
            try Role.validateName(name)
            role.name = name
        }
        if let rank = draft.rank { role.rank = try Self.validRank(rank) }
        if let type = draft.roleType { role.roleType = type }
        if let isAuditor = draft.isAuditor { role.isAuditor = isAuditor }
        if let permissions = draft.featurePermissions { role.featurePermissions.merge(permissions) { $1 } }
        try await store.updateRole(role, audit: audit(principal, "role.updated", "role \(role.id)"))
        return role
    }

    /// Deletes a role that no admin holds.
    public func deleteRole(_ principal: Principal, id: Int64) async throws {
        try principal.require(.readWrite)
        let role = try await self.role(principal, id: id)
        guard !role.isNonEditable else { throw KeygateError.forbidden("the \(role.name) role cannot be deleted") }
        try await store.deleteRole(orgID: principal.orgID, id: id, audit: audit(principal, "role.deleted", "role \(id)"))
    }

    // MARK: Admins

    /// The organization's admins. Requires `READ_ONLY`.
    public func listAdmins(_ principal: Principal) async throws -> [Admin] {
        try principal.require(.readOnly)
        return try await store.admins(orgID: principal.orgID)
    }

    /// One admin. Requires `READ_ONLY`.
    public func admin(_ principal: Principal, id: Int64) async throws -> Admin {
        try principal.require(.readOnly)
        guard let admin = try await store.admin(orgID: principal.orgID, id: id) else {
            throw KeygateError.notFound("admin \(id) not found")
        }
        return admin
    }

    /// Creates an admin. Requires admin management (``requireAdminManagement(_:target:newRoleID:)``).
    public func createAdmin(_ principal: Principal, draft: AdminDraft) async throws -> Admin {
        try await requireAdminManagement(principal, target: nil, newRoleID: draft.roleID)
        return try await createAdmin(orgID: principal.orgID, draft: draft, actor: principal.actor)
    }

    /// The rule for every change an admin makes to admin accounts, so that no role can take over a stronger one:
    /// - the caller's role must manage API keys (`APIKEY_MANAGEMENT` `READ_WRITE`) *and* admin accounts
    ///   (`ADMIN_ACCT_ACCESS` `READ_WRITE`, Zscaler's `adminAcctAccess`; Super Admin has both);
    /// - the admin changed, and any role given, must not rank above the caller's role (rank 0 is the highest).
    /// The provider (CLI, console) is not bound by it.
    func requireAdminManagement(_ principal: Principal, target: Admin?, newRoleID: Int64?) async throws {
        try principal.require(.readWrite)
        guard principal.role.adminAccess == .readWrite else {
            throw KeygateError.forbidden("your role does not allow managing admins (adminAcctAccess READ_WRITE)")
        }
        for roleID in [target?.roleID, newRoleID].compactMap({ $0 }) {
            guard let role = try await store.role(orgID: principal.orgID, id: roleID) else {
                throw KeygateError.invalidInput("role \(roleID) does not exist")
            }
            if role.ranksAbove(principal.role) {
                throw KeygateError.forbidden("the \(role.name) role ranks above yours: you cannot manage its admins or grant it")
            }
        }
    }

    /// Creates an admin as `actor` (an admin, or the provider from the CLI).
    public func createAdmin(orgID: Int64, draft: AdminDraft, actor: ChangeActor) async throws -> Admin {
        guard let loginName = draft.loginName else { throw KeygateError.invalidInput("loginName is required") }
        guard let password = draft.password else { throw KeygateError.invalidInput("password is required") }
        guard let roleID = draft.roleID else { throw KeygateError.invalidInput("role is required") }
        try Admin.validateLoginName(loginName)
        let userName = draft.userName ?? loginName
        try Admin.validateText(userName, field: "userName", required: true)
        try Admin.validateText(draft.email ?? "", field: "email", required: false)
        try PasswordPolicy.validate(password)
        guard try await store.role(orgID: orgID, id: roleID) != nil else {
            throw KeygateError.invalidInput("role \(roleID) does not exist")
        }
        let admin = Admin(
            id: 0, orgID: orgID, loginName: loginName, userName: userName, email: draft.email ?? "", roleID: roleID,
            passwordHash: try await hasher.hash(password), disabled: draft.disabled ?? false, createdAt: now())
        return try await store.insertAdmin(
            admin, audit: AuditEvent(orgID: orgID, at: now(), actor: actor, action: "admin.created", detail: "admin \(loginName)"))
    }

    /// Updates an admin. Disabling, a new password or a new role ends that admin's sessions; an admin cannot
    /// disable themself or take away their own write access.
    ///
    /// One's own password changes only through ``changePassword(_:userName:oldPassword:newPassword:clientAddress:)``,
    /// which asks for the current one: a stolen session must not be enough to take the account over.
    public func updateAdmin(_ principal: Principal, id: Int64, draft: AdminDraft) async throws -> Admin {
        try principal.require(.readWrite)
        let current = try await admin(principal, id: id)
        if id == principal.admin.id, draft.password != nil {
            throw KeygateError.forbidden("change your own password with passwordChange, which asks for the current one")
        }
        if id == principal.admin.id, draft.disabled == true || (draft.roleID.map { $0 != current.roleID } ?? false) {
            throw KeygateError.conflict("you cannot disable yourself or change your own role")
        }
        // One's own name and e-mail need no admin management (role, disabling and password are refused above).
        if id != principal.admin.id {
            try await requireAdminManagement(principal, target: current, newRoleID: draft.roleID.flatMap { $0 == current.roleID ? nil : $0 })
        }
        // An admin's own change (e.g. a new password) keeps the session that made it, as `passwordChange` does.
        let keep = id == principal.admin.id ? principal.tokenHash : nil
        return try await updateAdmin(current: current, draft: draft, actor: principal.actor, keepSession: keep)
    }

    /// Updates an admin as `actor` (also used by the CLI). Disabling or a new password ends the admin's sessions,
    /// all but `keepSession`.
    public func updateAdmin(current: Admin, draft: AdminDraft, actor: ChangeActor, keepSession: String? = nil) async throws -> Admin {
        var admin = current
        if let loginName = draft.loginName {
            try Admin.validateLoginName(loginName)
            admin.loginName = loginName
        }
        if let userName = draft.userName {
            try Admin.validateText(userName, field: "userName", required: true)
            admin.userName = userName
        }
        if let email = draft.email {
            try Admin.validateText(email, field: "email", required: false)
            admin.email = email
        }
        if let roleID = draft.roleID, roleID != admin.roleID {
            guard try await store.role(orgID: admin.orgID, id: roleID) != nil else {
                throw KeygateError.invalidInput("role \(roleID) does not exist")
            }
            admin.roleID = roleID
        }
        if let password = draft.password {
            try PasswordPolicy.validate(password)
            admin.passwordHash = try await hasher.hash(password)
        }
        if let disabled = draft.disabled { admin.disabled = disabled }
        let endSessions = admin.disabled || draft.password != nil
        let action = draft.disabled == true && !current.disabled ? "admin.disabled" : "admin.updated"
        try await store.updateAdmin(
            admin, endSessions: endSessions, keepSession: keepSession,
            audit: AuditEvent(orgID: admin.orgID, at: now(), actor: actor, action: action, detail: "admin \(admin.loginName)"))
        return admin
    }

    /// Deletes an admin (not oneself) and their sessions.
    public func deleteAdmin(_ principal: Principal, id: Int64) async throws {
        try principal.require(.readWrite)
        guard id != principal.admin.id else { throw KeygateError.conflict("you cannot delete yourself") }
        let admin = try await admin(principal, id: id)
        try await requireAdminManagement(principal, target: admin, newRoleID: nil)
        try await store.deleteAdmin(orgID: principal.orgID, id: id, audit: audit(principal, "admin.deleted", "admin \(admin.loginName)"))
    }

    /// Changes the caller's own password; their other sessions (API, portal) end.
    ///
    /// A wrong old password is a guess like a failed login: the attempt is reserved in the same lockout counters
    /// (login name and `clientAddress`) before bcrypt, so a stolen session cannot test passwords without limit.
    public func changePassword(
        _ principal: Principal, userName: String, oldPassword: String, newPassword: String, clientAddress: String
    ) async throws {
        guard userName.lowercased() == principal.admin.loginName.lowercased() else {
            throw KeygateError.forbidden("you can change only your own password")
        }
        try Self.validateSignInInput(loginName: userName, password: oldPassword)
        let now = self.now()
        let reservation = try await loginThrottle.reserve(loginName: principal.admin.loginName, address: clientAddress, now: now)
        guard try await hasher.verify(oldPassword, against: principal.admin.passwordHash) else {
            throw KeygateError.invalidInput("the old password is not correct")
        }
        try await loginThrottle.succeeded(reservation, now: now)
        guard oldPassword != newPassword else { throw KeygateError.invalidInput("the new password must differ from the old one") }
        try PasswordPolicy.validate(newPassword)
        var admin = principal.admin
        admin.passwordHash = try await hasher.hash(newPassword)
        try await store.updateAdmin(
            admin, endSessions: true, keepSession: principal.tokenHash, audit: audit(principal, "admin.password_changed", "own password"))
    }

    // MARK: Audit

    /// The organization's audit trail, newest first.
    public func auditTrail(orgID: Int64, actionPrefix: String? = nil, limit: Int = 200) async throws -> [AuditEvent] {
        try await store.auditEvents(orgID: orgID, actionPrefix: actionPrefix, limit: max(1, min(limit, 10_000)))
    }

    /// The kinds of audit event a reader can filter by (the action's first part).
    public static let auditTypes = ["key", "session", "admin", "role", "portal", "org"]

    /// The caller's organization's audit trail, newest first, optionally one kind only. Requires `READ_ONLY`.
    /// - Throws: ``KeygateError/invalidInput(_:)`` for an unknown kind.
    public func auditTrail(_ principal: Principal, type: String?, limit: Int = 500) async throws -> [AuditEvent] {
        try principal.require(.readOnly)
        if let type, !Self.auditTypes.contains(type) {
            throw KeygateError.invalidInput("type must be one of \(Self.auditTypes.joined(separator: ", "))")
        }
        return try await auditTrail(orgID: principal.orgID, actionPrefix: type.map { $0 + "." }, limit: limit)
    }

    private func audit(_ principal: Principal, _ action: String, _ detail: String) -> AuditEvent {
        AuditEvent(orgID: principal.orgID, at: now(), actor: principal.actor, action: action, detail: detail)
    }

    private static func validRank(_ rank: Int) throws -> Int {
        guard (0...7).contains(rank) else { throw KeygateError.invalidInput("rank must be 0-7") }
        return rank
    }
}

extension Keygate {
    // MARK: The provider's view (CLI), not bound by an admin's role

    /// An organization's admins.
    public func admins(orgID: Int64) async throws -> [Admin] { try await store.admins(orgID: orgID) }

    /// An organization's roles.
    public func roles(orgID: Int64) async throws -> [Role] { try await store.roles(orgID: orgID) }

    /// The organization's admin with this login name (case-insensitive).
    /// - Throws: ``KeygateError/notFound(_:)``.
    public func admin(orgID: Int64, loginName: String) async throws -> Admin {
        guard let admin = try await store.admins(orgID: orgID).first(where: { $0.loginName.lowercased() == loginName.lowercased() }) else {
            throw KeygateError.notFound("no admin \(loginName) in organization \(orgID)")
        }
        return admin
    }
}

import Foundation

// Admin accounts: creating, changing, disabling and deleting them (under ``requireAdminManagement(_:target:newRoleID:)``),
// and changing one's own password.

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

/// Admin accounts, under the admin-management rule; one's own password.
public struct AdminUseCases: UseCases {
    /// What this concept needs of storage (admin accounts and the roles they hold), and no more: its use cases reach data only through it.
    let adminStorage: any AdminStore & RoleStore
    /// The one sign-in flow.
    let signIns: SignInFlow
    let environment: UseCaseEnvironment
}

extension AdminUseCases {
    /// The organization's admins. Requires ``AccessRules/Action/viewAdmins``.
    public func listAdmins(_ principal: Principal) async throws -> [Admin] {
        try principal.require(.viewAdmins)
        return try await adminStorage.admins(orgID: principal.orgID)
    }

    /// One admin. Requires ``AccessRules/Action/viewAdmins``.
    public func admin(_ principal: Principal, id: Int64) async throws -> Admin {
        try principal.require(.viewAdmins)
        guard let admin = try await adminStorage.admin(orgID: principal.orgID, id: id) else {
            throw KeygateError.notFound("admin \(id) not found")
        }
        return admin
    }

    /// The organization's admin with this login name (case-insensitive).
    /// - Throws: ``KeygateError/notFound(_:)``.
    public func admin(_ provider: Provider, orgID: Int64, loginName: String) async throws -> Admin {
        guard let admin = try await adminStorage.admins(orgID: orgID).first(where: { $0.loginName.lowercased() == loginName.lowercased() }) else {
            throw KeygateError.notFound("no admin \(loginName) in organization \(orgID)")
        }
        return admin
    }

    /// Creates an admin. Requires admin management (``requireAdminManagement(_:target:newRoleID:)``).
    public func createAdmin(_ principal: Principal, draft: AdminDraft) async throws -> Admin {
        let basis = try await requireAdminManagement(principal, target: nil, newRoleID: draft.roleID)
        return try await insertAdmin(orgID: principal.orgID, draft: draft, actor: principal.actor, basis: basis)
    }

    /// The provider creates an admin in any organization (the CLI's `keygate admin create`).
    public func createAdmin(_ provider: Provider, orgID: Int64, draft: AdminDraft) async throws -> Admin {
        try await insertAdmin(orgID: orgID, draft: draft, actor: provider.actor)
    }

    /// Creates an admin as `actor` (an admin, or the provider from the CLI), if `basis` still holds.
    private func insertAdmin(orgID: Int64, draft: AdminDraft, actor: ChangeActor, basis: AuthorizationBasis = .none) async throws -> Admin {
        guard let loginName = draft.loginName else { throw KeygateError.invalidInput("loginName is required") }
        guard let password = draft.password else { throw KeygateError.invalidInput("password is required") }
        guard let roleID = draft.roleID else { throw KeygateError.invalidInput("role is required") }
        try Admin.validateLoginName(loginName)
        let userName = draft.userName ?? loginName
        try Admin.validateText(userName, field: "userName", required: true)
        try Admin.validateText(draft.email ?? "", field: "email", required: false)
        try PasswordPolicy.validate(password)
        guard try await adminStorage.role(orgID: orgID, id: roleID) != nil else {
            throw KeygateError.invalidInput("role \(roleID) does not exist")
        }
        let admin = Admin(
            id: 0, orgID: orgID, loginName: loginName, userName: userName, email: draft.email ?? "", roleID: roleID,
            passwordHash: try await hasher.hash(password), disabled: draft.disabled ?? false, createdAt: now())
        return try await adminStorage.insertAdmin(
            admin, audit: AuditEvent(orgID: orgID, at: now(), actor: actor, action: .adminCreated, detail: "admin \(loginName)"),
            basis: basis)
    }

    /// The rule for every change an admin makes to another admin account (``AccessRules/checkAdminChange(caller:targetRole:newRole:)``):
    /// the caller's role must allow ``AccessRules/Action/manageAdmins``, and both the role the admin holds and any
    /// role given must lie within the caller's (ranked no higher, granting nothing more), so no role can take over a
    /// stronger one. The provider (CLI, console) is not bound by it.
    /// - Returns: what the decision read (the caller's role, the target's, the one given, the target): the write must
    ///   find it unchanged.
    func requireAdminManagement(_ principal: Principal, target: Admin?, newRoleID: Int64?) async throws -> AuthorizationBasis {
        try principal.require(.manageAdmins)
        func role(_ id: Int64) async throws -> Role {
            guard let role = try await adminStorage.role(orgID: principal.orgID, id: id) else {
                throw KeygateError.invalidInput("role \(id) does not exist")
            }
            return role
        }
        let targetRole: Role? = if let target { try await role(target.roleID) } else { nil }
        let newRole: Role? = if let newRoleID { try await role(newRoleID) } else { nil }
        try AccessRules.checkAdminChange(caller: principal.role, targetRole: targetRole, newRole: newRole)
        return AuthorizationBasis(roles: [principal.role] + [targetRole, newRole].compactMap { $0 }, admin: target)
    }

    /// Updates an admin. Disabling, a new password or a new role ends that admin's sessions; an admin cannot
    /// disable themself or take away their own write access.
    ///
    /// One's own password changes only through ``changePassword(_:userName:oldPassword:newPassword:clientAddress:)``,
    /// which asks for the current one: a stolen session must not be enough to take the account over.
    public func updateAdmin(_ principal: Principal, id: Int64, draft: AdminDraft) async throws -> Admin {
        try principal.require(id == principal.admin.id ? .manageOwnAccount : .manageAdmins)
        let current = try await admin(principal, id: id)
        if id == principal.admin.id, draft.password != nil {
            throw KeygateError.forbidden("change your own password with passwordChange, which asks for the current one")
        }
        if id == principal.admin.id, draft.disabled == true || (draft.roleID.map { $0 != current.roleID } ?? false) {
            throw KeygateError.conflict("you cannot disable yourself or change your own role")
        }
        // One's own name and e-mail need no admin management (role, disabling and password are refused above).
        var basis = AuthorizationBasis(roles: [principal.role])
        if id != principal.admin.id {
            basis = try await requireAdminManagement(
                principal, target: current, newRoleID: draft.roleID.flatMap { $0 == current.roleID ? nil : $0 })
        }
        // An admin's own change (e.g. a new password) keeps the session that made it, as `passwordChange` does.
        let keep = id == principal.admin.id ? principal.tokenHash : nil
        return try await writeAdmin(current: current, draft: draft, actor: principal.actor, keepSession: keep, basis: basis)
    }

    /// Updates an admin as `actor` (also used by the CLI). Disabling or a new password ends the admin's sessions,
    /// all but `keepSession`. The row is written as `current` with the draft applied, so it is written only while
    /// the stored admin still has `current`'s role, disabled flag and password hash (and `basis`'s roles are
    /// unchanged): a simultaneous disable or demotion is never undone by this write.
    public func updateAdmin(_ provider: Provider, current: Admin, draft: AdminDraft) async throws -> Admin {
        try await writeAdmin(current: current, draft: draft, actor: provider.actor)
    }

    private func writeAdmin(
        current: Admin, draft: AdminDraft, actor: ChangeActor, keepSession: String? = nil, basis: AuthorizationBasis = .none
    ) async throws -> Admin {
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
            guard try await adminStorage.role(orgID: admin.orgID, id: roleID) != nil else {
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
        // Distinct actions for what webhooks report (``AuditAction/webhookEvent``).
        let action: AuditAction =
            if draft.disabled == true && !current.disabled {
                .adminDisabled
            } else if draft.disabled == false && current.disabled {
                .adminEnabled
            } else if draft.password != nil {
                .adminPasswordReset
            } else {
                .adminUpdated
            }
        let ended = try await adminStorage.updateAdmin(
            admin, endSessions: endSessions, keepSession: keepSession,
            audit: AuditEvent(orgID: admin.orgID, at: now(), actor: actor, action: action, detail: "admin \(admin.loginName)"),
            basis: AuthorizationBasis(roles: basis.roles, admin: current))
        metrics.sessionsEnded(.adminChanged, count: ended)
        return admin
    }

    /// Deletes an admin (not oneself) and their sessions.
    public func deleteAdmin(_ principal: Principal, id: Int64) async throws {
        try principal.require(.manageAdmins)
        guard id != principal.admin.id else { throw KeygateError.conflict("you cannot delete yourself") }
        let admin = try await admin(principal, id: id)
        let basis = try await requireAdminManagement(principal, target: admin, newRoleID: nil)
        let ended = try await adminStorage.deleteAdmin(
            orgID: principal.orgID, id: id, audit: audit(principal, .adminDeleted, "admin \(admin.loginName)"), basis: basis)
        metrics.sessionsEnded(.adminChanged, count: ended)
    }

    /// Changes the caller's own password; their other sessions (API, portal) end.
    ///
    /// A wrong old password is a guess like a failed login: the attempt is reserved in the same lockout counters
    /// (login name and `clientAddress`) before bcrypt, so a stolen session cannot test passwords without limit.
    public func changePassword(
        _ principal: Principal, userName: String, oldPassword: String, newPassword: String, clientAddress: String
    ) async throws {
        try principal.require(.manageOwnAccount)
        guard userName.lowercased() == principal.admin.loginName.lowercased() else {
            throw KeygateError.forbidden("you can change only your own password")
        }
        try SignInFlow.validateSignInInput(loginName: userName, password: oldPassword)
        let now = self.now()
        let reservation = try await loginThrottle.reserve(loginName: principal.admin.loginName, address: clientAddress, now: now)
        guard try await hasher.verify(oldPassword, against: principal.admin.passwordHash) else {
            await signIns.countLockouts(reservation, now: now)
            throw KeygateError.invalidInput("the old password is not correct")
        }
        try await loginThrottle.succeeded(reservation, now: now)
        guard oldPassword != newPassword else { throw KeygateError.invalidInput("the new password must differ from the old one") }
        try PasswordPolicy.validate(newPassword)
        var admin = principal.admin
        admin.passwordHash = try await hasher.hash(newPassword)
        let ended = try await adminStorage.updateAdmin(
            admin, endSessions: true, keepSession: principal.tokenHash, audit: audit(principal, .adminPasswordChanged, "own password"),
            basis: AuthorizationBasis(roles: [], admin: principal.admin))
        metrics.sessionsEnded(.adminChanged, count: ended)
    }

    /// An organization's admins.
    public func admins(_ provider: Provider, orgID: Int64) async throws -> [Admin] { try await adminStorage.admins(orgID: orgID) }
}

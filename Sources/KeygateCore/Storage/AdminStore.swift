import Foundation

/// What an admin's change to roles or admins was authorized on (``AccessRules``), checked again inside the change's
/// transaction: each role must still have the rank and permissions that were read (the caller's own, the one changed,
/// the one given), and the admin changed must still have the role, disabled flag and password hash that were read.
/// A change made meanwhile (the admin promoted, disabled or reset, the role raised, the caller demoted) fails the
/// write with ``KeygateError/editLockNotAvailable`` instead of slipping between the check and the write, or being
/// undone by a write of the row as it was read. The rows are locked by the check until the transaction ends.
public struct AuthorizationBasis: Sendable, Hashable {
    /// Roles as the rules read them.
    public var roles: [Role]
    /// The admin changed, as read.
    public var admin: Admin?

    public init(roles: [Role], admin: Admin? = nil) {
        self.roles = roles
        self.admin = admin
    }

    /// No basis: the provider's changes (CLI, console), which no rule of an organization's binds.
    public static let none = AuthorizationBasis(roles: [])
}

/// Roles and their feature permissions.
///
/// One capability of ``KeygateStore``; the use cases of a concept need only theirs. The rules every method keeps
/// (one transaction each, change announcements) are ``KeygateStore``'s.
public protocol RoleStore: Sendable {
    /// The organization's roles by id.
    func roles(orgID: Int64) async throws -> [Role]
    /// One role of the organization.
    func role(orgID: Int64, id: Int64) async throws -> Role?
    /// Inserts a role (its `id` is ignored) if `basis` still holds.
    /// - Throws: ``KeygateError/conflict(_:)`` on a duplicate name; ``KeygateError/editLockNotAvailable`` when the basis
    ///   changed.
    func insertRole(_ role: Role, audit: AuditEvent, basis: AuthorizationBasis) async throws -> Role
    /// Replaces a role if `basis` still holds. - Throws: as ``insertRole(_:audit:basis:)``.
    func updateRole(_ role: Role, audit: AuditEvent, basis: AuthorizationBasis) async throws
    /// Deletes a role if `basis` still holds.
    /// - Throws: ``KeygateError/conflict(_:)`` while an admin holds it; ``KeygateError/editLockNotAvailable``.
    func deleteRole(orgID: Int64, id: Int64, audit: AuditEvent, basis: AuthorizationBasis) async throws
}

extension RoleStore {
    /// Inserts a role with no basis to check (the provider's changes, tests).
    public func insertRole(_ role: Role, audit: AuditEvent) async throws -> Role {
        try await insertRole(role, audit: audit, basis: .none)
    }

    /// Replaces a role with no basis to check.
    public func updateRole(_ role: Role, audit: AuditEvent) async throws { try await updateRole(role, audit: audit, basis: .none) }

    /// Deletes a role with no basis to check.
    public func deleteRole(orgID: Int64, id: Int64, audit: AuditEvent) async throws {
        try await deleteRole(orgID: orgID, id: id, audit: audit, basis: .none)
    }
}

/// Admin accounts; changing one can end their API and portal sessions.
///
/// One capability of ``KeygateStore``; the use cases of a concept need only theirs. The rules every method keeps
/// (one transaction each, change announcements) are ``KeygateStore``'s.
public protocol AdminStore: Sendable {
    /// The organization's admins by id.
    func admins(orgID: Int64) async throws -> [Admin]
    /// One admin of the organization.
    func admin(orgID: Int64, id: Int64) async throws -> Admin?
    /// Inserts an admin (its `id` is ignored) if `basis` still holds.
    /// - Throws: ``KeygateError/conflict(_:)`` on a duplicate login name; ``KeygateError/editLockNotAvailable``.
    func insertAdmin(_ admin: Admin, audit: AuditEvent, basis: AuthorizationBasis) async throws -> Admin
    /// Replaces an admin if `basis` still holds; ends their API and portal sessions (all, or all but the one whose
    /// token hash is `keepSession`) when `endSessions` is set.
    /// - Returns: the API sessions ended.
    /// - Throws: ``KeygateError/conflict(_:)`` on a duplicate login name; ``KeygateError/editLockNotAvailable``.
    @discardableResult
    func updateAdmin(_ admin: Admin, endSessions: Bool, keepSession: String?, audit: AuditEvent, basis: AuthorizationBasis) async throws -> Int
    /// Replaces an admin's password hash with `new` if it is still `old` (a cost upgrade after a sign-in: no audit
    /// event, no session ends).
    /// - Returns: whether it was replaced.
    @discardableResult
    func replacePasswordHash(adminID: Int64, orgID: Int64, from old: String, to new: String) async throws -> Bool
    /// Deletes an admin and their sessions if `basis` still holds.
    /// - Returns: the API sessions ended.
    @discardableResult
    func deleteAdmin(orgID: Int64, id: Int64, audit: AuditEvent, basis: AuthorizationBasis) async throws -> Int
}

extension AdminStore {
    /// Inserts an admin with no basis to check (the provider's changes, tests).
    public func insertAdmin(_ admin: Admin, audit: AuditEvent) async throws -> Admin {
        try await insertAdmin(admin, audit: audit, basis: .none)
    }

    /// Replaces an admin with no basis to check.
    @discardableResult
    public func updateAdmin(_ admin: Admin, endSessions: Bool, keepSession: String?, audit: AuditEvent) async throws -> Int {
        try await updateAdmin(admin, endSessions: endSessions, keepSession: keepSession, audit: audit, basis: .none)
    }

    /// Deletes an admin with no basis to check.
    @discardableResult
    public func deleteAdmin(orgID: Int64, id: Int64, audit: AuditEvent) async throws -> Int {
        try await deleteAdmin(orgID: orgID, id: id, audit: audit, basis: .none)
    }
}

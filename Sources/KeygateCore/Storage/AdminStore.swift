import Foundation

/// Roles and their feature permissions.
///
/// One capability of ``KeygateStore``; the use cases of a concept need only theirs. The rules every method keeps
/// (one transaction each, change announcements) are ``KeygateStore``'s.
public protocol RoleStore: Sendable {
    /// The organization's roles by id.
    func roles(orgID: Int64) async throws -> [Role]
    /// One role of the organization.
    func role(orgID: Int64, id: Int64) async throws -> Role?
    /// Inserts a role (its `id` is ignored). - Throws: ``KeygateError/conflict(_:)`` on a duplicate name.
    func insertRole(_ role: Role, audit: AuditEvent) async throws -> Role
    /// Replaces a role. - Throws: ``KeygateError/conflict(_:)`` on a duplicate name.
    func updateRole(_ role: Role, audit: AuditEvent) async throws
    /// Deletes a role. - Throws: ``KeygateError/conflict(_:)`` while an admin holds it.
    func deleteRole(orgID: Int64, id: Int64, audit: AuditEvent) async throws
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
    /// Inserts an admin (its `id` is ignored). - Throws: ``KeygateError/conflict(_:)`` on a duplicate login name.
    func insertAdmin(_ admin: Admin, audit: AuditEvent) async throws -> Admin
    /// Replaces an admin; ends their API and portal sessions (all, or all but the one whose token hash is
    /// `keepSession`) when `endSessions` is set.
    /// - Returns: the API sessions ended.
    @discardableResult
    func updateAdmin(_ admin: Admin, endSessions: Bool, keepSession: String?, audit: AuditEvent) async throws -> Int
    /// Replaces an admin's password hash with `new` if it is still `old` (a cost upgrade after a sign-in: no audit
    /// event, no session ends).
    /// - Returns: whether it was replaced.
    @discardableResult
    func replacePasswordHash(adminID: Int64, orgID: Int64, from old: String, to new: String) async throws -> Bool
    /// Deletes an admin and their sessions.
    /// - Returns: the API sessions ended.
    @discardableResult
    func deleteAdmin(orgID: Int64, id: Int64, audit: AuditEvent) async throws -> Int
}

import Foundation
import KeygateCore
import SQLKit

// MARK: Roles

extension SQLKeygateStore: RoleStore {
    public func roles(orgID: Int64) async throws -> [Role] {
        try await db.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: Self.roleColumns) FROM roles r WHERE r.org_id = \(bind: orgID) ORDER BY r.id").all()
                .map { try Self.role($0, prefix: "r_") }
        }
    }

    public func role(orgID: Int64, id: Int64) async throws -> Role? {
        try await db.read { sql in
            try await sql.raw(
                "SELECT \(unsafeRaw: Self.roleColumns) FROM roles r WHERE r.org_id = \(bind: orgID) AND r.id = \(bind: id)"
            ).first().map { try Self.role($0, prefix: "r_") }
        }
    }

    public func insertRole(_ role: Role, audit: AuditEvent, basis: AuthorizationBasis) async throws -> Role {
        try await db.transaction(announcing: .nothing) { sql in
            try await Self.check(sql, basis, orgID: role.orgID)
            var inserted = role
            inserted.id = try await Self.insertRole(sql, role)
            try await Self.insertAudit(sql, audit)
            return inserted
        }
    }

    public func updateRole(_ role: Role, audit: AuditEvent, basis: AuthorizationBasis) async throws {
        try await db.transaction(announcing: .organization(id: role.orgID)) { sql in
            try await Self.check(sql, basis, orgID: role.orgID)
            try await Self.checkRoleName(sql, role)
            do {
                try await sql.raw(
                    """
                    UPDATE roles SET name = \(bind: role.name), rank = \(bind: role.rank), role_type = \(bind: role.roleType),
                      permissions = \(bind: Self.encodePermissions(role.featurePermissions)), is_auditor = \(bind: role.isAuditor ? 1 : 0)
                    WHERE id = \(bind: role.id) AND org_id = \(bind: role.orgID)
                    """
                ).run()
            } catch  where Self.isUniqueViolation(error) {
                throw KeygateError.conflict("a role named \(role.name) already exists")
            }
            try await Self.insertAudit(sql, audit)
        }
    }

    public func deleteRole(orgID: Int64, id: Int64, audit: AuditEvent, basis: AuthorizationBasis) async throws {
        try await db.transaction(announcing: .organization(id: orgID)) { sql in
            try await Self.check(sql, basis, orgID: orgID)
            let holders = try await Self.count(sql, "SELECT COUNT(*) AS n FROM admins WHERE role_id = \(bind: id)")
            guard holders == 0 else { throw KeygateError.conflict("the role is assigned to \(holders) admin(s)") }
            try await sql.raw("DELETE FROM roles WHERE id = \(bind: id) AND org_id = \(bind: orgID)").run()
            try await Self.insertAudit(sql, audit)
        }
    }
}

// MARK: Admins

extension SQLKeygateStore: AdminStore {
    public func admins(orgID: Int64) async throws -> [Admin] {
        try await db.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: Self.adminColumns) FROM admins a WHERE a.org_id = \(bind: orgID) ORDER BY a.id").all()
                .map { try Self.admin($0, prefix: "a_") }
        }
    }

    public func admin(orgID: Int64, id: Int64) async throws -> Admin? {
        try await db.read { sql in
            try await sql.raw(
                "SELECT \(unsafeRaw: Self.adminColumns) FROM admins a WHERE a.org_id = \(bind: orgID) AND a.id = \(bind: id)"
            ).first().map { try Self.admin($0, prefix: "a_") }
        }
    }

    public func insertAdmin(_ admin: Admin, audit: AuditEvent, basis: AuthorizationBasis) async throws -> Admin {
        try await db.transaction(announcing: .nothing) { sql in
            try await Self.check(sql, basis, orgID: admin.orgID)
            var inserted = admin
            inserted.id = try await Self.insertAdmin(sql, admin)
            try await Self.insertAudit(sql, audit)
            return inserted
        }
    }

    @discardableResult
    public func replacePasswordHash(adminID: Int64, orgID: Int64, from old: String, to new: String) async throws -> Bool {
        try await db.transaction(announcing: .admin(id: adminID)) { sql in
            let rows = try await sql.raw(
                """
                UPDATE admins SET password_hash = \(bind: new)
                WHERE id = \(bind: adminID) AND org_id = \(bind: orgID) AND password_hash = \(bind: old) RETURNING id
                """
            ).all()
            return !rows.isEmpty
        }
    }

    public func updateAdmin(
        _ admin: Admin, endSessions: Bool, keepSession: String?, audit: AuditEvent, basis: AuthorizationBasis
    ) async throws -> Int {
        try await db.transaction(announcing: .admin(id: admin.id)) { sql in
            try await Self.check(sql, basis, orgID: admin.orgID)
            try await Self.checkLoginName(sql, admin)
            do {
                try await sql.raw(
                    """
                    UPDATE admins SET login_name = \(bind: admin.loginName), login_key = \(bind: admin.loginName.lowercased()),
                      user_name = \(bind: admin.userName), email = \(bind: admin.email), role_id = \(bind: admin.roleID),
                      password_hash = \(bind: admin.passwordHash), disabled = \(bind: admin.disabled ? 1 : 0)
                    WHERE id = \(bind: admin.id) AND org_id = \(bind: admin.orgID)
                    """
                ).run()
            } catch  where Self.isUniqueViolation(error) {
                throw KeygateError.conflict("the login name \(admin.loginName) is already in use")
            }
            var ended = 0
            if endSessions {
                ended = try await Self.count(
                    sql, "SELECT COUNT(*) AS n FROM sessions WHERE admin_id = \(bind: admin.id) AND token_hash <> \(bind: keepSession ?? "")")
                try await sql.raw(
                    "DELETE FROM sessions WHERE admin_id = \(bind: admin.id) AND token_hash <> \(bind: keepSession ?? "")"
                ).run()
                // A password reset must reach the browser too: an attacker's portal session ends with the API ones.
                try await sql.raw(
                    "DELETE FROM portal_sessions WHERE admin_id = \(bind: admin.id) AND token_hash <> \(bind: keepSession ?? "")"
                ).run()
            }
            try await Self.insertAudit(sql, audit)
            return ended
        }
    }

    @discardableResult
    public func deleteAdmin(orgID: Int64, id: Int64, audit: AuditEvent, basis: AuthorizationBasis) async throws -> Int {
        try await db.transaction(announcing: .admin(id: id)) { sql in
            try await Self.check(sql, basis, orgID: orgID)
            // Scoped to the organization like the admin row: an id from elsewhere ends nothing.
            let ended = try await Self.count(
                sql, "SELECT COUNT(*) AS n FROM sessions WHERE admin_id = \(bind: id) AND org_id = \(bind: orgID)")
            try await sql.raw("DELETE FROM sessions WHERE admin_id = \(bind: id) AND org_id = \(bind: orgID)").run()
            try await sql.raw("DELETE FROM admins WHERE id = \(bind: id) AND org_id = \(bind: orgID)").run()
            try await Self.insertAudit(sql, audit)
            return ended
        }
    }
}

// MARK: Authorization basis

extension SQLKeygateStore {
    /// Checks, first in a change's transaction, that what the rules decided on still holds (``AuthorizationBasis``).
    /// Each row is read with a no-op `UPDATE … RETURNING`, which takes its row lock on PostgreSQL (SQLite's writer
    /// lock is already held, `BEGIN IMMEDIATE`), so no other change to it commits before this transaction ends.
    /// - Throws: ``KeygateError/editLockNotAvailable`` when a role's rank or permissions, or the admin's role, disabled
    ///   flag or password hash, changed.
    static func check(_ sql: any SQLDatabase, _ basis: AuthorizationBasis, orgID: Int64) async throws {
        var seen: Set<Int64> = []
        for role in basis.roles where seen.insert(role.id).inserted {
            let row = try await sql.raw(
                "UPDATE roles SET rank = rank WHERE id = \(bind: role.id) AND org_id = \(bind: orgID) RETURNING rank, permissions"
            ).first()
            guard let row, try row.decode(column: "rank", as: Int.self) == role.rank,
                decodePermissions(try row.decode(column: "permissions", as: String.self)) == role.featurePermissions
            else { throw KeygateError.editLockNotAvailable }
        }
        if let admin = basis.admin {
            let row = try await sql.raw(
                """
                UPDATE admins SET role_id = role_id WHERE id = \(bind: admin.id) AND org_id = \(bind: orgID)
                RETURNING role_id, disabled, password_hash
                """
            ).first()
            guard let row, try row.decode(column: "role_id", as: Int64.self) == admin.roleID,
                try row.decode(column: "disabled", as: Int.self) == (admin.disabled ? 1 : 0),
                try row.decode(column: "password_hash", as: String.self) == admin.passwordHash
            else { throw KeygateError.editLockNotAvailable }
        }
    }
}

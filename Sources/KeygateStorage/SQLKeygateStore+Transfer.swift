import Foundation
import KeygateCore
import SQLKit

// MARK: Bulk import and export of organizations

extension SQLKeygateStore {
    public func importOrganizations(
        _ rows: [NewOrganization], sealKey: @Sendable (Int64, APIKeyValue) throws -> String, operator operatorName: String, at: Date
    ) async throws -> [OrganizationImportOutcome] {
        guard !rows.isEmpty else { return [] }
        // New organizations: no cached session can depend on them.
        return try await db.transaction(announcing: .nothing) { sql in
            // Two reads for the whole batch say which names exist and which logins are taken; the inserts keep their
            // ON CONFLICT guards, so a concurrent writer that takes one in between makes the batch fail (and the
            // caller retry it), never a half-made organization.
            let existing = try await Self.existing(sql, "SELECT name AS v FROM organizations WHERE name IN ", rows.map(\.name))
            let taken = try await Self.existing(
                sql, "SELECT login_key AS v FROM admins WHERE login_key IN ", rows.map { $0.superAdmin.loginName.lowercased() })
            let actor = ChangeActor.provider(name: operatorName)
            var outcomes: [OrganizationImportOutcome] = []
            outcomes.reserveCapacity(rows.count)
            for row in rows {
                if existing.contains(row.name) {
                    outcomes.append(.existing)
                    continue
                }
                if taken.contains(row.superAdmin.loginName.lowercased()) {
                    outcomes.append(.failed("the login name \(row.superAdmin.loginName) is already in use"))
                    continue
                }
                let orgID = try await Self.insertReturningID(
                    sql,
                    """
                    INSERT INTO organizations (name, name_key, rotation_policy, created_at)
                    VALUES (\(bind: row.name), \(bind: row.name.lowercased()), 'end', \(bind: at.millis))
                    ON CONFLICT (name) DO NOTHING RETURNING id
                    """,
                    conflict: "an organization named \(row.name) was created meanwhile")
                let roleID = try await Self.insertRole(sql, Role.superAdmin(orgID: orgID))
                _ = try await Self.insertRole(sql, Role.readOnlyAdmin(orgID: orgID))
                let admin = Admin(
                    id: 0, orgID: orgID, loginName: row.superAdmin.loginName, userName: row.superAdmin.userName,
                    email: row.superAdmin.email, roleID: roleID, passwordHash: row.superAdmin.passwordHash, createdAt: at)
                _ = try await Self.insertAdmin(sql, admin)
                _ = try await Self.insertKey(sql, orgID: orgID, sealed: try sealKey(orgID, row.key), actor: actor, at: at)
                try await Self.insertAudit(
                    sql,
                    AuditEvent(
                        orgID: orgID, at: at, actor: actor, action: "org.provisioned",
                        detail: "organization \(row.name) with admin \(row.superAdmin.loginName) and its API key, imported"))
                outcomes.append(.created(orgID: orgID))
            }
            return outcomes
        }
    }

    /// The values of `column AS v` among `values` (`query` ends with `IN `).
    static func existing(_ sql: any SQLDatabase, _ query: String, _ values: [String]) async throws -> Set<String> {
        var found: Set<String> = []
        // At most 500 binds per statement (SQLite's default limit is 32,766; PostgreSQL's 65,535).
        for chunk in stride(from: 0, to: values.count, by: 500) {
            let slice = values[chunk..<min(values.count, chunk + 500)]
            var statement = SQLQueryString(query) + "("
            for (i, value) in slice.enumerated() { statement = statement + (i == 0 ? "" : ", ") + "\(bind: value)" }
            statement = statement + ")"
            for row in try await sql.raw(statement).all() { found.insert(try row.decode(column: "v", as: String.self)) }
        }
        return found
    }

    public func organizationsForExport(afterID: Int64, limit: Int) async throws -> [OrganizationExportRow] {
        try await db.read { sql in
            let orgs = try await sql.raw(
                "SELECT * FROM organizations WHERE id > \(bind: afterID) ORDER BY id LIMIT \(bind: max(0, limit))"
            ).all().map(Self.organization)
            guard let first = orgs.first, let last = orgs.last else { return [] }
            var admins: [Int64: Admin] = [:]
            for row in try await sql.raw(
                """
                SELECT a.* FROM admins a JOIN roles r ON r.id = a.role_id
                WHERE a.org_id >= \(bind: first.id) AND a.org_id <= \(bind: last.id) AND r.is_non_editable = 1 ORDER BY a.id
                """
            ).all() {
                let admin = try Self.admin(row, prefix: "")
                if admins[admin.orgID] == nil { admins[admin.orgID] = admin }
            }
            var keys: [Int64: SealedAPIKey] = [:]
            for row in try await sql.raw(
                "SELECT * FROM api_keys WHERE org_id >= \(bind: first.id) AND org_id <= \(bind: last.id)"
            ).all() {
                let key = try Self.sealedKey(row)
                keys[key.orgID] = key
            }
            return orgs.map { OrganizationExportRow(organization: $0, superAdmin: admins[$0.id], key: keys[$0.id]) }
        }
    }
}

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
            var outcomes: [OrganizationImportOutcome?] = rows.map { row in
                if existing.contains(row.name) { return .existing }
                if taken.contains(row.superAdmin.loginName.lowercased()) {
                    return .failed("the login name \(row.superAdmin.loginName) is already in use")
                }
                return nil
            }
            let fresh = rows.indices.filter { outcomes[$0] == nil }
            // A few multi-row statements per batch (organizations, roles, admins, keys, audit events) rather than six
            // statements per organization: on PostgreSQL each statement is a round trip.
            for chunk in stride(from: 0, to: fresh.count, by: Self.importChunk) {
                let indices = Array(fresh[chunk..<min(fresh.count, chunk + Self.importChunk)])
                let ids = try await Self.insertOrganizations(sql, indices.map { rows[$0] }, at: at)
                for (index, id) in zip(indices, ids) { outcomes[index] = .created(orgID: id) }
                let superRoles = try await Self.insertStandardRoles(sql, orgIDs: ids)
                try await Self.insertRows(
                    sql, table: "admins",
                    columns: ["org_id", "login_name", "login_key", "user_name", "email", "role_id", "password_hash", "disabled", "created_at"],
                    rows: zip(indices, ids).map { index, id in
                        let admin = rows[index].superAdmin
                        return [
                            id, admin.loginName, admin.loginName.lowercased(), admin.userName, admin.email, superRoles[id] ?? 0,
                            admin.passwordHash, 0, at.millis,
                        ]
                    },
                    conflict: "(login_key)", expecting: ids.count)
                try await Self.insertRows(
                    sql, table: "api_keys",
                    columns: [
                        "org_id", "sealed_value", "version", "enabled", "modified_by_kind", "modified_by_id", "modified_by_name", "modified_at",
                    ],
                    rows: try zip(indices, ids).map { index, id in
                        [id, try sealKey(id, rows[index].key), Int64(1), 1, actor.kind, actor.adminID, actor.name, at.millis]
                    },
                    conflict: "(org_id)", expecting: ids.count)
                try await Self.insertRows(
                    sql, table: "audit_events", columns: ["org_id", "at", "actor_kind", "actor_id", "actor_name", "action", "detail"],
                    rows: zip(indices, ids).map { index, id in
                        let event = rows[index].provisionedEvent(orgID: id, at: at, actor: actor)
                        return [id, at.millis, actor.kind, actor.adminID, actor.name, event.action.rawValue, event.detail]
                    },
                    conflict: nil, expecting: ids.count)
            }
            return outcomes.map { $0 ?? .failed("not imported") }
        }
    }

    /// Organizations per multi-row statement (admins take 9 binds each: 1,800, well inside both databases' limits).
    static let importChunk = 200

    /// Inserts organizations and returns their ids in the rows' order (matched by name: `RETURNING` order is not
    /// promised). A name taken meanwhile by another writer makes the whole batch fail with a conflict.
    static func insertOrganizations(_ sql: any SQLDatabase, _ rows: [NewOrganization], at: Date) async throws -> [Int64] {
        let returned = try await insertRows(
            sql, table: "organizations", columns: ["name", "name_key", "rotation_policy", "created_at"],
            rows: rows.map { [$0.name, $0.name.lowercased(), "end", at.millis] }, conflict: "(name)", expecting: rows.count,
            returning: "id, name")
        var ids: [String: Int64] = [:]
        for row in returned { ids[try row.decode(column: "name", as: String.self)] = try row.decode(column: "id", as: Int64.self) }
        return try rows.map { row in
            guard let id = ids[row.name] else { throw KeygateError.conflict("an organization named \(row.name) was created meanwhile") }
            return id
        }
    }

    /// Inserts each organization's Super Admin and Read Only Admin roles; returns the Super Admin role id by organization.
    static func insertStandardRoles(_ sql: any SQLDatabase, orgIDs: [Int64]) async throws -> [Int64: Int64] {
        let roles = orgIDs.flatMap { [Role.superAdmin(orgID: $0), Role.readOnlyAdmin(orgID: $0)] }
        let returned = try await insertRows(
            sql, table: "roles", columns: ["org_id", "name", "rank", "role_type", "permissions", "is_non_editable", "is_auditor"],
            rows: roles.map { role in
                [
                    role.orgID, role.name, role.rank, role.roleType, encodePermissions(role.featurePermissions), role.isNonEditable ? 1 : 0,
                    role.isAuditor ? 1 : 0,
                ]
            },
            conflict: "(org_id, name)", expecting: roles.count, returning: "id, org_id, name")
        var superRoles: [Int64: Int64] = [:]
        for row in returned where try row.decode(column: "name", as: String.self) == Role.superAdmin(orgID: 0).name {
            superRoles[try row.decode(column: "org_id", as: Int64.self)] = try row.decode(column: "id", as: Int64.self)
        }
        return superRoles
    }

    /// One `INSERT … VALUES (…), (…) [ON CONFLICT conflict DO NOTHING] RETURNING …` for `rows`; fewer rows back than
    /// `expecting` (a conflict) fails with ``KeygateError/conflict(_:)``, which rolls the batch back.
    @discardableResult
    static func insertRows(
        _ sql: any SQLDatabase, table: String, columns: [String], rows: [[(any Encodable & Sendable)?]], conflict: String?,
        expecting: Int, returning: String = "1 AS one"
    ) async throws -> [any SQLRow] {
        guard !rows.isEmpty else { return [] }
        // Table, column and clause names are this file's constants, never input.
        var statement: SQLQueryString = "INSERT INTO \(unsafeRaw: table) (\(unsafeRaw: columns.joined(separator: ", "))) VALUES "
        for (r, row) in rows.enumerated() {
            statement = statement + (r == 0 ? "(" : ", (")
            for (c, value) in row.enumerated() {
                if c > 0 { statement = statement + ", " }
                if let value { statement = statement + "\(bind: value)" } else { statement = statement + "NULL" }
            }
            statement = statement + ")"
        }
        if let conflict { statement = statement + " ON CONFLICT \(unsafeRaw: conflict) DO NOTHING" }
        statement = statement + " RETURNING \(unsafeRaw: returning)"
        let returned = try await sql.raw(statement).all()
        guard returned.count == expecting else { throw KeygateError.conflict("another writer created some of these rows meanwhile") }
        return returned
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

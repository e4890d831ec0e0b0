import Foundation
import KeygateCore
import SQLKit

/// The one SQL implementation of ``KeygateStore``, written against SQLKit so that SQLite and PostgreSQL run the
/// same statements. Values are bound, never spliced; timestamps are epoch milliseconds.
///
/// One file per concept (`SQLKeygateStore+Keys.swift`, `+Sessions`, `+Admins`, `+Portal`, `+Operators`, `+Audit`), each
/// conforming to that concept's protocol.
public struct SQLKeygateStore: Sendable {
    let db: any DatabaseHandle

    /// Creates the store over an opened (and migrated) database.
    public init(db: any DatabaseHandle) { self.db = db }
}

// MARK: Organizations

extension SQLKeygateStore: OrganizationStore {
    public func createOrganization(
        name: String, superAdmin: NewAdmin, sealKey: (@Sendable (Int64) throws -> String)?, at: Date
    ) async throws -> ProvisionedOrganization {
        try await db.transaction(announcing: .nothing) { sql in
            // ON CONFLICT DO NOTHING + RETURNING: a taken name (even taken by a concurrent instance) yields no row.
            let orgID = try await Self.insertReturningID(
                sql,
                """
                INSERT INTO organizations (name, name_key, rotation_policy, created_at)
                VALUES (\(bind: name), \(bind: name.lowercased()), 'end', \(bind: at.millis))
                ON CONFLICT (name) DO NOTHING RETURNING id
                """,
                conflict: "an organization named \(name) already exists")
            var role = Role.superAdmin(orgID: orgID)
            role.id = try await Self.insertRole(sql, role)
            _ = try await Self.insertRole(sql, Role.readOnlyAdmin(orgID: orgID))
            var admin = Admin(
                id: 0, orgID: orgID, loginName: superAdmin.loginName, userName: superAdmin.userName, email: superAdmin.email,
                roleID: role.id, passwordHash: superAdmin.passwordHash, createdAt: at)
            admin.id = try await Self.insertAdmin(sql, admin)
            var key: SealedAPIKey?
            if let sealKey {
                let actor = ChangeActor.provider(name: "provider")
                let sealed = try sealKey(orgID)
                let id = try await Self.insertKey(sql, orgID: orgID, sealed: sealed, actor: actor, at: at)
                key = SealedAPIKey(
                    id: id, orgID: orgID, value: sealed, version: 1, enabled: true, lastModifiedBy: actor,
                    lastModifiedAt: at, lastUsedAt: nil)
            }
            return ProvisionedOrganization(
                organization: Organization(id: orgID, name: name, createdAt: at), role: role, admin: admin, key: key)
        }
    }

    public func organization(id: Int64) async throws -> Organization? {
        try await db.read { sql in
            try await sql.raw("SELECT * FROM organizations WHERE id = \(bind: id)").first().map(Self.organization)
        }
    }

    public func organization(named name: String) async throws -> Organization? {
        try await db.read { sql in
            try await sql.raw("SELECT * FROM organizations WHERE name = \(bind: name)").first().map(Self.organization)
        }
    }

    public func organizationSummaries(namePrefix: String, offset: Int, limit: Int) async throws -> [OrganizationSummary] {
        try await db.read { sql in
            let rows = try await sql.raw(
                Self.summarySelect + " WHERE " + Self.namePrefixCondition(namePrefix)
                    + " ORDER BY o.name_key, o.id LIMIT \(bind: max(0, limit)) OFFSET \(bind: max(0, offset))"
            ).all()
            return try rows.map(Self.summary)
        }
    }

    public func countOrganizations(namePrefix: String, cap: Int) async throws -> Int {
        try await db.read { sql in
            try await Self.count(
                sql,
                "SELECT COUNT(*) AS n FROM (SELECT 1 FROM organizations o WHERE " + Self.namePrefixCondition(namePrefix)
                    + " LIMIT \(bind: max(0, cap))) matching")
        }
    }

    public func organizationSummaries(afterID: Int64, limit: Int) async throws -> [OrganizationSummary] {
        try await db.read { sql in
            let rows = try await sql.raw(
                Self.summarySelect + " WHERE o.id > \(bind: afterID) ORDER BY o.id LIMIT \(bind: max(0, limit))"
            ).all()
            return try rows.map(Self.summary)
        }
    }

    static let summarySelect: SQLQueryString = """
        SELECT o.*, (SELECT COUNT(*) FROM admins a WHERE a.org_id = o.id) AS admin_count,
          k.enabled AS k_enabled, k.last_used_at AS k_last_used_at
        FROM organizations o LEFT JOIN api_keys k ON k.org_id = o.id
        """

    static func summary(_ row: any SQLRow) throws -> OrganizationSummary {
        OrganizationSummary(
            organization: try organization(row), adminCount: try row.decode(column: "admin_count", as: Int.self),
            keyEnabled: try row.decode(column: "k_enabled", as: Int?.self).map { $0 != 0 },
            keyLastUsedAt: try row.decode(column: "k_last_used_at", as: Int64?.self).map(Date.init(millis:)))
    }

    /// Names starting with `prefix`, case-folded: an index range on `name_key` (`>= prefix AND < prefix with its
    /// last character incremented`), then `LIKE 'prefix%'` to drop what a linguistic collation (PostgreSQL's
    /// database default) puts in that range without the prefix. Both are portable SQL; the range is what the
    /// `organizations_by_name_key` index serves.
    static func namePrefixCondition(_ prefix: String) -> SQLQueryString {
        let key = prefix.lowercased()
        guard !key.isEmpty else { return "1 = 1" }
        let pattern =
            key.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
        var condition: SQLQueryString = "o.name_key >= \(bind: key) AND o.name_key LIKE \(bind: pattern) ESCAPE '\\'"
        var scalars = Array(key.unicodeScalars)
        // The upper bound: the last character + 1 (past the surrogate gap); none after the last code point.
        if let last = scalars.popLast(), let next = Unicode.Scalar(last.value + 1) ?? Unicode.Scalar(UInt32(0xE000)),
            next.value > last.value
        {
            scalars.append(next)
            var upper = ""
            upper.unicodeScalars.append(contentsOf: scalars)
            condition = condition + " AND o.name_key < \(bind: upper)"
        }
        return condition
    }

    public func setRotationPolicy(orgID: Int64, policy: RotationPolicy, audit: AuditEvent) async throws {
        try await db.transaction(announcing: .organization(id: orgID)) { sql in
            try await sql.raw("UPDATE organizations SET rotation_policy = \(bind: policy.storedValue) WHERE id = \(bind: orgID)").run()
            try await Self.insertAudit(sql, audit)
        }
    }
}

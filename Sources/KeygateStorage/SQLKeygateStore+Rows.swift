import Foundation
import KeygateCore
import PostgresNIO
import SQLKit
import SQLiteNIO

/// Row mapping and the statements several operations share.
extension SQLKeygateStore {
    static let adminColumns = """
        a.id AS a_id, a.org_id AS a_org_id, a.login_name AS a_login_name, a.user_name AS a_user_name, a.email AS a_email,
        a.role_id AS a_role_id, a.password_hash AS a_password_hash, a.disabled AS a_disabled, a.created_at AS a_created_at
        """
    static let roleColumns = """
        r.id AS r_id, r.org_id AS r_org_id, r.name AS r_name, r.rank AS r_rank, r.role_type AS r_role_type,
        r.permissions AS r_permissions, r.is_non_editable AS r_is_non_editable, r.is_auditor AS r_is_auditor
        """
    static let keyColumns = """
        k.id AS k_id, k.org_id AS k_org_id, k.sealed_value AS k_sealed_value, k.version AS k_version,
        k.enabled AS k_enabled, k.modified_by_kind AS k_modified_by_kind, k.modified_by_id AS k_modified_by_id,
        k.modified_by_name AS k_modified_by_name, k.modified_at AS k_modified_at, k.last_used_at AS k_last_used_at
        """

    static func organization(_ row: any SQLRow) throws -> Organization {
        Organization(
            id: try row.decode(column: "id", as: Int64.self), name: try row.decode(column: "name", as: String.self),
            rotationPolicy: RotationPolicy(storedValue: try row.decode(column: "rotation_policy", as: String.self)) ?? .endOldSessions,
            createdAt: Date(millis: try row.decode(column: "created_at", as: Int64.self)))
    }

    static func sealedKey(_ row: any SQLRow) throws -> SealedAPIKey { try sealedKey(row, prefix: "") }

    static func sealedKey(_ row: any SQLRow, prefix p: String) throws -> SealedAPIKey {
        let kind = try row.decode(column: p + "modified_by_kind", as: String.self)
        let name = try row.decode(column: p + "modified_by_name", as: String.self)
        let actorID = try row.decode(column: p + "modified_by_id", as: Int64?.self)
        return SealedAPIKey(
            id: try row.decode(column: p + "id", as: Int64.self), orgID: try row.decode(column: p + "org_id", as: Int64.self),
            value: try row.decode(column: p + "sealed_value", as: String.self),
            version: try row.decode(column: p + "version", as: Int64.self),
            enabled: try row.decode(column: p + "enabled", as: Int.self) != 0,
            lastModifiedBy: kind == "admin" ? .admin(id: actorID ?? 0, name: name) : .provider(name: name),
            lastModifiedAt: Date(millis: try row.decode(column: p + "modified_at", as: Int64.self)),
            lastUsedAt: try row.decode(column: p + "last_used_at", as: Int64?.self).map(Date.init(millis:)))
    }

    static func admin(_ row: any SQLRow, prefix p: String) throws -> Admin {
        Admin(
            id: try row.decode(column: p + "id", as: Int64.self), orgID: try row.decode(column: p + "org_id", as: Int64.self),
            loginName: try row.decode(column: p + "login_name", as: String.self),
            userName: try row.decode(column: p + "user_name", as: String.self),
            email: try row.decode(column: p + "email", as: String.self),
            roleID: try row.decode(column: p + "role_id", as: Int64.self),
            passwordHash: try row.decode(column: p + "password_hash", as: String.self),
            disabled: try row.decode(column: p + "disabled", as: Int.self) != 0,
            createdAt: Date(millis: try row.decode(column: p + "created_at", as: Int64.self)))
    }

    static func role(_ row: any SQLRow, prefix p: String) throws -> Role {
        Role(
            id: try row.decode(column: p + "id", as: Int64.self), orgID: try row.decode(column: p + "org_id", as: Int64.self),
            name: try row.decode(column: p + "name", as: String.self), rank: try row.decode(column: p + "rank", as: Int.self),
            roleType: try row.decode(column: p + "role_type", as: String.self),
            featurePermissions: decodePermissions(try row.decode(column: p + "permissions", as: String.self)),
            isNonEditable: try row.decode(column: p + "is_non_editable", as: Int.self) != 0,
            isAuditor: try row.decode(column: p + "is_auditor", as: Int.self) != 0)
    }

    static func encodePermissions(_ permissions: [String: FeatureAccess]) -> String {
        let plain = permissions.mapValues(\.rawValue)
        let data = (try? JSONEncoder.sorted.encode(plain)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func decodePermissions(_ text: String) -> [String: FeatureAccess] {
        let plain = (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
        return plain.compactMapValues(FeatureAccess.init(rawValue:))
    }

    /// Runs an `INSERT … RETURNING id`; an insert that `ON CONFLICT DO NOTHING` skipped is a conflict.
    static func insertReturningID(
        _ sql: any SQLDatabase, _ query: SQLQueryString, conflict: String = "the item already exists"
    ) async throws -> Int64 {
        guard let row = try await sql.raw(query).first() else { throw KeygateError.conflict(conflict) }
        return try row.decode(column: "id", as: Int64.self)
    }

    /// Runs a version-guarded `UPDATE/DELETE … RETURNING id`. No row back means another writer changed the
    /// record since it was read (under PostgreSQL's READ COMMITTED the loser's statement matches nothing).
    static func conditionalWrite(_ sql: any SQLDatabase, _ query: SQLQueryString) async throws {
        guard try await sql.raw(query).first() != nil else { throw KeygateError.editLockNotAvailable }
    }

    static func insertRole(_ sql: any SQLDatabase, _ role: Role) async throws -> Int64 {
        try await insertReturningID(
            sql,
            """
            INSERT INTO roles (org_id, name, rank, role_type, permissions, is_non_editable, is_auditor)
            VALUES (\(bind: role.orgID), \(bind: role.name), \(bind: role.rank), \(bind: role.roleType),
              \(bind: encodePermissions(role.featurePermissions)), \(bind: role.isNonEditable ? 1 : 0), \(bind: role.isAuditor ? 1 : 0))
            ON CONFLICT (org_id, name) DO NOTHING RETURNING id
            """,
            conflict: "a role named \(role.name) already exists")
    }

    static func insertAdmin(_ sql: any SQLDatabase, _ admin: Admin) async throws -> Int64 {
        try await insertReturningID(
            sql,
            """
            INSERT INTO admins (org_id, login_name, login_key, user_name, email, role_id, password_hash, disabled, created_at)
            VALUES (\(bind: admin.orgID), \(bind: admin.loginName), \(bind: admin.loginName.lowercased()), \(bind: admin.userName),
              \(bind: admin.email), \(bind: admin.roleID), \(bind: admin.passwordHash), \(bind: admin.disabled ? 1 : 0),
              \(bind: admin.createdAt.millis))
            ON CONFLICT (login_key) DO NOTHING RETURNING id
            """,
            conflict: "the login name \(admin.loginName) is already in use")
    }

    static func insertKey(_ sql: any SQLDatabase, orgID: Int64, sealed: String, actor: ChangeActor, at: Date) async throws -> Int64 {
        try await insertReturningID(
            sql,
            """
            INSERT INTO api_keys (org_id, sealed_value, version, enabled, modified_by_kind, modified_by_id, modified_by_name, modified_at)
            VALUES (\(bind: orgID), \(bind: sealed), 1, 1, \(bind: actor.kind), \(bind: actor.adminID), \(bind: actor.name), \(bind: at.millis))
            ON CONFLICT (org_id) DO NOTHING RETURNING id
            """,
            conflict: "the organization already has an API key")
    }

    /// Writes an audit event and what it stands for (``AuditEvent/record``), in the caller's transaction.
    static func insertAudit(_ sql: any SQLDatabase, _ event: AuditEvent) async throws {
        try await write(sql, event.record)
    }

    /// Writes a change's record as it is given: its audit row and its webhook events (the outbox: see ``WebhookStore``).
    static func write(_ sql: any SQLDatabase, _ record: ChangeRecord) async throws {
        for event in record.outbox { try await enqueue(sql, event) }
        let event = record.audit
        try await sql.raw(
            """
            INSERT INTO audit_events (org_id, at, actor_kind, actor_id, actor_name, action, detail)
            VALUES (\(bind: event.orgID), \(bind: event.at.millis), \(bind: event.actor.kind), \(bind: event.actor.adminID),
              \(bind: event.actor.name), \(bind: event.action.rawValue), \(bind: event.detail))
            """
        ).run()
    }

    /// Rows housekeeping deletes per transaction.
    static let housekeepingBatch = 250

    /// Deletes the rows of `table` that match `condition`, ``housekeepingBatch`` at a time, each batch in its own
    /// short transaction (announcing nothing), so that housekeeping never holds SQLite's one write lock, or
    /// PostgreSQL row locks, for long however much has expired. `condition` should be served by an index.
    /// - Returns: how many rows it deleted.
    static func deleteInBatches(_ db: any DatabaseHandle, table: String, key: String, where condition: SQLQueryString) async throws -> Int {
        var deleted = 0
        while true {
            let query: SQLQueryString =
                "DELETE FROM \(unsafeRaw: table) WHERE \(unsafeRaw: key) IN (SELECT \(unsafeRaw: key) FROM \(unsafeRaw: table) WHERE "
                + condition + " LIMIT \(unsafeRaw: String(housekeepingBatch))) RETURNING \(unsafeRaw: key)"
            let n = try await db.transaction(announcing: .nothing) { sql in try await sql.raw(query).all().count }
            deleted += n
            if n < housekeepingBatch { return deleted }
        }
    }

    static func count(_ sql: any SQLDatabase, _ query: SQLQueryString) async throws -> Int {
        try await sql.raw(query).first()?.decode(column: "n", as: Int.self) ?? 0
    }

    /// The optimistic-concurrency check: the key must still be at the version the caller read.
    static func expect(_ current: SealedAPIKey?, version: Int64) throws -> SealedAPIKey {
        guard let current else { throw KeygateError.notFound("the organization has no API key") }
        guard current.version == version else { throw KeygateError.editLockNotAvailable }
        return current
    }

    /// Updates need this check; inserts rely on `ON CONFLICT DO NOTHING` instead.
    static func checkRoleName(_ sql: any SQLDatabase, _ role: Role) async throws {
        let clash = try await count(
            sql, "SELECT COUNT(*) AS n FROM roles WHERE org_id = \(bind: role.orgID) AND name = \(bind: role.name) AND id <> \(bind: role.id)")
        if clash > 0 { throw KeygateError.conflict("a role named \(role.name) already exists") }
    }

    /// Whether a statement failed on a unique index. A rename checks that the name is free first, but on PostgreSQL
    /// (READ COMMITTED) a concurrent transaction can take the name between that check and the write; the index then
    /// refuses the write, and this turns that into the same 409 the check gives. (SQLite serializes writers.)
    static func isUniqueViolation(_ error: any Error) -> Bool {
        if let error = error as? PSQLError { return error.serverInfo?[.sqlState] == "23505" }
        if let error = error as? SQLiteError { return error.reason == .constraintUniqueFailed || error.reason == .constraint }
        return false
    }

    static func checkLoginName(_ sql: any SQLDatabase, _ admin: Admin) async throws {
        let clash = try await count(
            sql,
            "SELECT COUNT(*) AS n FROM admins WHERE login_key = \(bind: admin.loginName.lowercased()) AND id <> \(bind: admin.id)"
        )
        // Login names are unique across organizations (migration 6).
        if clash > 0 { throw KeygateError.conflict("the login name \(admin.loginName) is already in use") }
    }
}

extension Date {
    /// Epoch milliseconds, as stored.
    var millis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    /// A date from stored epoch milliseconds.
    init(millis: Int64) { self.init(timeIntervalSince1970: TimeInterval(millis) / 1000) }
}

extension JSONEncoder {
    /// Deterministic output (sorted keys).
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}

import Foundation
import KeygateCore
import SQLKit

/// The one SQL implementation of ``KeygateStore``, written against SQLKit so that SQLite and PostgreSQL run the
/// same statements. Values are bound, never spliced; timestamps are epoch milliseconds.
public struct SQLKeygateStore: KeygateStore {
    let db: any DatabaseHandle

    /// Creates the store over an opened (and migrated) database.
    public init(db: any DatabaseHandle) { self.db = db }

    // MARK: Organizations

    public func createOrganization(
        name: String, superAdmin: NewAdmin, sealKey: (@Sendable (Int64) throws -> String)?, at: Date
    ) async throws -> ProvisionedOrganization {
        try await db.transaction { sql in
            // ON CONFLICT DO NOTHING + RETURNING: a taken name (even taken by a concurrent instance) yields no row.
            let orgID = try await Self.insertReturningID(
                sql,
                """
                INSERT INTO organizations (name, rotation_policy, created_at) VALUES (\(bind: name), 'end', \(bind: at.millis))
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

    public func organizationSummaries() async throws -> [OrganizationSummary] {
        try await db.read { sql in
            let rows = try await sql.raw(
                """
                SELECT o.*, (SELECT COUNT(*) FROM admins a WHERE a.org_id = o.id) AS admin_count,
                  k.enabled AS k_enabled, k.last_used_at AS k_last_used_at
                FROM organizations o LEFT JOIN api_keys k ON k.org_id = o.id ORDER BY o.name
                """
            ).all()
            return try rows.map { row in
                OrganizationSummary(
                    organization: try Self.organization(row), adminCount: try row.decode(column: "admin_count", as: Int.self),
                    keyEnabled: try row.decode(column: "k_enabled", as: Int?.self).map { $0 != 0 },
                    keyLastUsedAt: try row.decode(column: "k_last_used_at", as: Int64?.self).map(Date.init(millis:)))
            }
        }
    }

    public func setRotationPolicy(orgID: Int64, policy: RotationPolicy, audit: AuditEvent) async throws {
        try await db.transaction { sql in
            try await sql.raw("UPDATE organizations SET rotation_policy = \(bind: policy.storedValue) WHERE id = \(bind: orgID)").run()
            try await Self.insertAudit(sql, audit)
        }
    }

    // MARK: The key

    public func sealedKey(orgID: Int64) async throws -> SealedAPIKey? {
        try await db.read { sql in
            try await sql.raw("SELECT * FROM api_keys WHERE org_id = \(bind: orgID)").first().map(Self.sealedKey)
        }
    }

    public func applyKeyChange(_ change: KeyChange) async throws -> KeyChangeResult {
        try await db.transaction { sql in
            let current = try await sql.raw("SELECT * FROM api_keys WHERE org_id = \(bind: change.orgID)").first().map(Self.sealedKey)
            let actor = change.actor
            var ended = 0
            var result: SealedAPIKey?
            switch change.operation {
            case .add(let sealed):
                let id = try await Self.insertKey(sql, orgID: change.orgID, sealed: sealed, actor: actor, at: change.at)
                result = SealedAPIKey(
                    id: id, orgID: change.orgID, value: sealed, version: 1, enabled: true, lastModifiedBy: actor,
                    lastModifiedAt: change.at, lastUsedAt: nil)
            case .replace(let sealed, let expected):
                let key = try Self.expect(current, version: expected)
                try await Self.conditionalWrite(
                    sql,
                    """
                    UPDATE api_keys SET sealed_value = \(bind: sealed), version = \(bind: expected + 1),
                      modified_by_kind = \(bind: actor.kind), modified_by_id = \(bind: actor.adminID),
                      modified_by_name = \(bind: actor.name), modified_at = \(bind: change.at.millis)
                    WHERE id = \(bind: key.id) AND version = \(bind: expected) RETURNING id
                    """)
                result = SealedAPIKey(
                    id: key.id, orgID: key.orgID, value: sealed, version: expected + 1, enabled: key.enabled,
                    lastModifiedBy: actor, lastModifiedAt: change.at, lastUsedAt: key.lastUsedAt)
            case .delete(let expected):
                let key = try Self.expect(current, version: expected)
                try await Self.conditionalWrite(
                    sql, "DELETE FROM api_keys WHERE id = \(bind: key.id) AND version = \(bind: expected) RETURNING id")
            case .setEnabled(let enabled, let expected):
                let key = try Self.expect(current, version: expected)
                try await Self.conditionalWrite(
                    sql,
                    """
                    UPDATE api_keys SET enabled = \(bind: enabled ? 1 : 0), version = \(bind: expected + 1),
                      modified_by_kind = \(bind: actor.kind), modified_by_id = \(bind: actor.adminID),
                      modified_by_name = \(bind: actor.name), modified_at = \(bind: change.at.millis)
                    WHERE id = \(bind: key.id) AND version = \(bind: expected) RETURNING id
                    """)
                var updated = key
                updated.enabled = enabled
                updated.version = expected + 1
                updated.lastModifiedBy = actor
                updated.lastModifiedAt = change.at
                result = updated
            }
            switch change.sessionEffect {
            case .none:
                // A version bump without a session effect (enable) moves sessions along; there are none for a
                // disabled key, since disabling ended them.
                if let result {
                    try await sql.raw("UPDATE sessions SET key_version = \(bind: result.version) WHERE org_id = \(bind: change.orgID)").run()
                }
            case .endAll:
                ended = try await Self.count(sql, "SELECT COUNT(*) AS n FROM sessions WHERE org_id = \(bind: change.orgID)")
                try await sql.raw("DELETE FROM sessions WHERE org_id = \(bind: change.orgID)").run()
            case .rotate(let policy, let caller):
                guard let result else { break }
                let org = change.orgID
                let caller = caller ?? ""
                switch policy {
                case .endOldSessions:
                    ended = try await Self.count(
                        sql, "SELECT COUNT(*) AS n FROM sessions WHERE org_id = \(bind: org) AND token_hash <> \(bind: caller)")
                    try await sql.raw("DELETE FROM sessions WHERE org_id = \(bind: org) AND token_hash <> \(bind: caller)").run()
                case .keepOldSessions:
                    try await sql.raw("UPDATE sessions SET key_version = \(bind: result.version) WHERE org_id = \(bind: org)").run()
                case .grace(let seconds):
                    let until = change.at.addingTimeInterval(TimeInterval(seconds)).millis
                    try await sql.raw(
                        """
                        UPDATE sessions SET grace_until = \(bind: until) WHERE org_id = \(bind: org)
                          AND token_hash <> \(bind: caller) AND (grace_until IS NULL OR grace_until > \(bind: until))
                        """
                    ).run()
                }
                try await sql.raw(
                    "UPDATE sessions SET key_version = \(bind: result.version), grace_until = NULL WHERE token_hash = \(bind: caller)"
                ).run()
            }
            let detail = ended > 0 ? "\(change.auditDetail); \(ended) session(s) ended" : change.auditDetail
            try await Self.insertAudit(
                sql, AuditEvent(orgID: change.orgID, at: change.at, actor: actor, action: change.auditAction, detail: detail))
            return KeyChangeResult(key: result, endedSessions: ended)
        }
    }

    // MARK: Sessions

    public func loginCandidates(loginName: String) async throws -> [LoginCandidate] {
        try await db.read { sql in
            let rows = try await sql.raw(
                """
                SELECT \(unsafeRaw: Self.adminColumns), \(unsafeRaw: Self.roleColumns), \(unsafeRaw: Self.keyColumns)
                FROM admins a JOIN roles r ON r.id = a.role_id LEFT JOIN api_keys k ON k.org_id = a.org_id
                WHERE a.login_key = \(bind: loginName.lowercased())
                """
            ).all()
            return try rows.map { row in
                LoginCandidate(
                    admin: try Self.admin(row, prefix: "a_"), role: try Self.role(row, prefix: "r_"),
                    key: try row.decode(column: "k_id", as: Int64?.self) == nil ? nil : try Self.sealedKey(row, prefix: "k_"))
            }
        }
    }

    public func createSession(_ session: APISession, replayDigest: String, replayExpiresAt: Date, audit: AuditEvent)
        async throws -> Bool
    {
        try await db.transaction { sql in
            // Race-free across instances: of two identical logins only one inserts the digest.
            let fresh = try await sql.raw(
                """
                INSERT INTO login_replays (digest, expires_at) VALUES (\(bind: replayDigest), \(bind: replayExpiresAt.millis))
                ON CONFLICT (digest) DO NOTHING RETURNING digest
                """
            ).first()
            guard fresh != nil else { return false }
            try await sql.raw(
                """
                INSERT INTO sessions (token_hash, org_id, admin_id, key_id, key_version, kind, created_at, last_seen_at, grace_until)
                VALUES (\(bind: session.tokenHash), \(bind: session.orgID), \(bind: session.adminID), \(bind: session.keyID),
                  \(bind: session.keyVersion), \(bind: session.kind.rawValue), \(bind: session.createdAt.millis),
                  \(bind: session.lastSeenAt.millis), NULL)
                """
            ).run()
            try await sql.raw("UPDATE api_keys SET last_used_at = \(bind: session.createdAt.millis) WHERE id = \(bind: session.keyID)").run()
            try await Self.insertAudit(sql, audit)
            return true
        }
    }

    public func sessionSnapshot(tokenHash: String) async throws -> SessionSnapshot? {
        try await db.read { sql in
            guard
                let row = try await sql.raw(
                    """
                    SELECT s.*, \(unsafeRaw: Self.adminColumns), \(unsafeRaw: Self.roleColumns), \(unsafeRaw: Self.keyColumns)
                    FROM sessions s JOIN admins a ON a.id = s.admin_id JOIN roles r ON r.id = a.role_id
                      LEFT JOIN api_keys k ON k.org_id = s.org_id
                    WHERE s.token_hash = \(bind: tokenHash)
                    """
                ).first()
            else { return nil }
            let session = APISession(
                tokenHash: try row.decode(column: "token_hash", as: String.self),
                orgID: try row.decode(column: "org_id", as: Int64.self),
                adminID: try row.decode(column: "admin_id", as: Int64.self),
                keyID: try row.decode(column: "key_id", as: Int64.self),
                keyVersion: try row.decode(column: "key_version", as: Int64.self),
                kind: SessionKind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .ztw,
                createdAt: Date(millis: try row.decode(column: "created_at", as: Int64.self)),
                lastSeenAt: Date(millis: try row.decode(column: "last_seen_at", as: Int64.self)),
                graceUntil: try row.decode(column: "grace_until", as: Int64?.self).map(Date.init(millis:)))
            return SessionSnapshot(
                session: session, admin: try Self.admin(row, prefix: "a_"), role: try Self.role(row, prefix: "r_"),
                key: try row.decode(column: "k_id", as: Int64?.self) == nil ? nil : try Self.sealedKey(row, prefix: "k_"))
        }
    }

    public func touchSession(tokenHash: String, at: Date) async throws {
        try await db.transaction(announcing: false) { sql in
            try await sql.raw("UPDATE sessions SET last_seen_at = \(bind: at.millis) WHERE token_hash = \(bind: tokenHash)").run()
        }
    }

    public func deleteSession(tokenHash: String, audit: AuditEvent?) async throws -> Bool {
        try await db.transaction { sql in
            let n = try await Self.count(sql, "SELECT COUNT(*) AS n FROM sessions WHERE token_hash = \(bind: tokenHash)")
            try await sql.raw("DELETE FROM sessions WHERE token_hash = \(bind: tokenHash)").run()
            if n > 0, let audit { try await Self.insertAudit(sql, audit) }
            return n > 0
        }
    }

    public func deleteExpired(now: Date, ztwIdle: TimeInterval, ziaIdle: TimeInterval) async throws -> Int {
        try await db.transaction { sql in
            let ztwCut = now.addingTimeInterval(-ztwIdle).millis
            let ziaCut = now.addingTimeInterval(-ziaIdle).millis
            let condition: SQLQueryString = """
                (kind = 'ztw' AND last_seen_at < \(bind: ztwCut)) OR (kind = 'zia' AND last_seen_at < \(bind: ziaCut))
                  OR (grace_until IS NOT NULL AND grace_until < \(bind: now.millis))
                """
            let n = try await Self.count(sql, "SELECT COUNT(*) AS n FROM sessions WHERE " + condition)
            try await sql.raw("DELETE FROM sessions WHERE " + condition).run()
            try await sql.raw("DELETE FROM login_replays WHERE expires_at < \(bind: now.millis)").run()
            return n
        }
    }

    public func sessionCount(orgID: Int64) async throws -> Int {
        try await db.read { sql in try await Self.count(sql, "SELECT COUNT(*) AS n FROM sessions WHERE org_id = \(bind: orgID)") }
    }

    // MARK: Portal

    public func createPortalSessions(_ sessions: [PortalSession], audits: [AuditEvent]) async throws {
        try await db.transaction(announcing: false) { sql in
            for s in sessions {
                try await sql.raw(
                    """
                    INSERT INTO portal_sessions (token_hash, admin_id, org_id, created_at, last_seen_at)
                    VALUES (\(bind: s.tokenHash), \(bind: s.adminID), \(bind: s.orgID), \(bind: s.createdAt.millis), \(bind: s.lastSeenAt.millis))
                    """
                ).run()
            }
            for audit in audits { try await Self.insertAudit(sql, audit) }
        }
    }

    public func portalSnapshot(tokenHash: String) async throws -> PortalSnapshot? {
        try await db.read { sql in
            guard
                let row = try await sql.raw(
                    """
                    SELECT p.token_hash, p.admin_id, p.org_id, p.created_at, p.last_seen_at, o.name AS o_name,
                      \(unsafeRaw: Self.adminColumns), \(unsafeRaw: Self.roleColumns)
                    FROM portal_sessions p JOIN admins a ON a.id = p.admin_id JOIN roles r ON r.id = a.role_id
                      JOIN organizations o ON o.id = p.org_id
                    WHERE p.token_hash = \(bind: tokenHash)
                    """
                ).first()
            else { return nil }
            let session = PortalSession(
                tokenHash: try row.decode(column: "token_hash", as: String.self), adminID: try row.decode(column: "admin_id", as: Int64.self),
                orgID: try row.decode(column: "org_id", as: Int64.self),
                createdAt: Date(millis: try row.decode(column: "created_at", as: Int64.self)),
                lastSeenAt: Date(millis: try row.decode(column: "last_seen_at", as: Int64.self)))
            return PortalSnapshot(
                session: session, admin: try Self.admin(row, prefix: "a_"), role: try Self.role(row, prefix: "r_"),
                organizationName: try row.decode(column: "o_name", as: String.self))
        }
    }

    public func touchPortalSession(tokenHash: String, at: Date) async throws {
        try await db.transaction(announcing: false) { sql in
            try await sql.raw("UPDATE portal_sessions SET last_seen_at = \(bind: at.millis) WHERE token_hash = \(bind: tokenHash)").run()
        }
    }

    public func deletePortalSessions(tokenHashes: [String]) async throws -> Int {
        guard !tokenHashes.isEmpty else { return 0 }
        return try await db.transaction(announcing: false) { sql in
            var n = 0
            for hash in tokenHashes {
                n += try await sql.raw("DELETE FROM portal_sessions WHERE token_hash = \(bind: hash) RETURNING token_hash").all().count
            }
            return n
        }
    }

    public func deleteIdlePortalSessions(lastSeenBefore cutoff: Date) async throws -> Int {
        try await db.transaction(announcing: false) { sql in
            try await sql.raw("DELETE FROM portal_sessions WHERE last_seen_at < \(bind: cutoff.millis) RETURNING token_hash").all().count
        }
    }

    public func adminPreference(adminID: Int64, name: String) async throws -> String? {
        try await db.read { sql in
            try await sql.raw("SELECT value FROM admin_preferences WHERE admin_id = \(bind: adminID) AND name = \(bind: name)").first()?
                .decode(column: "value", as: String.self)
        }
    }

    public func setAdminPreference(adminID: Int64, name: String, value: String) async throws {
        try await db.transaction(announcing: false) { sql in
            try await sql.raw(
                """
                INSERT INTO admin_preferences (admin_id, name, value) VALUES (\(bind: adminID), \(bind: name), \(bind: value))
                ON CONFLICT (admin_id, name) DO UPDATE SET value = excluded.value
                """
            ).run()
        }
    }

    // MARK: Provider console

    public func insertOperator(_ op: ProviderOperator) async throws -> ProviderOperator {
        try await db.transaction(announcing: false) { sql in
            var created = op
            created.id = try await Self.insertReturningID(
                sql,
                """
                INSERT INTO provider_operators (login_name, login_key, password_hash, disabled, created_at)
                VALUES (\(bind: op.loginName), \(bind: op.loginName.lowercased()), \(bind: op.passwordHash), \(bind: op.disabled ? 1 : 0),
                  \(bind: op.createdAt.millis))
                ON CONFLICT (login_key) DO NOTHING RETURNING id
                """,
                conflict: "an operator named \(op.loginName) already exists")
            return created
        }
    }

    static func providerOperator(_ row: any SQLRow) throws -> ProviderOperator {
        ProviderOperator(
            id: try row.decode(column: "id", as: Int64.self), loginName: try row.decode(column: "login_name", as: String.self),
            passwordHash: try row.decode(column: "password_hash", as: String.self),
            disabled: try row.decode(column: "disabled", as: Int.self) != 0,
            createdAt: Date(millis: try row.decode(column: "created_at", as: Int64.self)))
    }

    public func providerOperator(loginName: String) async throws -> ProviderOperator? {
        try await db.read { sql in
            try await sql.raw("SELECT * FROM provider_operators WHERE login_key = \(bind: loginName.lowercased())").first()
                .map(Self.providerOperator)
        }
    }

    public func providerOperators() async throws -> [ProviderOperator] {
        try await db.read { sql in
            try await sql.raw("SELECT * FROM provider_operators ORDER BY login_key").all().map(Self.providerOperator)
        }
    }

    public func setOperatorDisabled(loginName: String, disabled: Bool) async throws -> Bool {
        try await db.transaction(announcing: false) { sql in
            guard
                let row = try await sql.raw(
                    """
                    UPDATE provider_operators SET disabled = \(bind: disabled ? 1 : 0) WHERE login_key = \(bind: loginName.lowercased())
                    RETURNING id
                    """
                ).first()
            else { return false }
            if disabled {
                let id = try row.decode(column: "id", as: Int64.self)
                try await sql.raw("DELETE FROM operator_sessions WHERE operator_id = \(bind: id)").run()
            }
            return true
        }
    }

    public func createOperatorSession(tokenHash: String, operatorID: Int64, at: Date) async throws {
        try await db.transaction(announcing: false) { sql in
            try await sql.raw(
                """
                INSERT INTO operator_sessions (token_hash, operator_id, created_at, last_seen_at)
                VALUES (\(bind: tokenHash), \(bind: operatorID), \(bind: at.millis), \(bind: at.millis))
                """
            ).run()
        }
    }

    public func operatorSession(tokenHash: String) async throws -> (ProviderOperator, lastSeenAt: Date, createdAt: Date)? {
        try await db.read { sql in
            guard
                let row = try await sql.raw(
                    """
                    SELECT o.*, s.last_seen_at AS s_last_seen_at, s.created_at AS s_created_at FROM operator_sessions s JOIN provider_operators o ON o.id = s.operator_id
                    WHERE s.token_hash = \(bind: tokenHash)
                    """
                ).first()
            else { return nil }
            return (
                try Self.providerOperator(row), Date(millis: try row.decode(column: "s_last_seen_at", as: Int64.self)),
                Date(millis: try row.decode(column: "s_created_at", as: Int64.self))
            )
        }
    }

    public func touchOperatorSession(tokenHash: String, at: Date) async throws {
        try await db.transaction(announcing: false) { sql in
            try await sql.raw("UPDATE operator_sessions SET last_seen_at = \(bind: at.millis) WHERE token_hash = \(bind: tokenHash)").run()
        }
    }

    public func deleteOperatorSessions(tokenHashes: [String], idleBefore: Date?) async throws -> Int {
        try await db.transaction(announcing: false) { sql in
            var n = 0
            for hash in tokenHashes {
                n += try await sql.raw("DELETE FROM operator_sessions WHERE token_hash = \(bind: hash) RETURNING token_hash").all().count
            }
            if let idleBefore {
                n += try await sql.raw("DELETE FROM operator_sessions WHERE last_seen_at < \(bind: idleBefore.millis) RETURNING token_hash")
                    .all().count
            }
            return n
        }
    }

    // MARK: Roles

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

    public func insertRole(_ role: Role, audit: AuditEvent) async throws -> Role {
        try await db.transaction { sql in
            var inserted = role
            inserted.id = try await Self.insertRole(sql, role)
            try await Self.insertAudit(sql, audit)
            return inserted
        }
    }

    public func updateRole(_ role: Role, audit: AuditEvent) async throws {
        try await db.transaction { sql in
            try await Self.checkRoleName(sql, role)
            try await sql.raw(
                """
                UPDATE roles SET name = \(bind: role.name), rank = \(bind: role.rank), role_type = \(bind: role.roleType),
                  permissions = \(bind: Self.encodePermissions(role.featurePermissions)), is_auditor = \(bind: role.isAuditor ? 1 : 0)
                WHERE id = \(bind: role.id) AND org_id = \(bind: role.orgID)
                """
            ).run()
            try await Self.insertAudit(sql, audit)
        }
    }

    public func deleteRole(orgID: Int64, id: Int64, audit: AuditEvent) async throws {
        try await db.transaction { sql in
            let holders = try await Self.count(sql, "SELECT COUNT(*) AS n FROM admins WHERE role_id = \(bind: id)")
            guard holders == 0 else { throw KeygateError.conflict("the role is assigned to \(holders) admin(s)") }
            try await sql.raw("DELETE FROM roles WHERE id = \(bind: id) AND org_id = \(bind: orgID)").run()
            try await Self.insertAudit(sql, audit)
        }
    }

    // MARK: Admins

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

    public func insertAdmin(_ admin: Admin, audit: AuditEvent) async throws -> Admin {
        try await db.transaction { sql in
            var inserted = admin
            inserted.id = try await Self.insertAdmin(sql, admin)
            try await Self.insertAudit(sql, audit)
            return inserted
        }
    }

    public func updateAdmin(_ admin: Admin, endSessions: Bool, keepSession: String?, audit: AuditEvent) async throws {
        try await db.transaction { sql in
            try await Self.checkLoginName(sql, admin)
            try await sql.raw(
                """
                UPDATE admins SET login_name = \(bind: admin.loginName), login_key = \(bind: admin.loginName.lowercased()),
                  user_name = \(bind: admin.userName), email = \(bind: admin.email), role_id = \(bind: admin.roleID),
                  password_hash = \(bind: admin.passwordHash), disabled = \(bind: admin.disabled ? 1 : 0)
                WHERE id = \(bind: admin.id) AND org_id = \(bind: admin.orgID)
                """
            ).run()
            if endSessions {
                try await sql.raw(
                    "DELETE FROM sessions WHERE admin_id = \(bind: admin.id) AND token_hash <> \(bind: keepSession ?? "")"
                ).run()
                // A password reset must reach the browser too: an attacker's portal session ends with the API ones.
                try await sql.raw(
                    "DELETE FROM portal_sessions WHERE admin_id = \(bind: admin.id) AND token_hash <> \(bind: keepSession ?? "")"
                ).run()
            }
            try await Self.insertAudit(sql, audit)
        }
    }

    public func deleteAdmin(orgID: Int64, id: Int64, audit: AuditEvent) async throws {
        try await db.transaction { sql in
            try await sql.raw("DELETE FROM sessions WHERE admin_id = \(bind: id)").run()
            try await sql.raw("DELETE FROM admins WHERE id = \(bind: id) AND org_id = \(bind: orgID)").run()
            try await Self.insertAudit(sql, audit)
        }
    }

    // MARK: Audit

    public func auditEvents(orgID: Int64, actionPrefix: String?, limit: Int) async throws -> [AuditEvent] {
        try await db.read { sql in
            var query: SQLQueryString = "SELECT * FROM audit_events WHERE org_id = \(bind: orgID)"
            if let actionPrefix {
                // Prefix match without LIKE so `%` and `_` in the filter are literal on every database; the CAST because
                // PostgreSQL has no substr(text, integer, bigint); both count code points, hence unicodeScalars.
                query = query + " AND substr(action, 1, CAST(\(bind: actionPrefix.unicodeScalars.count) AS INTEGER)) = \(bind: actionPrefix)"
            }
            query = query + " ORDER BY id DESC LIMIT \(bind: limit)"
            return try await sql.raw(query).all().map { row in
                let kind = try row.decode(column: "actor_kind", as: String.self)
                let name = try row.decode(column: "actor_name", as: String.self)
                let actorID = try row.decode(column: "actor_id", as: Int64?.self)
                return AuditEvent(
                    id: try row.decode(column: "id", as: Int64.self), orgID: orgID,
                    at: Date(millis: try row.decode(column: "at", as: Int64.self)),
                    actor: kind == "admin" ? .admin(id: actorID ?? 0, name: name) : .provider(name: name),
                    action: try row.decode(column: "action", as: String.self),
                    detail: try row.decode(column: "detail", as: String.self))
            }
        }
    }

    public func appendAudit(_ event: AuditEvent) async throws {
        try await db.transaction { sql in try await Self.insertAudit(sql, event) }
    }
}

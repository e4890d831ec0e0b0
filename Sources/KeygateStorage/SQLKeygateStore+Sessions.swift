import Foundation
import KeygateCore
import SQLKit

// MARK: Sessions

extension SQLKeygateStore: SessionStore {
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
        // A new session is in no cache: nothing to announce.
        try await db.transaction(announcing: .nothing) { sql in
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
        try await db.transaction(announcing: .nothing) { sql in
            try await sql.raw("UPDATE sessions SET last_seen_at = \(bind: at.millis) WHERE token_hash = \(bind: tokenHash)").run()
        }
    }

    public func deleteSession(tokenHash: String, audit: AuditEvent?) async throws -> Bool {
        try await db.transaction(announcing: .session(tokenHash: tokenHash)) { sql in
            let n = try await Self.count(sql, "SELECT COUNT(*) AS n FROM sessions WHERE token_hash = \(bind: tokenHash)")
            try await sql.raw("DELETE FROM sessions WHERE token_hash = \(bind: tokenHash)").run()
            if n > 0, let audit { try await Self.insertAudit(sql, audit) }
            return n > 0
        }
    }

    public func deleteExpired(now: Date, ztwIdle: TimeInterval, ziaIdle: TimeInterval) async throws -> Int {
        // Only sessions every cached copy already refuses (see ChangeScope), so nothing is announced; in batches
        // through the last-seen and grace indexes.
        let ztwCut = now.addingTimeInterval(-ztwIdle).millis
        let ziaCut = now.addingTimeInterval(-ziaIdle).millis
        let idle = try await Self.deleteInBatches(
            db, table: "sessions", key: "token_hash",
            where: """
                last_seen_at < \(bind: max(ztwCut, ziaCut))
                  AND ((kind = 'ztw' AND last_seen_at < \(bind: ztwCut)) OR (kind = 'zia' AND last_seen_at < \(bind: ziaCut)))
                """)
        let graceEnded = try await Self.deleteInBatches(db, table: "sessions", key: "token_hash", where: "grace_until < \(bind: now.millis)")
        _ = try await Self.deleteInBatches(db, table: "login_replays", key: "digest", where: "expires_at < \(bind: now.millis)")
        return idle + graceEnded
    }

    public func sessionCount(orgID: Int64) async throws -> Int {
        try await db.read { sql in try await Self.count(sql, "SELECT COUNT(*) AS n FROM sessions WHERE org_id = \(bind: orgID)") }
    }

    public func liveSessionCount(now: Date, ztwIdle: TimeInterval, ziaIdle: TimeInterval) async throws -> Int {
        let ztwCut = now.addingTimeInterval(-ztwIdle).millis
        let ziaCut = now.addingTimeInterval(-ziaIdle).millis
        return try await db.read { sql in
            try await Self.count(
                sql,
                """
                SELECT COUNT(*) AS n FROM sessions WHERE last_seen_at >= \(bind: min(ztwCut, ziaCut))
                  AND ((kind = 'ztw' AND last_seen_at >= \(bind: ztwCut)) OR (kind = 'zia' AND last_seen_at >= \(bind: ziaCut)))
                  AND (grace_until IS NULL OR grace_until >= \(bind: now.millis))
                """)
        }
    }
}

import Foundation
import KeygateCore
import SQLKit

// MARK: Portal

extension SQLKeygateStore: PortalStore {
    public func createPortalSessions(_ sessions: [PortalSession], audits: [AuditEvent]) async throws {
        try await db.transaction(announcing: .nothing) { sql in
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
        try await portalSnapshots(tokenHashes: [tokenHash]).first
    }

    public func portalSnapshots(tokenHashes: [String]) async throws -> [PortalSnapshot] {
        guard !tokenHashes.isEmpty else { return [] }
        return try await db.read { sql in
            try await sql.raw(
                """
                SELECT p.token_hash, p.admin_id, p.org_id, p.created_at, p.last_seen_at, o.name AS o_name,
                  \(unsafeRaw: Self.adminColumns), \(unsafeRaw: Self.roleColumns)
                FROM portal_sessions p JOIN admins a ON a.id = p.admin_id JOIN roles r ON r.id = a.role_id
                  JOIN organizations o ON o.id = p.org_id
                WHERE p.token_hash IN (\(binds: tokenHashes))
                """
            ).all().map { row in
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
    }

    public func touchPortalSession(tokenHash: String, at: Date) async throws {
        try await db.transaction(announcing: .nothing) { sql in
            try await sql.raw("UPDATE portal_sessions SET last_seen_at = \(bind: at.millis) WHERE token_hash = \(bind: tokenHash)").run()
        }
    }

    public func deletePortalSessions(tokenHashes: [String]) async throws -> Int {
        guard !tokenHashes.isEmpty else { return 0 }
        return try await db.transaction(announcing: .nothing) { sql in
            var n = 0
            for hash in tokenHashes {
                n += try await sql.raw("DELETE FROM portal_sessions WHERE token_hash = \(bind: hash) RETURNING token_hash").all().count
            }
            return n
        }
    }

    public func deleteIdlePortalSessions(lastSeenBefore cutoff: Date) async throws -> Int {
        try await Self.deleteInBatches(db, table: "portal_sessions", key: "token_hash", where: "last_seen_at < \(bind: cutoff.millis)")
    }

    public func adminPreference(adminID: Int64, name: String) async throws -> String? {
        try await db.read { sql in
            try await sql.raw("SELECT value FROM admin_preferences WHERE admin_id = \(bind: adminID) AND name = \(bind: name)").first()?
                .decode(column: "value", as: String.self)
        }
    }

    public func setAdminPreference(adminID: Int64, name: String, value: String) async throws {
        try await db.transaction(announcing: .nothing) { sql in
            try await sql.raw(
                """
                INSERT INTO admin_preferences (admin_id, name, value) VALUES (\(bind: adminID), \(bind: name), \(bind: value))
                ON CONFLICT (admin_id, name) DO UPDATE SET value = excluded.value
                """
            ).run()
        }
    }
}

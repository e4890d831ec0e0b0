import Foundation
import KeygateCore
import SQLKit

// MARK: Audit

extension SQLKeygateStore: AuditStore {
    public func auditEvents(orgID: Int64, actionPrefix: String?, limit: Int) async throws -> [AuditRecord] {
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
                return AuditRecord(
                    id: try row.decode(column: "id", as: Int64.self), orgID: orgID,
                    at: Date(millis: try row.decode(column: "at", as: Int64.self)),
                    actor: kind == "admin" ? .admin(id: actorID ?? 0, name: name) : .provider(name: name),
                    action: try row.decode(column: "action", as: String.self),
                    detail: try row.decode(column: "detail", as: String.self))
            }
        }
    }

    public func appendAudit(_ event: AuditEvent) async throws {
        try await db.transaction(announcing: .nothing) { sql in try await Self.insertAudit(sql, event) }
    }
}

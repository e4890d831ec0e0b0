import Foundation
import KeygateCore
import SQLKit

extension SQLKeygateStore: WebhookStore {
    // Webhook rows are no cached session's business: their own writes announce nothing. Events are enqueued from
    // `insertAudit`, inside whichever transaction writes the audit event (see WebhookStore).

    public func insertWebhookEndpoint(
        _ endpoint: WebhookEndpoint, sealedSecret: String, limit: Int, audit: AuditEvent
    ) async throws -> WebhookEndpoint {
        let lock: SQLQueryString = db.kind == .postgresql ? " FOR UPDATE" : ""
        return try await db.transaction(announcing: .nothing) { sql in
            // SQLite runs one writer at a time; PostgreSQL waits here for another insert into the same organization.
            _ = try await sql.raw("SELECT id FROM organizations WHERE id = \(bind: endpoint.orgID)\(lock)").first()
            let existing = try await Self.count(sql, "SELECT COUNT(*) AS n FROM webhook_endpoints WHERE org_id = \(bind: endpoint.orgID)")
            guard existing < limit else { throw KeygateError.conflict("an organization has at most \(limit) webhook endpoints") }
            let row = try await sql.raw(
                """
                INSERT INTO webhook_endpoints (org_id, url, events, enabled, secret, created_at)
                VALUES (\(bind: endpoint.orgID), \(bind: endpoint.url), \(bind: Self.eventList(endpoint.events)), \(bind: endpoint.enabled ? 1 : 0),
                  \(bind: sealedSecret), \(bind: endpoint.createdAt.millis))
                RETURNING id
                """
            ).first()
            var inserted = endpoint
            inserted.id = try row?.decode(column: "id", as: Int64.self) ?? 0
            try await Self.insertAudit(sql, audit)
            return inserted
        }
    }

    public func webhookEndpoints(orgID: Int64) async throws -> [WebhookEndpoint] {
        try await db.read { sql in
            try await sql.raw("SELECT * FROM webhook_endpoints WHERE org_id = \(bind: orgID) ORDER BY id").all().map(Self.endpoint)
        }
    }

    public func webhookEndpoint(orgID: Int64, id: Int64) async throws -> WebhookEndpoint? {
        try await db.read { sql in
            try await sql.raw("SELECT * FROM webhook_endpoints WHERE org_id = \(bind: orgID) AND id = \(bind: id)").first().map(Self.endpoint)
        }
    }

    public func updateWebhookEndpoint(orgID: Int64, id: Int64, _ change: WebhookEndpointChange, audit: AuditEvent) async throws -> Bool {
        let enabled = change.enabled.map { $0 ? 1 : 0 }
        let enabling = change.enabled == true ? 1 : 0
        return try await db.transaction(announcing: .nothing) { sql in
            let updated = try await sql.raw(
                """
                UPDATE webhook_endpoints SET url = COALESCE(\(bind: change.url), url),
                  events = COALESCE(\(bind: change.events.map(Self.eventList)), events), enabled = COALESCE(\(bind: enabled), enabled),
                  disabled_reason = CASE WHEN \(bind: enabling) = 1 THEN NULL ELSE disabled_reason END,
                  failing_since = CASE WHEN \(bind: enabling) = 1 THEN NULL ELSE failing_since END
                WHERE id = \(bind: id) AND org_id = \(bind: orgID) RETURNING id
                """
            ).first()
            guard updated != nil else { return false }
            try await Self.insertAudit(sql, audit)
            return true
        }
    }

    public func deleteWebhookEndpoint(orgID: Int64, id: Int64, audit: AuditEvent) async throws -> Bool {
        try await db.transaction(announcing: .nothing) { sql in
            let gone = try await sql.raw("DELETE FROM webhook_endpoints WHERE id = \(bind: id) AND org_id = \(bind: orgID) RETURNING id").all()
            guard !gone.isEmpty else { return false }
            try await sql.raw("DELETE FROM webhook_deliveries WHERE endpoint_id = \(bind: id)").run()
            try await Self.insertAudit(sql, audit)
            return true
        }
    }

    public func rollWebhookSecret(orgID: Int64, id: Int64, sealedSecret: String, previousUntil: Date, audit: AuditEvent) async throws {
        try await db.transaction(announcing: .nothing) { sql in
            try await sql.raw(
                """
                UPDATE webhook_endpoints SET previous_secret = secret, previous_until = \(bind: previousUntil.millis), secret = \(bind: sealedSecret)
                WHERE id = \(bind: id) AND org_id = \(bind: orgID)
                """
            ).run()
            try await Self.insertAudit(sql, audit)
        }
    }

    public func webhookSecrets(endpointID: Int64, at now: Date) async throws -> [String] {
        try await db.read { sql in
            guard let row = try await sql.raw("SELECT * FROM webhook_endpoints WHERE id = \(bind: endpointID)").first() else { return [] }
            var secrets = [try row.decode(column: "secret", as: String.self)]
            if let previous = try row.decode(column: "previous_secret", as: String?.self),
                let until = try row.decode(column: "previous_until", as: Int64?.self), until > now.millis
            {
                secrets.append(previous)
            }
            return secrets
        }
    }

    public func enqueueWebhookTest(endpoint: WebhookEndpoint, payload: String, eventID: String, at now: Date) async throws -> Int64 {
        try await db.transaction(announcing: .nothing) { sql in
            try await Self.insertWebhookEvent(sql, id: eventID, orgID: endpoint.orgID, type: .test, payload: payload, at: now)
            return try await Self.insertDelivery(sql, endpointID: endpoint.id, orgID: endpoint.orgID, eventID: eventID, at: now)
        }
    }

    public func webhookDeliveries(endpointID: Int64, limit: Int) async throws -> [WebhookDelivery] {
        try await db.read { sql in
            try await sql.raw(
                """
                SELECT d.*, e.type AS event_type FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
                WHERE d.endpoint_id = \(bind: endpointID) ORDER BY d.id DESC LIMIT \(bind: limit)
                """
            ).all().map { row in
                WebhookDelivery(
                    id: try row.decode(column: "id", as: Int64.self), endpointID: try row.decode(column: "endpoint_id", as: Int64.self),
                    eventID: try row.decode(column: "event_id", as: String.self),
                    eventType: WebhookEventType(rawValue: try row.decode(column: "event_type", as: String.self)) ?? .test,
                    status: WebhookDelivery.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .pending,
                    attempts: try row.decode(column: "attempts", as: Int.self),
                    nextAttemptAt: try row.decode(column: "next_attempt_at", as: Int64?.self).map(Date.init(millis:)),
                    lastAttemptAt: try row.decode(column: "last_attempt_at", as: Int64?.self).map(Date.init(millis:)),
                    lastStatusCode: try row.decode(column: "last_status", as: Int?.self),
                    lastError: try row.decode(column: "last_error", as: String?.self),
                    lastDurationMs: try row.decode(column: "last_duration_ms", as: Int?.self),
                    createdAt: Date(millis: try row.decode(column: "created_at", as: Int64.self)))
            }
        }
    }

    public func retryWebhookDelivery(endpointID: Int64, id: Int64, at now: Date) async throws -> Bool? {
        try await db.transaction(announcing: .nothing) { sql in
            let due = try await sql.raw(
                """
                UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = \(bind: now.millis), locked_until = 0
                WHERE id = \(bind: id) AND endpoint_id = \(bind: endpointID) AND status <> 'delivered'
                  AND locked_until <= \(bind: now.millis) RETURNING id
                """
            ).first()
            if due != nil { return true }
            // Not made due: delivered or being sent (false), or no such delivery of this endpoint (nil).
            let exists = try await sql.raw(
                "SELECT id FROM webhook_deliveries WHERE id = \(bind: id) AND endpoint_id = \(bind: endpointID)"
            ).first()
            return exists == nil ? nil : false
        }
    }

    public func pruneWebhookLog(before: Date) async throws -> Int {
        let deleted = try await Self.deleteInBatches(
            db, table: "webhook_deliveries", key: "id",
            where: "status <> 'pending' AND COALESCE(last_attempt_at, created_at) < \(bind: before.millis)")
        _ = try await Self.deleteInBatches(
            db, table: "webhook_events", key: "id",
            where: "created_at < \(bind: before.millis) AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)")
        return deleted
    }

    public func sealedWebhookSecrets(afterID: Int64, limit: Int) async throws -> [SealedWebhookSecrets] {
        try await db.read { sql in
            try await sql.raw("SELECT * FROM webhook_endpoints WHERE id > \(bind: afterID) ORDER BY id LIMIT \(bind: limit)").all().map { row in
                SealedWebhookSecrets(
                    endpointID: try row.decode(column: "id", as: Int64.self), orgID: try row.decode(column: "org_id", as: Int64.self),
                    current: try row.decode(column: "secret", as: String.self), previous: try row.decode(column: "previous_secret", as: String?.self))
            }
        }
    }

    public func resealWebhookSecrets(_ changes: [WebhookSecretReseal]) async throws -> Int {
        guard !changes.isEmpty else { return 0 }
        return try await db.transaction(announcing: .nothing) { sql in
            var replaced = 0
            for change in changes {
                let column: SQLQueryString = change.previous ? "previous_secret" : "secret"
                replaced += try await sql.raw(
                    """
                    UPDATE webhook_endpoints SET \(column) = \(bind: change.to) WHERE id = \(bind: change.endpointID) AND \(column) = \(bind: change.from)
                    RETURNING id
                    """
                ).all().count
            }
            return replaced
        }
    }

    // MARK: - The outbox

    /// Writes `event` with a pending delivery for every subscribed, enabled endpoint of its organization, in the
    /// caller's transaction; nothing when there is none.
    static func enqueue(_ sql: any SQLDatabase, _ event: OutboxEvent) async throws {
        let endpoints = try await sql.raw("SELECT id, events FROM webhook_endpoints WHERE org_id = \(bind: event.orgID) AND enabled = 1").all()
        let subscribed = try endpoints.filter { try parseEvents(try $0.decode(column: "events", as: String.self)).contains(event.type) }
        guard !subscribed.isEmpty else { return }
        try await insertWebhookEvent(sql, id: event.id, orgID: event.orgID, type: event.type, payload: event.payload, at: event.at)
        for endpoint in subscribed {
            _ = try await insertDelivery(
                sql, endpointID: try endpoint.decode(column: "id", as: Int64.self), orgID: event.orgID, eventID: event.id, at: event.at)
        }
    }

    static func insertWebhookEvent(_ sql: any SQLDatabase, id: String, orgID: Int64, type: WebhookEventType, payload: String, at: Date) async throws {
        try await sql.raw(
            """
            INSERT INTO webhook_events (id, org_id, type, payload, created_at)
            VALUES (\(bind: id), \(bind: orgID), \(bind: type.rawValue), \(bind: payload), \(bind: at.millis))
            """
        ).run()
    }

    static func insertDelivery(_ sql: any SQLDatabase, endpointID: Int64, orgID: Int64, eventID: String, at: Date) async throws -> Int64 {
        try await sql.raw(
            """
            INSERT INTO webhook_deliveries (endpoint_id, org_id, event_id, status, attempts, next_attempt_at, locked_until, created_at)
            VALUES (\(bind: endpointID), \(bind: orgID), \(bind: eventID), 'pending', 0, \(bind: at.millis), 0, \(bind: at.millis)) RETURNING id
            """
        ).first()?.decode(column: "id", as: Int64.self) ?? 0
    }

    static func endpoint(_ row: any SQLRow) throws -> WebhookEndpoint {
        WebhookEndpoint(
            id: try row.decode(column: "id", as: Int64.self), orgID: try row.decode(column: "org_id", as: Int64.self),
            url: try row.decode(column: "url", as: String.self), events: parseEvents(try row.decode(column: "events", as: String.self)),
            enabled: try row.decode(column: "enabled", as: Int.self) != 0,
            createdAt: Date(millis: try row.decode(column: "created_at", as: Int64.self)),
            previousSecretUntil: try row.decode(column: "previous_until", as: Int64?.self).map(Date.init(millis:)),
            disabledReason: try row.decode(column: "disabled_reason", as: String?.self),
            failingSince: try row.decode(column: "failing_since", as: Int64?.self).map(Date.init(millis:)))
    }

    static func eventList(_ events: [WebhookEventType]) -> String { events.map(\.rawValue).joined(separator: ",") }

    static func parseEvents(_ text: String) -> [WebhookEventType] {
        text.split(separator: ",").compactMap { WebhookEventType(rawValue: String($0)) }
    }
}

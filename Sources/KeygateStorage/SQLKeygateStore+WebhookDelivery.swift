import Foundation
import KeygateCore
import SQLKit

// Delivering webhooks: the claim (organizations in turn, a cap on what each has in flight), an attempt's outcome and
// what it means for the endpoint, resend and recover, and the backlog limits. Endpoints, secrets and the outbox are in
// SQLKeygateStore+Webhooks.swift.

extension SQLKeygateStore {
    public func requeueWebhookEvents(_ requeue: WebhookRequeue) async throws -> WebhookRequeueResult {
        let lock: SQLQueryString = db.kind == .postgresql ? " FOR UPDATE" : ""
        return try await db.transaction(announcing: .nothing) { sql in
            // One requeue of an organization at a time (SQLite has one writer; PostgreSQL waits here), so two cannot
            // both see room for the last places.
            _ = try await sql.raw("SELECT id FROM organizations WHERE id = \(bind: requeue.orgID)\(lock)").first()
            let pendingOfEndpoint = try await Self.count(
                sql, "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE endpoint_id = \(bind: requeue.endpointID) AND status = 'pending'")
            let pendingOfOrganization = try await Self.count(
                sql, "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE org_id = \(bind: requeue.orgID) AND status = 'pending'")
            let room = max(0, min(requeue.limits.perEndpoint - pendingOfEndpoint, requeue.limits.perOrganization - pendingOfOrganization))
            let events: [String]
            switch requeue.selection {
            case .delivery(let id):
                events = try await sql.raw(
                    "SELECT event_id FROM webhook_deliveries WHERE id = \(bind: id) AND endpoint_id = \(bind: requeue.endpointID)"
                ).all().map { try $0.decode(column: "event_id", as: String.self) }
            case .failedSince(let since):
                // Events that failed since `since` and have no delivery to this endpoint that is pending or delivered.
                events = try await sql.raw(
                    """
                    SELECT d.event_id, MIN(d.id) AS first_id FROM webhook_deliveries d
                    WHERE d.endpoint_id = \(bind: requeue.endpointID) AND d.status = 'failed'
                      AND COALESCE(d.last_attempt_at, d.created_at) >= \(bind: since.millis)
                      AND NOT EXISTS (SELECT 1 FROM webhook_deliveries o WHERE o.endpoint_id = d.endpoint_id AND o.event_id = d.event_id
                        AND o.status <> 'failed')
                    GROUP BY d.event_id ORDER BY first_id LIMIT \(bind: room + 1)
                    """
                ).all().map { try $0.decode(column: "event_id", as: String.self) }
            }
            var queued: [Int64] = []
            for event in events.prefix(room) {
                queued.append(
                    try await Self.insertDelivery(sql, endpointID: requeue.endpointID, orgID: requeue.orgID, eventID: event, at: requeue.at))
            }
            if !queued.isEmpty { try await Self.insertAudit(sql, requeue.audit) }
            return WebhookRequeueResult(queued: queued, matched: events.count)
        }
    }

    public func claimWebhookDeliveries(now: Date, leaseUntil: Date, limit: Int, perOrganization: Int) async throws -> [WebhookJob] {
        // A read first: most rounds find nothing due, and then take no write lock (SQLite has one writer).
        let due = try await db.read { sql in
            try await sql.raw(
                """
                SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= \(bind: now.millis)
                  AND locked_until <= \(bind: now.millis) LIMIT 1
                """
            ).first()
        }
        guard due != nil else { return [] }
        return try await db.transaction(announcing: .nothing) { sql in
            // Organizations in turn: each one's first due delivery ranks 1, its second 2, …; an organization's rank
            // plus what it has leased (on any server) may not pass `perOrganization`.
            let chosen = try await sql.raw(
                """
                SELECT due.id FROM (
                  SELECT d.id, d.org_id, ROW_NUMBER() OVER (PARTITION BY d.org_id ORDER BY d.next_attempt_at, d.id) AS turn
                  FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id JOIN webhook_events e ON e.id = d.event_id
                  WHERE d.status = 'pending' AND d.next_attempt_at <= \(bind: now.millis) AND d.locked_until <= \(bind: now.millis)
                    AND (w.enabled = 1 OR e.type = 'webhook.test')
                ) due LEFT JOIN (
                  SELECT org_id, COUNT(*) AS leased FROM webhook_deliveries WHERE locked_until > \(bind: now.millis) GROUP BY org_id
                ) busy ON busy.org_id = due.org_id
                WHERE due.turn + COALESCE(busy.leased, 0) <= \(bind: perOrganization)
                ORDER BY due.turn, due.id LIMIT \(bind: limit)
                """
            ).all().map { try $0.decode(column: "id", as: Int64.self) }
            guard !chosen.isEmpty else { return [] }
            // The conditions again, on rows no other server is claiming right now (PostgreSQL `SKIP LOCKED`; SQLite
            // has one writer): one that another server took since the read above is skipped, never claimed twice.
            let skipLocked: SQLQueryString = db.kind == .postgresql ? " FOR UPDATE SKIP LOCKED" : ""
            let claimed = try await sql.raw(
                """
                UPDATE webhook_deliveries SET locked_until = \(bind: leaseUntil.millis), attempts = attempts + 1,
                  last_attempt_at = \(bind: now.millis)
                WHERE id IN (SELECT id FROM webhook_deliveries WHERE id IN (\(Self.idList(chosen))) AND status = 'pending'
                  AND locked_until <= \(bind: now.millis)\(skipLocked))
                RETURNING id
                """
            ).all().map { try $0.decode(column: "id", as: Int64.self) }
            guard !claimed.isEmpty else { return [] }
            return try await sql.raw(
                """
                SELECT d.id, d.endpoint_id, d.attempts, d.event_id, w.org_id, w.url, e.type, e.payload, e.created_at
                FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id JOIN webhook_events e ON e.id = d.event_id
                WHERE d.id IN (\(Self.idList(claimed))) ORDER BY d.id
                """
            ).all().map { row in
                WebhookJob(
                    deliveryID: try row.decode(column: "id", as: Int64.self), endpointID: try row.decode(column: "endpoint_id", as: Int64.self),
                    orgID: try row.decode(column: "org_id", as: Int64.self), url: try row.decode(column: "url", as: String.self),
                    eventID: try row.decode(column: "event_id", as: String.self),
                    eventType: WebhookEventType(rawValue: try row.decode(column: "type", as: String.self)) ?? .test,
                    payload: try row.decode(column: "payload", as: String.self), attempt: try row.decode(column: "attempts", as: Int.self),
                    eventAt: Date(millis: try row.decode(column: "created_at", as: Int64.self)))
            }
        }
    }

    static func idList(_ ids: [Int64]) -> SQLQueryString {
        var list = SQLQueryString("")
        for (index, id) in ids.enumerated() {
            if index > 0 { list.appendLiteral(", ") }
            list.appendInterpolation("\(bind: id)" as SQLQueryString)
        }
        return list
    }

    public func completeWebhookDelivery(id: Int64, attempt: Int, outcome: WebhookAttempt) async throws -> Bool {
        let status: WebhookDelivery.Status = outcome.delivered ? .delivered : outcome.nextAttemptAt == nil ? .failed : .pending
        return try await db.transaction(announcing: .nothing) { sql in
            let recorded = try await sql.raw(
                """
                UPDATE webhook_deliveries SET status = \(bind: status.rawValue), next_attempt_at = \(bind: outcome.nextAttemptAt?.millis),
                  locked_until = 0, last_attempt_at = \(bind: outcome.at.millis), last_status = \(bind: outcome.statusCode),
                  last_error = \(bind: outcome.error.map { String($0.prefix(500)) }), last_duration_ms = \(bind: outcome.durationMs)
                WHERE id = \(bind: id) AND attempts = \(bind: attempt) AND status = 'pending' RETURNING endpoint_id
                """
            ).first()
            guard let endpointID = try recorded?.decode(column: "endpoint_id", as: Int64.self) else { return false }
            switch outcome.endpoint {
            case .unchanged:
                return false
            case .delivering:
                try await sql.raw("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = \(bind: endpointID) AND failing_since IS NOT NULL")
                    .run()
                return false
            case .failing(let threshold, let reason, let audit):
                try await sql.raw(
                    "UPDATE webhook_endpoints SET failing_since = \(bind: outcome.at.millis) WHERE id = \(bind: endpointID) AND failing_since IS NULL"
                ).run()
                return try await Self.disableEndpoint(
                    sql, endpointID, reason: reason, audit: audit, at: outcome.at, onlyIfFailingSince: threshold)
            case .disable(let reason, let audit):
                return try await Self.disableEndpoint(sql, endpointID, reason: reason, audit: audit, at: outcome.at, onlyIfFailingSince: nil)
            }
        }
    }

    /// Disables an enabled endpoint with `reason` (when `onlyIfFailingSince` is given, only if its failures began at or
    /// before it), fails its pending deliveries (those being sent now too: their outcome, when it comes, finds them no
    /// longer pending and changes nothing) and writes `audit`. - Returns: whether it disabled it.
    private static func disableEndpoint(
        _ sql: any SQLDatabase, _ id: Int64, reason: String, audit: AuditEvent, at: Date, onlyIfFailingSince: Date?
    ) async throws -> Bool {
        let streak: SQLQueryString = onlyIfFailingSince.map { " AND failing_since <= \(bind: $0.millis)" } ?? ""
        let disabled = try await sql.raw(
            """
            UPDATE webhook_endpoints SET enabled = 0, disabled_reason = \(bind: reason)
            WHERE id = \(bind: id) AND enabled = 1\(streak) RETURNING id
            """
        ).first()
        guard disabled != nil else { return false }
        try await sql.raw(
            """
            UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, last_error = \(bind: "endpoint disabled: " + reason)
            WHERE endpoint_id = \(bind: id) AND status = 'pending'
            """
        ).run()
        try await insertAudit(sql, audit)
        return true
    }

    public func failExcessWebhookDeliveries(limits: WebhookPendingLimits, at now: Date) async throws -> Int {
        var failed = 0
        for (partition, limit) in [("endpoint_id", limits.perEndpoint), ("org_id", limits.perOrganization)] {
            failed += try await db.transaction(announcing: .nothing) { sql in
                // The newest `limit` pending deliveries of each endpoint (organization) stay; older ones not being sent now fail.
                try await sql.raw(
                    """
                    UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, last_error = \(bind: WebhookPendingLimits.reachedText)
                    WHERE locked_until <= \(bind: now.millis) AND id IN (
                      SELECT id FROM (
                        SELECT id, ROW_NUMBER() OVER (PARTITION BY \(unsafeRaw: partition) ORDER BY id DESC) AS newest
                        FROM webhook_deliveries WHERE status = 'pending'
                      ) ranked WHERE ranked.newest > \(bind: limit))
                    RETURNING id
                    """
                ).all().count
            }
        }
        return failed
    }
}

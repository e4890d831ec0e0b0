import Foundation
import KeygateCore
import SQLKit

/// Copies a whole Keygate database into another, empty one (e.g. embedded SQLite into PostgreSQL).
///
/// Rows keep their ids, so foreign keys hold and sealed keys (bound to their organization id) still open with the
/// same master key. Tables are copied parents first, in id order, in batches of `batchSize`, each batch in one
/// transaction; after the copy, PostgreSQL's identity sequences are moved past the copied ids. Sessions, replay
/// digests and counters are copied too, so live API sessions survive the move, and so are the usage figures and the
/// webhook endpoints, events and deliveries (a pending delivery is sent by the new database's servers).
public enum DataCopier {
    enum Kind { case int, text, optionalInt, optionalText }

    /// The tables in dependency order with their columns.
    static let tables: [(name: String, order: String, columns: [(String, Kind)])] = [
        (
            "organizations", "id",
            [("id", .int), ("name", .text), ("name_key", .text), ("rotation_policy", .text), ("created_at", .int)]
        ),
        (
            "roles", "id",
            [
                ("id", .int), ("org_id", .int), ("name", .text), ("rank", .int), ("role_type", .text), ("permissions", .text),
                ("is_non_editable", .int), ("is_auditor", .int),
            ]
        ),
        (
            "admins", "id",
            [
                ("id", .int), ("org_id", .int), ("login_name", .text), ("login_key", .text), ("user_name", .text), ("email", .text),
                ("role_id", .int), ("password_hash", .text), ("disabled", .int), ("created_at", .int),
            ]
        ),
        (
            "api_keys", "id",
            [
                ("id", .int), ("org_id", .int), ("sealed_value", .text), ("version", .int), ("enabled", .int),
                ("modified_by_kind", .text), ("modified_by_id", .optionalInt), ("modified_by_name", .text), ("modified_at", .int),
                ("last_used_at", .optionalInt),
            ]
        ),
        (
            "sessions", "token_hash",
            [
                ("token_hash", .text), ("org_id", .int), ("admin_id", .int), ("key_id", .int), ("key_version", .int), ("kind", .text),
                ("created_at", .int), ("last_seen_at", .int), ("grace_until", .optionalInt),
            ]
        ),
        ("login_replays", "digest", [("digest", .text), ("expires_at", .int)]),
        (
            "audit_events", "id",
            [
                ("id", .int), ("org_id", .int), ("at", .int), ("actor_kind", .text), ("actor_id", .optionalInt), ("actor_name", .text),
                ("action", .text), ("detail", .text),
            ]
        ),
        ("window_counters", "bucket", [("bucket", .text), ("count", .int), ("expires_at", .int)]),
        // Portal (browser) sessions are not copied: an admin signs in again after the move.
        ("admin_preferences", "admin_id, name", [("admin_id", .int), ("name", .text), ("value", .text)]),
        (
            "provider_operators", "id",
            [("id", .int), ("login_name", .text), ("login_key", .text), ("password_hash", .text), ("disabled", .int), ("created_at", .int)]
        ),
        // Server heartbeats (`instances`) are not copied: the servers on the new database report their own.
        (
            "usage_daily", "org_id, day, admin_id, key_version",
            [("org_id", .int), ("day", .int), ("admin_id", .int), ("key_version", .int), ("requests", .int)]
        ),
        (
            "webhook_endpoints", "id",
            [
                ("id", .int), ("org_id", .int), ("url", .text), ("events", .text), ("enabled", .int), ("secret", .text),
                ("previous_secret", .optionalText), ("previous_until", .optionalInt), ("created_at", .int),
                ("disabled_reason", .optionalText), ("failing_since", .optionalInt),
            ]
        ),
        ("webhook_events", "id", [("id", .text), ("org_id", .int), ("type", .text), ("payload", .text), ("created_at", .int)]),
        (
            "webhook_deliveries", "id",
            [
                ("id", .int), ("endpoint_id", .int), ("org_id", .int), ("event_id", .text), ("status", .text), ("attempts", .int),
                ("next_attempt_at", .optionalInt),
                ("locked_until", .int), ("last_attempt_at", .optionalInt), ("last_status", .optionalInt), ("last_error", .optionalText),
                ("last_duration_ms", .optionalInt), ("created_at", .int),
            ]
        ),
    ]

    /// One table's outcome: rows in the source and in the target after the copy.
    public struct TableCount: Sendable, Equatable {
        public let table: String
        public let source: Int
        public let target: Int
    }

    /// Copies every table. `progress` is called after each batch with (table, copied so far, total).
    /// - Throws: ``StorageError/targetNotEmpty`` when the target already holds organizations.
    public static func copy(
        from source: any DatabaseHandle, to target: any DatabaseHandle, batchSize: Int = 500,
        progress: @Sendable (String, Int, Int) -> Void = { _, _, _ in }
    ) async throws -> [TableCount] {
        let existing = try await target.read { try await count($0, "organizations") }
        guard existing == 0 else { throw StorageError.targetNotEmpty }
        for table in tables {
            let total = try await source.read { try await count($0, table.name) }
            var copied = 0
            progress(table.name, 0, total)
            while copied < total {
                let offset = copied
                let rows = try await source.read { sql in
                    try await sql.raw(
                        """
                        SELECT \(unsafeRaw: table.columns.map(\.0).joined(separator: ", ")) FROM \(unsafeRaw: table.name)
                        ORDER BY \(unsafeRaw: table.order) LIMIT \(bind: batchSize) OFFSET \(bind: offset)
                        """
                    ).all()
                }
                if rows.isEmpty { break }
                try await target.transaction(announcing: .everything) { sql in
                    for row in rows { try await insert(sql, table: table.name, columns: table.columns, row: row) }
                }
                copied += rows.count
                progress(table.name, copied, total)
            }
        }
        if target.kind == .postgresql {
            for table in tables where table.order == "id" && table.columns.first?.1 == .int {
                try await target.transaction(announcing: .everything) { sql in
                    try await sql.raw(
                        """
                        SELECT setval(pg_get_serial_sequence('\(unsafeRaw: table.name)', 'id'),
                          COALESCE((SELECT MAX(id) FROM \(unsafeRaw: table.name)), 0) + 1, false)
                        """
                    ).run()
                }
            }
        }
        var counts: [TableCount] = []
        for table in tables {
            counts.append(
                TableCount(
                    table: table.name, source: try await source.read { try await count($0, table.name) },
                    target: try await target.read { try await count($0, table.name) }))
        }
        return counts
    }

    static func count(_ sql: any SQLDatabase, _ table: String) async throws -> Int {
        try await sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()?.decode(column: "n", as: Int.self) ?? 0
    }

    static func insert(_ sql: any SQLDatabase, table: String, columns: [(String, Kind)], row: any SQLRow) async throws {
        var query: SQLQueryString = "INSERT INTO \(unsafeRaw: table) (\(unsafeRaw: columns.map(\.0).joined(separator: ", "))) VALUES ("
        for (index, (name, kind)) in columns.enumerated() {
            if index > 0 { query = query + ", " }
            switch kind {
            case .int: query = query + "\(bind: try row.decode(column: name, as: Int64.self))"
            case .text: query = query + "\(bind: try row.decode(column: name, as: String.self))"
            case .optionalInt: query = query + "\(bind: try row.decode(column: name, as: Int64?.self))"
            case .optionalText: query = query + "\(bind: try row.decode(column: name, as: String?.self))"
            }
        }
        try await sql.raw(query + ")").run()
    }
}

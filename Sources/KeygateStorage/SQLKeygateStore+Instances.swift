import Foundation
import KeygateCore
import SQLKit

extension SQLKeygateStore: InstanceStore {
    // Heartbeats change nothing a cached session depends on: nothing is announced.

    public func recordInstance(_ heartbeat: InstanceHeartbeat) async throws {
        try await db.transaction(announcing: .nothing) { sql in
            try await sql.raw(
                """
                INSERT INTO instances (id, primary_key_id, key_ids, seen_at)
                VALUES (\(bind: heartbeat.id), \(bind: heartbeat.primaryKeyID), \(bind: heartbeat.keyIDs.joined(separator: ",")),
                  \(bind: heartbeat.seenAt.millis))
                ON CONFLICT (id) DO UPDATE SET primary_key_id = excluded.primary_key_id, key_ids = excluded.key_ids,
                  seen_at = excluded.seen_at
                """
            ).run()
        }
    }

    public func instances(seenSince since: Date) async throws -> [InstanceHeartbeat] {
        try await db.read { sql in
            try await sql.raw("SELECT * FROM instances WHERE seen_at >= \(bind: since.millis) ORDER BY seen_at, id").all().map { row in
                InstanceHeartbeat(
                    id: try row.decode(column: "id", as: String.self),
                    primaryKeyID: try row.decode(column: "primary_key_id", as: String.self),
                    keyIDs: try row.decode(column: "key_ids", as: String.self).split(separator: ",").map(String.init),
                    seenAt: Date(millis: try row.decode(column: "seen_at", as: Int64.self)))
            }
        }
    }

    public func deleteInstances(id: String?, seenBefore before: Date?) async throws {
        try await db.transaction(announcing: .nothing) { sql in
            if let id { try await sql.raw("DELETE FROM instances WHERE id = \(bind: id)").run() }
            if let before { try await sql.raw("DELETE FROM instances WHERE seen_at < \(bind: before.millis)").run() }
        }
    }
}

import Foundation
import KeygateCore
import SQLKit

/// ``WindowCounters`` in the database, shared by every instance: a limit holds once, not once per instance.
///
/// `acquire` upserts each bucket with `ON CONFLICT … DO UPDATE … RETURNING count` in one transaction; the row
/// lock serializes concurrent requests on every instance, so the count is exact. When any bucket went past its
/// budget the increments are undone in the same transaction, so a refused request costs nothing. Counter writes
/// announce nothing: no session snapshot depends on them.
public struct SQLWindowCounters: WindowCounters {
    let db: any DatabaseHandle

    /// Creates counters over an opened (and migrated) database.
    public init(db: any DatabaseHandle) { self.db = db }

    public func acquire(_ buckets: [CounterBucket]) async throws -> CounterBucket? {
        try await db.transaction(announcing: false) { sql in
            var full: CounterBucket?
            for bucket in buckets {
                let count = try await Self.upsert(sql, bucket)
                if count > bucket.budget && full == nil { full = bucket }
            }
            if full != nil {
                for bucket in buckets {
                    try await sql.raw("UPDATE window_counters SET count = count - 1 WHERE bucket = \(bind: bucket.key)").run()
                }
            }
            return full
        }
    }

    public func increment(_ buckets: [CounterBucket]) async throws {
        try await db.transaction(announcing: false) { sql in
            for bucket in buckets { _ = try await Self.upsert(sql, bucket) }
        }
    }

    public func counts(_ keys: [String]) async throws -> [String: Int] {
        try await db.read { sql in
            var result: [String: Int] = [:]
            for key in keys {
                result[key] =
                    try await sql.raw("SELECT count FROM window_counters WHERE bucket = \(bind: key)").first()?
                    .decode(column: "count", as: Int.self) ?? 0
            }
            return result
        }
    }

    public func reset(_ key: String) async throws {
        try await db.transaction(announcing: false) { sql in try await sql.raw("DELETE FROM window_counters WHERE bucket = \(bind: key)").run() }
    }

    public func prune(now: Date) async throws {
        try await db.transaction(announcing: false) { sql in
            try await sql.raw("DELETE FROM window_counters WHERE expires_at <= \(bind: now.millis)").run()
        }
    }

    private static func upsert(_ sql: any SQLDatabase, _ bucket: CounterBucket) async throws -> Int {
        let row = try await sql.raw(
            """
            INSERT INTO window_counters (bucket, count, expires_at) VALUES (\(bind: bucket.key), 1, \(bind: bucket.expiresAt.millis))
            ON CONFLICT (bucket) DO UPDATE SET count = window_counters.count + 1 RETURNING count
            """
        ).first()
        return try row?.decode(column: "count", as: Int.self) ?? 0
    }
}

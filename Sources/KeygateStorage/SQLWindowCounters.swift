import Foundation
import KeygateCore
import SQLKit

/// ``WindowCounters`` in the database, shared by every instance: a limit holds once, not once per instance.
///
/// `acquire` upserts each bucket with `ON CONFLICT … DO UPDATE … RETURNING count` in one transaction (and reads a
/// sliding bucket's previous window); the row lock serializes concurrent requests on every instance, so the count is
/// exact. When any bucket went past its
/// budget the increments are undone in the same transaction, so a refused request costs nothing. Counter writes
/// announce nothing: no session snapshot depends on them.
public struct SQLWindowCounters: WindowCounters {
    let db: any DatabaseHandle

    /// Creates counters over an opened (and migrated) database.
    public init(db: any DatabaseHandle) { self.db = db }

    public func acquire(_ buckets: [CounterBucket]) async throws -> CounterBucket? {
        try await db.transaction(announcing: .nothing) { sql in
            var full: CounterBucket?
            for bucket in buckets {
                // The upsert takes the current window's row lock first, so concurrent attempts on every instance
                // read the previous window's count one after another.
                let count = try await Self.upsert(sql, bucket)
                var previous = 0
                if let previousKey = bucket.previousKey {
                    previous =
                        try await sql.raw("SELECT count FROM window_counters WHERE bucket = \(bind: previousKey)").first()?
                        .decode(column: "count", as: Int.self) ?? 0
                }
                if bucket.estimate(previous: previous, current: count) > bucket.budget && full == nil { full = bucket }
            }
            if full != nil {
                for bucket in buckets {
                    try await sql.raw("UPDATE window_counters SET count = count - 1 WHERE bucket = \(bind: bucket.key)").run()
                }
            }
            return full
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

    public func recordSuccess(release: [CounterBucket], forget: [String], remember: String, until: Date) async throws {
        try await db.transaction(announcing: .nothing) { sql in
            for bucket in release where !forget.contains(bucket.key) {
                try await sql.raw("UPDATE window_counters SET count = count - 1 WHERE bucket = \(bind: bucket.key) AND count > 0").run()
            }
            for key in forget { try await sql.raw("DELETE FROM window_counters WHERE bucket = \(bind: key)").run() }
            try await sql.raw(
                """
                INSERT INTO window_counters (bucket, count, expires_at) VALUES (\(bind: remember), 1, \(bind: until.millis))
                ON CONFLICT (bucket) DO UPDATE SET count = 1, expires_at = \(bind: until.millis)
                """
            ).run()
        }
    }

    public func entries(prefix: String, now: Date) async throws -> [(key: String, count: Int, expiresAt: Date)] {
        try await db.read { sql in
            try await sql.raw(
                """
                SELECT bucket, count, expires_at FROM window_counters
                WHERE substr(bucket, 1, \(bind: prefix.count)) = \(bind: prefix) AND expires_at > \(bind: now.millis) AND count > 0
                ORDER BY bucket
                """
            ).all().map {
                (
                    key: try $0.decode(column: "bucket", as: String.self), count: try $0.decode(column: "count", as: Int.self),
                    expiresAt: Date(millis: try $0.decode(column: "expires_at", as: Int64.self))
                )
            }
        }
    }

    public func prune(now: Date) async throws {
        _ = try await SQLKeygateStore.deleteInBatches(db, table: "window_counters", key: "bucket", where: "expires_at <= \(bind: now.millis)")
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

import Foundation
import KeygateCore
import SQLKit

extension SQLKeygateStore: UsageStore {
    // Usage is no cached session's business: nothing is announced.

    public func addUsage(_ counts: [UsageCount]) async throws {
        guard !counts.isEmpty else { return }
        try await db.transaction(announcing: .nothing) { sql in
            // Multi-row upserts, 200 rows a statement (a flush of a busy interval is a few statements, not thousands).
            for chunk in stride(from: 0, to: counts.count, by: 200).map({ counts[$0..<min($0 + 200, counts.count)] }) {
                var query = SQLQueryString("INSERT INTO usage_daily (org_id, day, admin_id, key_version, requests) VALUES ")
                for (index, c) in chunk.enumerated() {
                    if index > 0 { query.appendLiteral(", ") }
                    query.appendInterpolation(
                        "(\(bind: c.orgID), \(bind: c.day), \(bind: c.adminID), \(bind: c.keyVersion), \(bind: c.requests))" as SQLQueryString)
                }
                query.appendLiteral(
                    " ON CONFLICT (org_id, day, admin_id, key_version) DO UPDATE SET requests = usage_daily.requests + excluded.requests")
                try await sql.raw(query).run()
            }
        }
    }

    public func usage(orgID: Int64, fromDay: Int64, toDay: Int64) async throws -> [UsageCount] {
        try await db.read { sql in
            try await sql.raw(
                """
                SELECT * FROM usage_daily WHERE org_id = \(bind: orgID) AND day >= \(bind: fromDay) AND day <= \(bind: toDay)
                ORDER BY day, admin_id, key_version
                """
            ).all().map { row in
                UsageCount(
                    orgID: try row.decode(column: "org_id", as: Int64.self), adminID: try row.decode(column: "admin_id", as: Int64.self),
                    day: try row.decode(column: "day", as: Int64.self), keyVersion: try row.decode(column: "key_version", as: Int64.self),
                    requests: try row.decode(column: "requests", as: Int64.self))
            }
        }
    }
}

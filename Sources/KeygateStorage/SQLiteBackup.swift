import Foundation
import SQLKit

/// SQLite's online copy and its check, for `keygate backup` (the SQL stays in this module).
public enum SQLiteBackup {
    /// Writes one consistent snapshot of `db` into `path` (an empty file, whose mode it keeps): SQLite's `VACUUM INTO`,
    /// on a reader, so the server's writes go on meanwhile.
    public static func copy(_ db: any DatabaseHandle, to path: String) async throws {
        try await db.read { sql in try await sql.raw("VACUUM INTO \(bind: path)").run() }
    }

    /// What `PRAGMA integrity_check` reports: `["ok"]` for a sound file.
    public static func integrityCheck(_ db: any DatabaseHandle) async throws -> [String] {
        try await db.read { sql in
            try await sql.raw("PRAGMA integrity_check").all().map { try $0.decode(column: "integrity_check", as: String.self) }
        }
    }
}

import CoreMetrics
import Foundation
import KeygateCore
import Logging

/// Opens the database a URL names and migrates it.
public enum Storage {
    /// Opens `url`: `postgres://…` (see ``PostgresDatabaseHandle``), or SQLite as a file path,
    /// `sqlite://PATH` / `sqlite:PATH`, or `:memory:`.
    /// - Parameter metrics: when given, every store call is timed and counted (``InstrumentedDatabaseHandle``).
    public static func open(
        url: String, logger: Logger, migrate: Bool = true, metrics: (any MetricsFactory)? = nil
    ) async throws -> (any DatabaseHandle, SQLKeygateStore) {
        var handle: any DatabaseHandle
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            handle = try await PostgresDatabaseHandle.open(url: url, logger: logger)
        } else {
            guard let path = sqlitePath(url), !path.isEmpty else { throw StorageError.unsupportedURL(url) }
            handle = try await SQLiteDatabaseHandle.open(path: path, logger: logger)
        }
        if migrate {
            do { try await Migrations.run(on: handle) } catch {
                try? await handle.shutdown()
                throw error
            }
        }
        if let metrics { handle = InstrumentedDatabaseHandle(handle, factory: metrics) }
        return (handle, SQLKeygateStore(db: handle))
    }

    /// The SQLite path `url` names (`sqlite://` and `sqlite:` dropped; `:memory:` as is); nil for PostgreSQL.
    public static func sqlitePath(_ url: String) -> String? {
        guard !url.hasPrefix("postgres://"), !url.hasPrefix("postgresql://") else { return nil }
        var path = url
        for prefix in ["sqlite://", "sqlite:"] where path.hasPrefix(prefix) { path = String(path.dropFirst(prefix.count)) }
        return path
    }

    /// `text` with the password of every `scheme://user:password@host` in it replaced by `***`: database URLs are
    /// printed in the banner, by `migrate` and in errors, and the password must never reach a terminal or a log.
    public static func redacted(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let scheme = rest.range(of: "://") {
            out += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == " " || $0 == "#" }) ?? rest.endIndex
            guard let at = rest[..<authorityEnd].lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") else { continue }
            out += rest[..<colon] + ":***"
            rest = rest[at...]
        }
        return out + rest
    }
}

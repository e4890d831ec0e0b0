import Foundation
import KeygateCore
import Logging

/// Opens the database a URL names and migrates it.
public enum Storage {
    /// Opens `url`: `postgres://…` (see ``PostgresDatabaseHandle``), or SQLite as a file path,
    /// `sqlite://PATH` / `sqlite:PATH`, or `:memory:`.
    public static func open(url: String, logger: Logger, migrate: Bool = true) async throws -> (any DatabaseHandle, SQLKeygateStore) {
        let handle: any DatabaseHandle
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            handle = try await PostgresDatabaseHandle.open(url: url, logger: logger)
        } else {
            var path = url
            for prefix in ["sqlite://", "sqlite:"] where path.hasPrefix(prefix) { path = String(path.dropFirst(prefix.count)) }
            guard !path.isEmpty else { throw StorageError.unsupportedURL(url) }
            handle = try await SQLiteDatabaseHandle.open(path: path, logger: logger)
        }
        if migrate {
            do { try await Migrations.run(on: handle) } catch {
                try? await handle.shutdown()
                throw error
            }
        }
        return (handle, SQLKeygateStore(db: handle))
    }
}

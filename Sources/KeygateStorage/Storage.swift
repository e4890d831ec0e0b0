import CoreMetrics
import Foundation
import KeygateCore
import Logging

/// Opens the database a URL names and migrates it.
public enum Storage {
    /// Opens `url` (`postgres://…`, see ``PostgresDatabaseHandle``; or SQLite as a file path, `sqlite://PATH` /
    /// `sqlite:PATH`, or `:memory:`), runs its background work (``DatabaseHandle/runBackground()``) in a child task,
    /// waits until it answers, migrates it, and runs `body` with it; then stops the background work and closes the
    /// connections, whether `body` returned or threw. The only way to a database: nothing that uses one can outlive
    /// it, and its background work cannot outlive its user.
    /// - Parameters:
    ///   - metrics: when given, every store call is timed and counted (``InstrumentedDatabaseHandle``).
    ///   - waitLimit: PostgreSQL: how long one store call waits for a connection and its answers (`database.waitSeconds`).
    ///   - notifyURL: PostgreSQL: a direct URL for the change channel's `LISTEN` (`database.notifyUrl`).
    public static func withDatabase<T>(
        url: String, logger: Logger, migrate: Bool = true, metrics: (any MetricsFactory)? = nil,
        waitLimit: Duration = .seconds(ConfigKeys.databaseWaitSeconds.defaultValue), notifyURL: String? = nil,
        _ body: (any DatabaseHandle, SQLKeygateStore) async throws -> T
    ) async throws -> T {
        var handle: any DatabaseHandle
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            handle = try PostgresDatabaseHandle(url: url, logger: logger, waitLimit: waitLimit, notifyURL: notifyURL)
        } else {
            guard let path = sqlitePath(url), !path.isEmpty else { throw StorageError.unsupportedURL(url) }
            handle = try await SQLiteDatabaseHandle.open(path: path, logger: logger)
        }
        let opened = handle
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { await opened.runBackground() }
            func close() async {
                opened.stopBackground()
                try? await group.waitForAll()
                try? await opened.shutdown()
            }
            do {
                try await opened.ready()
                if migrate { try await PostgresDatabaseHandle.$unbounded.withValue(true) { try await Migrations.run(on: opened) } }
                if let metrics { handle = InstrumentedDatabaseHandle(opened, factory: metrics) }
                let result = try await body(handle, SQLKeygateStore(db: handle))
                await close()
                return result
            } catch {
                await close()
                throw error
            }
        }
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

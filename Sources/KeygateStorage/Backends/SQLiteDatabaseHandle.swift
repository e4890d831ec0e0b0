import Foundation
import KeygateCore
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The embedded SQLite backend: one writer connection whose transactions are serialized, plus reader
/// connections that run concurrently thanks to WAL.
///
/// `BEGIN IMMEDIATE` takes SQLite's write lock at the start of each transaction and `busy_timeout` makes another
/// process (the CLI while the server runs) wait for it instead of failing. An in-memory database (tests only)
/// uses its single connection for everything, serialized.
///
/// Changes are announced through a change log (`change_log`): every announcing transaction appends one row with
/// its ``ChangeScope`` and the writing process's id; ``watchChanges()`` reads the rows after the last one it saw
/// every `pollInterval` (20 ms), which is how a server learns what the CLI (or a second server on the same file)
/// changed. Sequence numbers are gapless (one writer at a time, and a rolled-back row takes no number), so a reader
/// that finds a gap knows rows were pruned before it read them and invalidates everything. The log keeps its
/// newest ``logRetention`` rows: appends prune it every 256 rows.
///
/// **Checkpoints off the request path.** SQLite's default folds the WAL back into the database file (a checkpoint,
/// with an fsync) inside whichever commit crosses 1,000 pages: a login's commit right after housekeeping deleted
/// 150,000 rows paid 80-300 ms for it (measured by `scripts/bench/scale`). The writer's automatic checkpoint is off
/// and a checkpointer connection, on its own thread, runs a `PASSIVE` checkpoint every ``checkpointInterval``
/// (it never waits for readers or writers, and writers never wait for it), in ``runBackground()``.
public final class SQLiteDatabaseHandle: DatabaseHandle {
    public let kind = DatabaseKind.sqlite
    public let changes = ChangeFeed()
    public let announcesChanges = true
    /// The writer and the readers (the checkpointer serves no store call).
    public var poolSize: Int { 1 + readers.count }
    /// How often ``watchChanges()`` reads the change log: the usual bound on how long a server's session cache can
    /// miss another process's change.
    public static let pollInterval: Duration = .milliseconds(20)
    /// How often the checkpointer folds the WAL into the database file.
    public static let checkpointInterval: Duration = .seconds(1)
    private let writer: SQLiteConnection
    private let readers: [SQLiteConnection]
    private let checkpointer: (connection: SQLiteConnection, pool: NIOThreadPool)?
    private let writeLock = AsyncMutex()
    private let next = Atomic<Int>(0)
    /// Written as the origin of this process's change-log rows, so that its own watcher skips them.
    let instanceID = UUID().uuidString
    /// How many change-log rows are kept (a server more than this many changes behind invalidates everything).
    static let logRetention: Int64 = 4096
    private let closed = Atomic<Bool>(false)
    private let stop = StopSignal()
    private let logger: Logger

    private init(
        writer: SQLiteConnection, readers: [SQLiteConnection],
        checkpointer: (connection: SQLiteConnection, pool: NIOThreadPool)?, logger: Logger
    ) {
        self.writer = writer
        self.readers = readers
        self.checkpointer = checkpointer
        self.logger = logger
    }

    /// Opens (creating if needed) the database file at `path`, or an in-memory database for `:memory:`.
    /// - Parameter readerCount: reader connections besides the writer (file databases only).
    public static func open(path: String, readerCount: Int = 2, logger: Logger) async throws -> SQLiteDatabaseHandle {
        let inMemory = path == ":memory:"
        if !inMemory {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            // The file holds sealed keys, password hashes and the audit trail: create it 0600 before SQLite does (its
            // WAL and shared-memory files take the database file's mode).
            let fd = Glibc.open(path, O_RDWR | O_CREAT | O_EXCL, 0o600)
            if fd >= 0 { Glibc.close(fd) }
        }
        let storage: SQLiteConnection.Storage = inMemory ? .memory : .file(path: path)
        let writer = try await SQLiteConnection.open(storage: storage, logger: logger)
        try await configure(writer, inMemory: inMemory)
        if !inMemory {
            // WAL is what concurrent reads, online backups (`keygate backup`) and Litestream replication rely on; a
            // file system that refuses it (some network mounts) leaves the database in a rollback journal.
            let mode = try await sql(writer).raw("PRAGMA journal_mode").first()?.decode(column: "journal_mode", as: String.self)
            if mode?.lowercased() != "wal" {
                logger.warning(
                    "the database is not in WAL mode: online backups and Litestream replication need it; put it on a local file system",
                    metadata: ["journalMode": "\(mode ?? "unknown")", "file": "\(path)"])
            }
        }
        var readers: [SQLiteConnection] = []
        var checkpointer: (connection: SQLiteConnection, pool: NIOThreadPool)?
        if !inMemory {
            for _ in 0..<max(1, readerCount) {
                let reader = try await SQLiteConnection.open(storage: storage, logger: logger)
                try await configure(reader, inMemory: false)
                readers.append(reader)
            }
            try await sql(writer).raw("PRAGMA wal_autocheckpoint = 0").run()
            let pool = NIOThreadPool(numberOfThreads: 1)
            pool.start()
            let connection = try await SQLiteConnection.open(
                storage: storage, threadPool: pool, logger: logger, on: MultiThreadedEventLoopGroup.singleton.any())
            try await configure(connection, inMemory: false)
            checkpointer = (connection, pool)
        }
        return SQLiteDatabaseHandle(writer: writer, readers: readers, checkpointer: checkpointer, logger: logger)
    }

    /// The SQLKit view of a connection. Query logging is off: SQLKit would log bind values (password hashes,
    /// sealed keys, token digests) at debug level, and nothing secret-adjacent belongs in a log.
    private static func sql(_ connection: SQLiteConnection) -> any SQLDatabase { connection.sql(queryLogLevel: nil) }

    private static func configure(_ connection: SQLiteConnection, inMemory: Bool) async throws {
        let sql = Self.sql(connection)
        if !inMemory {
            try await sql.raw("PRAGMA journal_mode = WAL").run()
            // After a checkpoint that lets the WAL start over, truncate it to 16 MiB: a burst (an import, a mass expiry)
            // must not leave a 100 MB file behind.
            try await sql.raw("PRAGMA journal_size_limit = 16777216").run()
            try await sql.raw("PRAGMA synchronous = NORMAL").run()
        }
        try await sql.raw("PRAGMA busy_timeout = 10000").run()
        try await sql.raw("PRAGMA foreign_keys = ON").run()
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await Self.answeringBusy {
            if readers.isEmpty {
                return try await writeLock.withLock { try await body(Self.sql(writer)) }
            }
            let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
            return try await body(Self.sql(readers[index % readers.count]))
        }
    }

    /// The file stayed locked for the whole busy timeout (another process, a backup, a long import): `503` with
    /// `Retry-After`, as a database that does not answer, rather than a 500.
    static func answeringBusy<T>(_ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch let error as SQLiteError where [.busy, .locked, .busyTimeout, .busyInRecovery, .busyInSnapshot].contains(error.reason) {
            throw KeygateError.unavailable(retryAfterSeconds: 1)
        }
    }

    public func transaction<T: Sendable>(
        announcingEach scopes: [ChangeScope], _ body: @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        try await changes.afterTransaction(announcing: scopes) {
            try await Self.answeringBusy {
                try await writeLock.withLock {
                    try await runTransaction(on: Self.sql(writer), begin: "BEGIN IMMEDIATE", logger: logger) { sql in
                        let value = try await body(sql)
                        for scope in scopes where scope != .nothing {
                            let seq = try await sql.raw(
                                "INSERT INTO change_log (origin, scope) VALUES (\(bind: instanceID), \(bind: scope.wire)) RETURNING seq"
                            ).first()?.decode(column: "seq", as: Int64.self)
                            if let seq, seq % 256 == 0 {
                                try await sql.raw("DELETE FROM change_log WHERE seq <= \(bind: seq - Self.logRetention)").run()
                            }
                        }
                        return value
                    }
                }
            }
        }
    }

    /// Polls the change log and publishes other processes' changes, in order. This process's own rows are skipped:
    /// it invalidated its caches right after committing them.
    public func watchChanges() async throws {
        var last = try await read { sql in
            try await sql.raw("SELECT COALESCE(MAX(seq), 0) AS seq FROM change_log").first()?.decode(column: "seq", as: Int64.self) ?? 0
        }
        changes.publish(.listening)
        while true {
            try await Task.sleep(for: Self.pollInterval)
            var more = true
            while more {
                let since = last
                let rows = try await read { sql in
                    try await sql.raw("SELECT seq, origin, scope FROM change_log WHERE seq > \(bind: since) ORDER BY seq LIMIT 1000")
                        .all()
                        .map { row in
                            (
                                try row.decode(column: "seq", as: Int64.self), try row.decode(column: "origin", as: String.self),
                                try row.decode(column: "scope", as: String.self)
                            )
                        }
                }
                guard let first = rows.first, let newest = rows.last else { break }
                if first.0 != last + 1 {
                    changes.publish(.changed(.everything))
                } else {
                    for (_, origin, scope) in rows where origin != instanceID { changes.publish(.changed(ChangeScope(wire: scope[...]))) }
                }
                last = newest.0
                more = rows.count == 1000
            }
        }
    }

    /// Checkpoints every ``checkpointInterval`` until stopped or cancelled (a file database; an in-memory one has no WAL).
    public func runBackground() async {
        guard let connection = checkpointer?.connection else { return }
        let logger = self.logger
        await stop.run {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.checkpointInterval)
                guard !Task.isCancelled else { break }
                do {
                    try await Self.sql(connection).raw("PRAGMA wal_checkpoint(PASSIVE)").run()
                } catch {
                    logger.debug("checkpoint skipped", metadata: ["error": "\(String(reflecting: error))"])
                }
            }
        }
    }

    public func stopBackground() { stop.stop() }

    /// A file that opened answers: nothing to wait for.
    public func ready() async throws {}

    public func shutdown() async throws {
        guard !closed.exchange(true, ordering: .sequentiallyConsistent) else { return }
        if let checkpointer {
            try await checkpointer.connection.close()
            try await checkpointer.pool.shutdownGracefully()
        }
        for reader in readers { try await reader.close() }
        try await writer.close()
    }
}

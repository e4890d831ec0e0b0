import Foundation
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
/// Changes are announced through a one-row counter (`change_counter`) that every announcing transaction bumps;
/// ``watchChanges()`` polls it every `pollInterval` (20 ms), which is how a server learns of the CLI's writes.
public final class SQLiteDatabaseHandle: DatabaseHandle {
    public let dialectName = "sqlite"
    public let changes = ChangeFeed()
    public let announcesChanges = true
    /// How often ``watchChanges()`` reads the change counter: the bound on how long a server's session cache can
    /// miss another process's change.
    public static let pollInterval: Duration = .milliseconds(20)
    private let writer: SQLiteConnection
    private let readers: [SQLiteConnection]
    private let writeLock = AsyncMutex()
    private let next = Atomic<Int>(0)
    /// The change counter's value after this process's latest announcing commit.
    private let ownSeq = Atomic<Int64>(-1)
    private let closed = Atomic<Bool>(false)
    private let logger: Logger

    private init(writer: SQLiteConnection, readers: [SQLiteConnection], logger: Logger) {
        self.writer = writer
        self.readers = readers
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
        var readers: [SQLiteConnection] = []
        if !inMemory {
            for _ in 0..<max(1, readerCount) {
                let reader = try await SQLiteConnection.open(storage: storage, logger: logger)
                try await configure(reader, inMemory: false)
                readers.append(reader)
            }
        }
        return SQLiteDatabaseHandle(writer: writer, readers: readers, logger: logger)
    }

    /// The SQLKit view of a connection. Query logging is off: SQLKit would log bind values (password hashes,
    /// sealed keys, token digests) at debug level, and nothing secret-adjacent belongs in a log.
    private static func sql(_ connection: SQLiteConnection) -> any SQLDatabase { connection.sql(queryLogLevel: nil) }

    private static func configure(_ connection: SQLiteConnection, inMemory: Bool) async throws {
        let sql = Self.sql(connection)
        if !inMemory {
            try await sql.raw("PRAGMA journal_mode = WAL").run()
            try await sql.raw("PRAGMA synchronous = NORMAL").run()
        }
        try await sql.raw("PRAGMA busy_timeout = 10000").run()
        try await sql.raw("PRAGMA foreign_keys = ON").run()
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        if readers.isEmpty {
            return try await writeLock.withLock { try await body(Self.sql(writer)) }
        }
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
        return try await body(Self.sql(readers[index % readers.count]))
    }

    public func transaction<T: Sendable>(announcing: Bool, _ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await changes.afterTransaction(announcing: announcing) {
            let (value, seq) = try await writeLock.withLock {
                try await runTransaction(on: Self.sql(writer), begin: "BEGIN IMMEDIATE", logger: logger) { sql -> (T, Int64?) in
                    let value = try await body(sql)
                    guard announcing else { return (value, nil) }
                    let seq = try await sql.raw("UPDATE change_counter SET seq = seq + 1 WHERE id = 1 RETURNING seq").first()?
                        .decode(column: "seq", as: Int64.self)
                    return (value, seq)
                }
            }
            if let seq { ownSeq.store(seq, ordering: .sequentiallyConsistent) }
            return value
        }
    }

    /// Polls the change counter. A new value equal to the one this process's own last announcing commit produced
    /// is not published: every change counted before it committed earlier (the write lock serializes them), and
    /// this process cleared its caches after that commit, so nothing is left to clear.
    public func watchChanges() async throws {
        var last = try await changeCounter()
        changes.publish(.listening)
        while true {
            try await Task.sleep(for: Self.pollInterval)
            let now = try await changeCounter()
            if now != last {
                last = now
                if now != ownSeq.load(ordering: .sequentiallyConsistent) { changes.publish(.changed) }
            }
        }
    }

    private func changeCounter() async throws -> Int64 {
        try await read { sql in
            try await sql.raw("SELECT seq FROM change_counter WHERE id = 1").first()?.decode(column: "seq", as: Int64.self) ?? 0
        }
    }

    public func shutdown() async throws {
        guard !closed.exchange(true, ordering: .sequentiallyConsistent) else { return }
        for reader in readers { try await reader.close() }
        try await writer.close()
    }
}

import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO
import Synchronization

/// The embedded SQLite backend: one writer connection whose transactions are serialized, plus reader
/// connections that run concurrently thanks to WAL.
///
/// `BEGIN IMMEDIATE` takes SQLite's write lock at the start of each transaction and `busy_timeout` makes another
/// process (the CLI while the server runs) wait for it instead of failing. An in-memory database (tests only)
/// uses its single connection for everything, serialized.
public final class SQLiteDatabaseHandle: DatabaseHandle {
    public let dialectName = "sqlite"
    private let writer: SQLiteConnection
    private let readers: [SQLiteConnection]
    private let writeLock = AsyncMutex()
    private let next = Atomic<Int>(0)
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
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
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

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await writeLock.withLock {
            try await runTransaction(on: Self.sql(writer), begin: "BEGIN IMMEDIATE", logger: logger, body)
        }
    }

    public func shutdown() async throws {
        for reader in readers { try await reader.close() }
        try await writer.close()
    }
}

import KeygateCore
import Logging
import SQLKit

/// The databases Keygate runs on.
public enum DatabaseKind: String, Sendable, CaseIterable {
    /// Embedded SQLite: one instance, the default.
    case sqlite
    /// PostgreSQL: several instances sharing one database.
    case postgresql
}

/// A database the SQL store runs on: reads anywhere, writes in serialized transactions.
///
/// The SQL store is written once against SQLKit; a backend only decides how connections are opened, pooled and
/// how a transaction begins. SQLite is the embedded default; PostgreSQL plugs in behind the same protocol.
public protocol DatabaseHandle: Sendable {
    /// Which database this is: the few dialect-specific statements (id columns, row locks) and choices (where request
    /// limits are counted) key on it.
    var kind: DatabaseKind { get }
    /// Runs `body` outside a transaction (each statement sees committed data).
    func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// Runs `body` in one transaction; commits when it returns, rolls back when it throws.
    ///
    /// `scopes` name what the transaction can change for cached session snapshots (see ``ChangeScope``), each
    /// announced (an empty list, or ``ChangeScope/nothing``, announces nothing): to other processes in the same transaction
    /// (PostgreSQL `pg_notify`, or a row in the SQLite change log), and to this process's ``changes`` right after
    /// `COMMIT`, before this returns.
    func transaction<T: Sendable>(announcingEach scopes: [ChangeScope], _ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// This process's change feed.
    var changes: ChangeFeed { get }
    /// How many connections store calls may use at once (the pool's size).
    var poolSize: Int { get }
    /// Whether writes are announced to other processes (false only when the database URL turns it off).
    var announcesChanges: Bool { get }
    /// Publishes other processes' announcements to ``changes`` (``ChangeFeed/Event/listening`` first) until
    /// cancelled; throws when the channel fails.
    func watchChanges() async throws
    /// The handle's own background work, until the calling task is cancelled: the PostgreSQL pool's connection
    /// management (no query is answered unless it runs), SQLite's WAL checkpoints. It runs in a child task of
    /// ``Storage/withDatabase(url:logger:migrate:metrics:_:)``, beside everything that uses the handle: structured,
    /// so it can neither outlive its user nor be forgotten by one.
    func runBackground() async
    /// Asks ``runBackground()`` to end now (idempotent). The PostgreSQL pool then closes its connections, so a query
    /// waiting on a database that does not answer fails at once instead of holding a stopping server; the server's
    /// ``DatabaseService`` asks this last in its service group's shutdown.
    func stopBackground()
    /// Waits until the database answers, at most the handle's connect timeout; throws ``StorageError/unreachable(_:)``.
    func ready() async throws
    /// Closes every connection, after ``runBackground()`` has ended. Idempotent.
    func shutdown() async throws
}

/// A one-shot "stop" for a handle's background work: ``run(_:)`` runs `work` until ``stop()`` is called or the task is
/// cancelled, whichever comes first (`work` is cancelled then).
final class StopSignal: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() { (stream, continuation) = AsyncStream.makeStream(of: Void.self) }

    func stop() { continuation.finish() }

    func run(_ work: @escaping @Sendable () async -> Void) async {
        let stream = self.stream
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await work() }
            // Ends when stopped, or when this task is cancelled (an AsyncStream's iteration then ends too).
            group.addTask { for await _ in stream {} }
            await group.next()
            group.cancelAll()
        }
    }
}

/// Runs `body` between `begin` and `COMMIT` on one connection, rolling back when it throws. Each backend decides
/// only how the transaction begins (`BEGIN IMMEDIATE` on SQLite takes the write lock at once).
func runTransaction<T: Sendable>(
    on sql: any SQLDatabase, begin: SQLQueryString, logger: Logger, _ body: @Sendable (any SQLDatabase) async throws -> T
) async throws -> T {
    try await sql.raw(begin).run()
    do {
        let value = try await body(sql)
        try await sql.raw("COMMIT").run()
        return value
    } catch {
        do { try await sql.raw("ROLLBACK").run() } catch {
            // A call cut off (a stopping server, a database that did not answer) has no connection to roll back on;
            // the server rolls the transaction back when the connection closes.
            if !(error is CancellationError) {
                logger.warning("rollback failed", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
        throw error
    }
}

extension DatabaseHandle {
    /// One transaction announcing one scope (most writes change one thing).
    public func transaction<T: Sendable>(announcing scope: ChangeScope, _ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await transaction(announcingEach: [scope], body)
    }
}

extension ChangeFeed {
    /// Runs a transaction and, when it announces, tells this process's caches right after it returns, whether
    /// it committed or failed: whether a failed `COMMIT` landed is unknown, and invalidating is always safe.
    func afterTransaction<T: Sendable>(announcing scopes: [ChangeScope], _ transaction: () async throws -> T) async throws -> T {
        do {
            let value = try await transaction()
            for scope in scopes where scope != .nothing { publish(.changed(scope)) }
            return value
        } catch {
            for scope in scopes where scope != .nothing { publish(.changed(scope)) }
            throw error
        }
    }
}

/// An async mutual-exclusion lock (FIFO) for serializing transactions on one connection.
actor AsyncMutex {
    private var locked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Waits until the lock is free and takes it.
    func lock() async {
        if !locked {
            locked = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    /// Releases the lock to the next waiter.
    func unlock() {
        if waiters.isEmpty { locked = false } else { waiters.removeFirst().resume() }
    }

    /// Runs `body` holding the lock.
    nonisolated func withLock<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await lock()
        do {
            let value = try await body()
            await unlock()
            return value
        } catch {
            await unlock()
            throw error
        }
    }
}

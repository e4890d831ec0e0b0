import CoreMetrics
import KeygateCore
import SQLKit

/// A database handle that times every read and transaction and counts those in flight, around any backend.
///
/// What it measures, for `keygate_db_*` (see `docs/metrics.md`):
/// - `keygate_db_query_duration_seconds{kind="read|transaction"}`: one store call from asking for a connection
///   to giving it back, so the wait for a free connection (pool use) is in it, as is a transaction's `COMMIT`;
/// - `keygate_db_queries_in_flight`: store calls started and not finished (at the pool size, callers queue);
/// - `keygate_db_pool_connections`: the connections the backend may open (SQLite: the writer and the readers).
///
/// The change watcher's long-lived `LISTEN` (or poll) is not a query and is passed through untimed.
public final class InstrumentedDatabaseHandle: DatabaseHandle {
    private let base: any DatabaseHandle
    private let readTimer: Timer
    private let transactionTimer: Timer
    private let inFlight: Meter

    /// Wraps `base`, making its handles from `factory`.
    public init(_ base: any DatabaseHandle, factory: any MetricsFactory) {
        self.base = base
        self.readTimer = Timer(
            label: "keygate_db_query_duration_seconds", dimensions: [("kind", "read")], preferredDisplayUnit: .seconds, factory: factory)
        self.transactionTimer = Timer(
            label: "keygate_db_query_duration_seconds", dimensions: [("kind", "transaction")], preferredDisplayUnit: .seconds,
            factory: factory)
        self.inFlight = Meter(label: "keygate_db_queries_in_flight", factory: factory)
        Meter(label: "keygate_db_pool_connections", factory: factory).set(base.poolSize)
    }

    public var kind: DatabaseKind { base.kind }
    public var changes: ChangeFeed { base.changes }
    public var announcesChanges: Bool { base.announcesChanges }
    public var poolSize: Int { base.poolSize }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await measured(readTimer) { try await base.read(body) }
    }

    public func transaction<T: Sendable>(
        announcingEach scopes: [ChangeScope], _ body: @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        try await measured(transactionTimer) { try await base.transaction(announcingEach: scopes, body) }
    }

    public func watchChanges() async throws { try await base.watchChanges() }
    public func runBackground() async { await base.runBackground() }
    public func stopBackground() { base.stopBackground() }
    public func ready() async throws { try await base.ready() }
    public func shutdown() async throws { try await base.shutdown() }

    private func measured<T>(_ timer: Timer, _ work: () async throws -> T) async throws -> T {
        inFlight.increment()
        let start = ContinuousClock.now
        defer {
            timer.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
            inFlight.decrement()
        }
        return try await work()
    }
}

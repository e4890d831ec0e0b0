import Foundation
import KeygateCore
import Logging
import NIOSSL
import PostgresKit
import PostgresNIO
import SQLKit
import Synchronization

/// The PostgreSQL backend, for several Keygate instances sharing one database.
///
/// A `PostgresClient` pool (20 connections by default) serves the store; its connection management is
/// ``runBackground()`` (`PostgresClient.run()`), a child task of ``Storage/withDatabase(url:logger:migrate:metrics:_:)``
/// that ends (closing every connection) when the scope that uses the handle ends: after the HTTP server has drained
/// and the other services have stopped, in the server. Transactions run at READ COMMITTED; the store's writes are written to be correct there (version-guarded
/// updates with `RETURNING`, `ON CONFLICT DO NOTHING` inserts), which is also what the PostgreSQL-compatible
/// distributed databases (CockroachDB, YugabyteDB) support.
///
/// Changes are announced with `pg_notify('keygate_changes', '<instance id> <scope>')` inside the announcing transaction
/// (PostgreSQL delivers it on `COMMIT`, and not at all on rollback; the scope is ``ChangeScope/wire``, at most 70
/// bytes); ``watchChanges()`` holds one pooled connection in
/// `LISTEN keygate_changes`. A database without `LISTEN`/`NOTIFY` (CockroachDB) takes `changeNotify=off` in
/// every instance's and the CLI's URL: nothing is announced and the session cache stays off.
///
/// URL: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…][&host=/socket/dir][&pool=N][&changeNotify=off]`.
/// `sslmode` follows libpq: `disable`, `prefer` (default), `require` (encrypt, no certificate check),
/// `verify-full` (encrypt and verify against the system roots, or `sslrootcert=PATH`).
public final class PostgresDatabaseHandle: DatabaseHandle {
    public let kind = DatabaseKind.postgresql
    public let changes = ChangeFeed()
    public let announcesChanges: Bool
    /// The pool's maximum connections (the URL's `pool`, default 20); the change watcher holds one of them.
    public let poolSize: Int
    /// The `LISTEN`/`NOTIFY` channel.
    static let channel = "keygate_changes"
    /// Sent as the payload of this process's notifications, so that its own watcher can skip them.
    let instanceID = UUID().uuidString
    private let client: PostgresClient
    /// The change channel's own pool, on `database.notifyUrl` (a direct connection when the main URL goes through a
    /// transaction-pooling PgBouncer, which cannot hold a `LISTEN`); nil: the main pool.
    private let notifyClient: PostgresClient?
    private let stop = StopSignal()
    private let logger: Logger
    private let place: String
    private let connectTimeout: Int
    /// How long one store call waits for a connection and its answers (`database.waitSeconds`).
    let waitLimit: Duration

    /// Makes the pool for `url` (nothing connects until ``runBackground()`` runs; ``ready()`` then checks that the
    /// server answers within the URL's `connectTimeout`, default 10 s: the pool itself retries forever, which would
    /// leave a misconfigured instance hanging silently).
    public init(
        url: String, logger: Logger, waitLimit: Duration = .seconds(ConfigKeys.databaseWaitSeconds.defaultValue), notifyURL: String? = nil
    ) throws {
        self.waitLimit = waitLimit
        let configuration = try Self.configuration(url)
        let query = Self.queryItems(url)
        switch query["changeNotify"] ?? "on" {
        case "on": announcesChanges = true
        case "off": announcesChanges = false
        default: throw StorageError.unsupportedURL("changeNotify must be on or off")
        }
        connectTimeout = max(1, query["connectTimeout"].flatMap(Int.init) ?? 10)
        place = Storage.redacted(url).split(separator: "?").first.map(String.init) ?? "the database"
        // The driver's own lines (each failed connection attempt, retried) only at debug level: an operator whose
        // database is down gets one clear error from Keygate, not a screenful from the pool.
        var driverLogger = logger
        if logger.logLevel > .debug { driverLogger.logLevel = .critical }
        client = PostgresClient(configuration: configuration, backgroundLogger: driverLogger)
        if let notifyURL {
            var notifyConfiguration = try Self.configuration(notifyURL)
            notifyConfiguration.options.maximumConnections = 2
            notifyClient = PostgresClient(configuration: notifyConfiguration, backgroundLogger: driverLogger)
        } else {
            notifyClient = nil
        }
        poolSize = configuration.options.maximumConnections
        self.logger = logger
    }

    /// The pool's connection management until stopped or cancelled; every connection is closed when it returns.
    public func runBackground() async {
        let client = self.client
        let notifyClient = self.notifyClient
        await stop.run {
            await withDiscardingTaskGroup { group in
                group.addTask { await client.run() }
                if let notifyClient { group.addTask { await notifyClient.run() } }
            }
        }
    }

    public func stopBackground() { stop.stop() }

    public func ready() async throws {
        let timeout = connectTimeout
        do {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    _ = try await self.read { sql in try await sql.raw("SELECT 1 AS one").first() }
                    return true
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(timeout))
                    return false
                }
                let answered = try await group.next() ?? false
                group.cancelAll()
                guard answered else { throw StorageError.unreachable("no answer within \(timeout) s") }
            }
        } catch {
            logger.debug("cannot reach the database", metadata: ["error": "\(String(reflecting: error))"])
            if case .unreachable(let reason) = error as? StorageError { throw StorageError.unreachable("\(place): \(reason)") }
            let reason = (error as? PSQLError)?.underlying.map { "\($0)" } ?? "\(error)"
            throw StorageError.unreachable("\(place): \(reason)")
        }
    }

    static func queryItems(_ url: String) -> [String: String] {
        let items = URLComponents(string: url)?.queryItems ?? []
        return Dictionary(items.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
    }

    /// The SQLKit view of a connection, without query logging (SQLKit would log bind values).
    private static func sql(_ connection: PostgresConnection) -> any SQLDatabase { connection.sql(queryLogLevel: nil) }

    /// A read: no wait longer than ``waitLimit`` (``bounded(_:)``); when its connection breaks (a server restart, a
    /// reset), tried once more on a fresh connection (a read changes nothing, so repeating it is safe), then
    /// ``KeygateError/unavailable(retryAfterSeconds:)``.
    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        do {
            return try await bounded { sql in try await body(sql) }
        } catch DatabaseFault.broken {
            do {
                return try await bounded { sql in try await body(sql) }
            } catch let fault as DatabaseFault {
                throw fault.answer(waitLimit)
            }
        } catch let fault as DatabaseFault {
            throw fault.answer(waitLimit)
        }
    }

    /// A transaction: no wait longer than ``waitLimit`` and never repeated (whether a `COMMIT` whose answer was lost
    /// landed is unknown); a broken connection or no answer is ``KeygateError/unavailable(retryAfterSeconds:)``.
    public func transaction<T: Sendable>(
        announcingEach scopes: [ChangeScope], _ body: @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        let payloads = announcesChanges ? scopes.filter { $0 != .nothing }.map { "\(instanceID) \($0.wire)" } : []
        let logger = self.logger
        return try await changes.afterTransaction(announcing: scopes) {
            do {
                return try await bounded { sql in
                    try await runTransaction(on: sql, begin: "BEGIN", logger: logger) { sql in
                        let value = try await body(sql)
                        for payload in payloads { try await sql.raw("SELECT pg_notify('keygate_changes', \(bind: payload))").run() }
                        return value
                    }
                }
            } catch let fault as DatabaseFault {
                throw fault.answer(waitLimit)
            }
        }
    }

    /// What a store call met when the database did not serve it.
    enum DatabaseFault: Error {
        /// No connection, or no answer to a statement, within the wait limit.
        case timedOut
        /// The connection broke, the pool gave up, or the server is shutting down or restarting.
        case broken
        /// The caller was cancelled (the server is stopping): answered like a fault, never retried.
        case cancelled

        /// The domain's answer: `503` with a `Retry-After` of the wait limit (at least a second).
        func answer(_ limit: Duration) -> KeygateError { .unavailable(retryAfterSeconds: max(1, Int(limit.components.seconds))) }
    }

    /// Runs `body` on a pooled connection, never waiting longer than ``waitLimit`` for the connection or for any one
    /// statement's answer (a long transaction of quick statements, a batch import, is fine). When a wait passes the
    /// limit the connection is closed, which fails its statement at once (a statement on PostgresNIO does not end on task
    /// cancellation; a lease still waiting does), and the call's later statements (its `ROLLBACK`) fail at once instead
    /// of being written to a closed connection, whose answer would never come.
    /// - Throws: ``DatabaseFault`` for a fault of the database or the way to it; other errors (a constraint the
    ///   store interprets, a bug) as they are.
    private func bounded<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let client = self.client
        // Schema migrations at start-up may rewrite large tables: their statements wait as long as they take.
        if Self.unbounded { return try await client.withConnection { connection in try await body(Self.sql(connection)) } }
        let call = BoundedCall(limit: waitLimit)
        do {
            return try await withoutActuallyEscaping(body) { body in
                // A cancelled caller (a stopping server) cannot wait for the stall timer (its sleep ends at once):
                // cancellation closes the connection too, so a statement on a silent database ends now.
                try await withTaskCancellationHandler {
                    try await withThrowingTaskGroup(of: T?.self) { group in
                        group.addTask {
                            try await client.withConnection { connection in
                                call.hold(connection)
                                defer { call.release() }
                                return try await body(GatedSQLDatabase(base: Self.sql(connection), call: call))
                            }
                        }
                        group.addTask {
                            try await call.waitUntilStalled()
                            return nil
                        }
                        defer { group.cancelAll() }
                        guard let first = try await group.next(), let value = first else {
                            call.close()
                            throw DatabaseFault.timedOut
                        }
                        return value
                    }
                } onCancel: {
                    call.close()
                }
            }
        } catch let fault as DatabaseFault {
            throw fault
        } catch is CancellationError {
            throw DatabaseFault.cancelled
        } catch  where Self.isConnectionFault(error) {
            throw DatabaseFault.broken
        }
    }

    /// Set while migrations run (``Storage/withDatabase(url:logger:migrate:metrics:waitLimit:_:)``): no wait limit.
    @TaskLocal static var unbounded = false

    /// Whether `error` is the database's or the network's, not the statement's: a closed or reset connection, a
    /// server shutting down or restarting (SQLSTATE class 08, 57P0x), too many connections (53300), or the pool
    /// giving up (its circuit breaker; `ConnectionPoolError` is in an underscored module, so it is known by name).
    static func isConnectionFault(_ error: any Error) -> Bool {
        if String(reflecting: type(of: error)).hasSuffix("ConnectionPoolError") { return true }
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .clientClosedConnection, .serverClosedConnection, .connectionError, .uncleanShutdown, .poolClosed, .queryCancelled:
            return true
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300"
        default:
            return false
        }
    }

    /// Listens on one pooled connection and publishes each notification's scope. Notifications carrying this
    /// handle's own id are skipped: this process invalidated its caches right after that commit.
    public func watchChanges() async throws {
        guard announcesChanges else { return }
        try await (notifyClient ?? client).withConnection { connection in
            try await connection.listen(on: Self.channel) { notifications in
                changes.publish(.listening)
                for try await notification in notifications {
                    let payload = notification.payload[...]
                    let space = payload.firstIndex(of: " ") ?? payload.endIndex
                    guard payload[..<space] != instanceID else { continue }
                    changes.publish(.changed(ChangeScope(wire: payload[space...].dropFirst())))
                }
            }
        }
    }

    /// Nothing to do: the connections close when ``runBackground()`` ends.
    public func shutdown() async throws {}

    /// Parses a `postgres://` URL into a client configuration.
    static func configuration(_ url: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? "") else {
            throw StorageError.unsupportedURL(url)
        }
        let query = queryItems(url)
        let user = components.percentEncodedUser.flatMap { $0.removingPercentEncoding } ?? "postgres"
        let password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let database = path.isEmpty ? nil : path
        let port = components.port ?? 5432
        var configuration: PostgresClient.Configuration
        if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") {
            configuration = .init(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            guard let host = components.host, !host.isEmpty else { throw StorageError.unsupportedURL("\(url): no host") }
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: .disable)
            configuration.tls = try tls(mode: query["sslmode"] ?? "prefer", rootCertificate: query["sslrootcert"])
        }
        if let pool = query["pool"] {
            guard let size = Int(pool), (1...500).contains(size) else { throw StorageError.unsupportedURL("\(url): pool must be 1-500") }
            configuration.options.maximumConnections = size
        }
        return configuration
    }

    private static func tls(mode: String, rootCertificate: String?) throws -> PostgresClient.Configuration.TLS {
        var unverified = TLSConfiguration.makeClientConfiguration()
        unverified.certificateVerification = .none
        switch mode {
        case "disable": return .disable
        case "allow", "prefer": return .prefer(unverified)
        case "require": return .require(unverified)
        case "verify-ca", "verify-full":
            var verified = TLSConfiguration.makeClientConfiguration()
            if let rootCertificate {
                verified.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(rootCertificate))
            }
            if mode == "verify-ca" { verified.certificateVerification = .noHostnameVerification }
            return .require(verified)
        default:
            throw StorageError.unsupportedURL("sslmode must be disable, allow, prefer, require, verify-ca or verify-full")
        }
    }
}

/// One bounded store call: the connection it holds, when it last made progress (got its connection, or an answer),
/// and whether its deadline closed the connection.
private final class BoundedCall: Sendable {
    private struct State {
        var connection: PostgresConnection?
        var progress: ContinuousClock.Instant
        var closed = false
    }
    private let state: Mutex<State>
    private let limit: Duration

    init(limit: Duration) {
        self.limit = limit
        state = Mutex(State(progress: .now))
    }

    func hold(_ connection: PostgresConnection) {
        state.withLock {
            $0.connection = connection
            $0.progress = .now
        }
    }
    func release() { state.withLock { $0.connection = nil } }
    /// A statement answered.
    func progressed() { state.withLock { $0.progress = .now } }
    var isClosed: Bool { state.withLock { $0.closed } }

    /// Returns when `limit` has passed without progress.
    func waitUntilStalled() async throws {
        while true {
            let due = state.withLock { $0.progress } + limit
            try await Task.sleep(until: due, clock: .continuous)
            if state.withLock({ $0.progress }) + limit <= .now { return }
        }
    }

    /// Closes the connection in use, if any (its statement in flight fails now), and fails the call's later statements.
    func close() {
        // Under the lock: once released, the connection may already serve another call.
        state.withLock {
            $0.closed = true
            guard let connection = $0.connection else { return }
            let closing: EventLoopFuture<Void> = connection.close()
            _ = closing
        }
    }
}

/// The connection as a bounded call's body sees it: each answer is progress, and once the call's deadline has closed
/// the connection no statement is written to it (its answer would never come).
private struct GatedSQLDatabase: SQLDatabase {
    let base: any SQLDatabase
    let call: BoundedCall

    var logger: Logger { base.logger }
    var eventLoop: any EventLoop { base.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { base.version }
    var dialect: any SQLDialect { base.dialect }
    var queryLogLevel: Logger.Level? { base.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        guard !call.isClosed else { return eventLoop.makeFailedFuture(PostgresDatabaseHandle.DatabaseFault.timedOut) }
        let call = self.call
        return base.execute(sql: query, onRow).map { call.progressed() }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        guard !call.isClosed else { throw PostgresDatabaseHandle.DatabaseFault.timedOut }
        try await base.execute(sql: query, onRow)
        call.progressed()
    }
}

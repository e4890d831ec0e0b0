import Foundation
import Hummingbird
import KeygateCore
import KeygatePasswords
import KeygateServer
import KeygateStorage
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// The composition root: opens the database, assembles the use cases and builds the HTTP application, from one
/// ``KeygateConfiguration``. `keygate serve`, the operator commands and the tests all start here, so what the
/// tests run is what the server runs.
public struct KeygateSystem: Sendable {
    /// The use cases: the only way to the data.
    public let keygate: Keygate
    /// The opened database (its change feed drives the session cache).
    public let database: any DatabaseHandle
    /// The HTTP settings, with the request-limit counters resolved for this database.
    public let settings: ServerSettings
    /// The root logger.
    public let logger: Logger
    /// Reads the master keyring again (``KeyringService``); nil: the keyring is fixed.
    let reloadKeyring: (@Sendable () throws -> MasterKeyring)?
    /// How often the usage counted in memory is written (``UsageFlushService``).
    let usageFlushInterval: Duration

    /// Opens (and migrates) the database and assembles the use cases.
    /// - Parameter serving: a server keeps checked sessions in memory when the configuration allows it; a one-shot
    ///   command does not (it checks no sessions). The cache serves nothing until a ``ChangeWatcher`` listens.
    /// - Throws: ``KeygateError/invalidInput(_:)`` when the master key does not open the stored keys; storage errors.
    public static func open(_ configuration: KeygateConfiguration, logger: Logger, serving: Bool) async throws -> KeygateSystem {
        // A server measures itself unless metrics are off; a one-shot command has nothing to serve them from.
        let exporter = serving && configuration.server.metrics.placement != .off ? PrometheusExporter() : nil
        let (db, store) = try await Storage.open(url: configuration.database, logger: logger, metrics: exporter?.factory)
        do {
            let hasher = BcryptPasswordHasher(cost: configuration.bcryptCost)
            // Login lockouts are counted in the database on every backend: they hold on every instance and survive
            // a restart, and only sign-ins (bcrypt-bound anyway) touch them.
            let throttle = LoginThrottle(limits: configuration.loginLimits, counters: SQLWindowCounters(db: db))
            var cache: SessionCache?
            if serving, configuration.sessionCache {
                let created = SessionCache(maxAge: configuration.sessionCacheMaxAge, maxEntries: configuration.sessionCacheSize)
                db.changes.drive(created)
                cache = created
            }
            let keygate = Keygate(
                store: store,
                cipher: try KeyCipher(keyring: MasterKeyring(primary: configuration.masterKey, previous: configuration.previousMasterKeys)),
                hasher: hasher, settings: configuration.session,
                loginThrottle: throttle, decoys: try await PasswordDecoys.make(hasher: hasher), sessionCache: cache,
                metrics: exporter.map { KeygateMetrics(factory: $0.factory) } ?? .disabled,
                usageMeter: serving && configuration.usageEnabled ? UsageMeter() : nil, webhooks: configuration.webhooks,
                now: configuration.now)
            try await keygate.checkMasterKeyOpensStoredKeys()
            var settings = configuration.server
            // Several instances share a PostgreSQL database, so its request limits are counted there; a single SQLite
            // instance counts in memory (a database write per request would serialize SQLite's writer).
            if configuration.sharedRateCounters ?? (db.kind == .postgresql) {
                settings.rateCounters = SQLWindowCounters(db: db)
            }
            settings.usageFlushSeconds = Int(configuration.usageFlushInterval.components.seconds)
            if let exporter {
                settings.metrics.http = HTTPMetrics(factory: exporter.factory)
                settings.metrics.scrape = { [keygate] in await exporter.scrape(keygate: keygate) }
            }
            return KeygateSystem(
                keygate: keygate, database: db, settings: settings, logger: logger, reloadKeyring: configuration.reloadKeyring,
                usageFlushInterval: configuration.usageFlushInterval)
        } catch {
            try? await db.shutdown()
            throw error
        }
    }

    /// The router: the legacy API, the portal, the console.
    public func router() -> Router<KeygateRequestContext> { buildRouter(keygate: keygate, settings: settings) }

    /// The whole server: the router, TLS, and the services that must live as long as it does (the change watcher
    /// that keeps the session cache honest, the keyring's reload and heartbeat, the usage flush, housekeeping, and the
    /// database, closed last).
    public func application(
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        try buildApplication(
            keygate: keygate, settings: settings, logger: logger,
            services: [
                DatabaseService(db: database), ChangeWatcher(db: database, logger: logger),
                KeyringService(keygate: keygate, reload: reloadKeyring, logger: logger),
                UsageFlushService(keygate: keygate, interval: usageFlushInterval, logger: logger),
                WebhookDeliveryService(keygate: keygate, logger: logger),
            ], onServerRunning: onServerRunning)
    }

    /// Runs `application` until SIGTERM or SIGINT, then stops it within a bound whatever state the database is in.
    ///
    /// Shutdown is graceful first (the listener closes, in-flight requests finish, services stop) for at most
    /// `grace`; then whatever is still running is cancelled (a request waiting for a database that is away included),
    /// with `cancellationGrace` more before ServiceLifecycle ends the process. Without a bound a request stuck on an
    /// unreachable database held the process on SIGTERM indefinitely (issue 20, measured: still running after 40 s).
    public static func serve(
        _ application: some Service, grace: Duration, cancellationGrace: Duration = .seconds(5), logger: Logger
    ) async throws {
        var configuration = ServiceGroupConfiguration(
            services: [.init(service: application)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = grace
        configuration.maximumCancellationDuration = cancellationGrace
        try await ServiceGroup(configuration: configuration).run()
    }

    /// Closes the database (idempotent; a served application's ``DatabaseService`` closes it too).
    public func close() async { try? await database.shutdown() }
}

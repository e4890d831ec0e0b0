import Foundation
import Hummingbird
import KeygateCore
import KeygatePasswords
import KeygateServer
import KeygateStorage
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
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

    /// Opens (and migrates) the database, assembles the use cases, and runs `body` with them; the database closes
    /// when `body` returns or throws (``Storage/withDatabase(url:logger:migrate:metrics:_:)``: its background work, the
    /// PostgreSQL pool included, is a child task of this call). A server runs its whole service group in `body`, so the
    /// database outlives the HTTP server's drain and every service.
    /// - Parameter serving: a server keeps checked sessions in memory when the configuration allows it; a one-shot
    ///   command does not (it checks no sessions). The cache serves nothing until a ``ChangeWatcher`` listens.
    /// - Throws: ``KeygateError/invalidInput(_:)`` when the master key does not open the stored keys; storage errors.
    public static func with<T>(
        _ configuration: KeygateConfiguration, logger: Logger, serving: Bool, _ body: (KeygateSystem) async throws -> T
    ) async throws -> T {
        // A server measures itself unless metrics are off; a one-shot command has nothing to serve them from.
        let exporter = serving && configuration.server.metrics.placement != .off ? PrometheusExporter() : nil
        return try await Storage.withDatabase(
            url: configuration.database, logger: logger, metrics: exporter?.factory, waitLimit: configuration.databaseWait,
            notifyURL: configuration.databaseNotifyURL
        ) { db, store in
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
            try await keygate.keys.checkMasterKeyOpensStoredKeys()
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
            let system = KeygateSystem(
                keygate: keygate, database: db, settings: settings, logger: logger, reloadKeyring: configuration.reloadKeyring,
                usageFlushInterval: configuration.usageFlushInterval)
            return try await body(system)
        }
    }

    /// The router: the legacy API, the portal, the console.
    public func router() -> Router<KeygateRequestContext> { buildRouter(keygate: keygate, settings: settings) }

    /// The whole server: the router, TLS, and the services that must live as long as it does (the change watcher
    /// that keeps the session cache honest, the keyring's reload and heartbeat, the usage flush, webhook delivery,
    /// housekeeping) and, first so that it stops last, the database's ``DatabaseService``. The database is open around the
    /// whole group (``with(_:logger:serving:_:)``); the service ends its background work when the group stops.
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

    /// Runs `application` until SIGTERM or SIGINT, then ends the process within `grace`, whatever state the database
    /// (or anything else) is in.
    ///
    /// Shutdown is graceful first (the listener closes, in-flight requests finish, services stop, the database's last)
    /// for all of `grace` but its last ``cancellationShare(of:)``; then whatever is still running is cancelled (the
    /// database's background work is stopped, so a request waiting on a database that does not answer fails); and if
    /// something still has not ended when `grace` is over, the process exits anyway, status 0 with a warning.
    /// ServiceLifecycle's own last resort is a crash (`fatalError` when cancellation overruns), which is not how a
    /// deploy should end. Without a bound a request stuck on an unreachable database held the process on SIGTERM
    /// indefinitely (issue 20, measured: still running after 40 s; after an outage, still running after 30 s).
    ///
    /// With a `drain`, the first signal first makes `readiness` answer `503` (`GET /health/ready`) while the server
    /// keeps serving for `drain`, so that a balancer's health checks take it out before its listener closes; the
    /// graceful part is shortened by as much, so the whole stop still fits in `grace`.
    /// - Parameters:
    ///   - watchdog: armed by the first signal; the caller disarms it once everything after the group (closing the
    ///     database) is done, so a process that outlives a clean stop is never ended by it.
    ///   - drain: at most half of `grace` (``drainShare(_:of:)``).
    public static func serve(
        _ application: some Service, grace: Duration, drain: Duration = .zero, readiness: Readiness = Readiness(),
        watchdog: ShutdownWatchdog, logger: Logger
    ) async throws {
        let cancellation = cancellationShare(of: grace)
        let drain = drainShare(drain, of: grace)
        var configuration = ServiceGroupConfiguration(services: [.init(service: application)], logger: logger)
        configuration.maximumGracefulShutdownDuration = grace - cancellation - drain
        configuration.maximumCancellationDuration = nil
        let services = ServiceGroup(configuration: configuration)
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            group.addTask {
                // The first signal: not ready, the watchdog armed (from the first signal, `grace` at most for
                // everything that follows it, closing the database after the group included: a timer of its own, not
                // this task, which ends with the group), the drain, then the group's graceful shutdown.
                // This task must not end before the group does: the first task to end cancels the other, and a
                // cancelled group skips its graceful shutdown. Later signals change nothing.
                var armed = false
                for await signal in signals where !armed {
                    armed = true
                    readiness.beginDraining()
                    watchdog.arm(after: grace, signal: "\(signal)", logger: logger)
                    if drain > .zero {
                        logger.info("draining: /health/ready answers 503", metadata: ["drainSeconds": "\(drain.components.seconds)"])
                        try? await Task.sleep(for: drain)
                    }
                    await services.triggerGracefulShutdown()
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// The drain a stop may take: what was asked, at most half of the bound (the rest is for in-flight requests,
    /// services and the database).
    public static func drainShare(_ drain: Duration, of grace: Duration) -> Duration { max(.zero, min(drain, grace / 2)) }

    /// The part of the shutdown bound left for cancellation once the graceful part is over: 2 s, or half of a shorter
    /// bound.
    public static func cancellationShare(of grace: Duration) -> Duration { min(.seconds(2), grace / 2) }
}

/// Ends the process `grace` after the first SIGTERM or SIGINT if it has not ended by itself (status 0, a warning).
/// A Dispatch timer, not a task: it must outlive the service group, since the database closes after the group.
public final class ShutdownWatchdog: Sendable {
    private let disarmed = Atomic<Bool>(false)

    public init() {}

    func arm(after grace: Duration, signal: String, logger: Logger) {
        let seconds = Double(grace.components.seconds) + Double(grace.components.attoseconds) / 1e18
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
            guard !disarmed.load(ordering: .acquiring) else { return }
            logger.warning(
                "still stopping at the end of server.shutdownGraceSeconds: exiting now",
                metadata: ["signal": "\(signal)", "graceSeconds": "\(grace.components.seconds)"])
            exit(0)
        }
    }

    /// Everything has stopped: the timer must not fire.
    public func disarm() { disarmed.store(true, ordering: .releasing) }
}

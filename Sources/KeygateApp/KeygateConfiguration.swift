import Foundation
import KeygateCore
import KeygateServer

/// Everything a Keygate process is built from, as one value.
///
/// The executable fills it from flags, `KEYGATE_*` environment variables and defaults (its `Runtime`), the tests
/// fill it directly; both hand it to ``KeygateSystem/with(_:logger:serving:_:)``, the one place where the parts are
/// wired together. Secrets (the master key) are plain bytes here: loading and creating the key file is the
/// executable's job.
public struct KeygateConfiguration: Sendable {
    /// SQLite path (or `sqlite:` URL) or `postgres://` URL.
    public var database: String
    /// PostgreSQL: how long one store call waits for a connection and its answers, then `503` (`database.waitSeconds`).
    public var databaseWait: Duration = .seconds(ConfigKeys.databaseWaitSeconds.defaultValue)
    /// PostgreSQL: a direct URL for the session cache's `LISTEN` when ``database`` goes through a transaction-pooling
    /// PgBouncer (`database.notifyUrl`); nil: the main URL.
    public var databaseNotifyURL: String?
    /// The 32-byte master key that seals the stored API keys.
    public var masterKey: [UInt8]
    /// Master keys that only open (the one a rotation moves away from; `<masterKeyFile>.previous`).
    public var previousMasterKeys: [[UInt8]] = []
    /// Reads the keyring again (a server calls it every few seconds, so a rotation needs no restart); nil: fixed.
    public var reloadKeyring: (@Sendable () throws -> MasterKeyring)?
    /// bcrypt work factor (12 in production; tests use 4).
    public var bcryptCost: Int
    /// Idle timeouts, absolute lifetimes, the login timestamp window.
    public var session: SessionSettings
    /// Failed sign-in budgets (``LoginThrottle``).
    public var loginLimits: LoginThrottle.Limits
    /// Whether a server keeps checked sessions in memory (`session.cache`). One-shot commands never do.
    public var sessionCache: Bool
    /// The cache's backstop: an entry is re-read after this long whatever happens.
    public var sessionCacheMaxAge: TimeInterval
    /// How many sessions the cache holds at most (`session.cacheSize`, ``SessionCache/defaultMaxEntries``).
    public var sessionCacheSize: Int
    /// Webhook targets, timeouts, retries (`webhooks.*`, see ``WebhookSettings``).
    public var webhooks = WebhookSettings()
    /// Whether a server counts API usage (`usage.enabled`).
    public var usageEnabled = ConfigKeys.usageEnabled.defaultValue
    /// How often a server writes the API usage it counted (`usage.flushSeconds`); what a crash can lose.
    public var usageFlushInterval: Duration = .seconds(ConfigKeys.usageFlushSeconds.defaultValue)
    /// Count request limits in the database (every instance) rather than in memory; nil: on for PostgreSQL.
    public var sharedRateCounters: Bool?
    /// HTTP settings: address, TLS, proxies, limits.
    public var server: ServerSettings
    /// The clock (tests move it).
    public var now: @Sendable () -> Date

    /// A configuration with the production defaults for everything but the database and the master key.
    public init(
        database: String, masterKey: [UInt8], bcryptCost: Int = ConfigKeys.bcryptCost.defaultValue, session: SessionSettings = .init(),
        loginLimits: LoginThrottle.Limits = .init(), sessionCache: Bool = ConfigKeys.sessionCache.defaultValue, sessionCacheMaxAge: TimeInterval = 2,
        sessionCacheSize: Int = SessionCache.defaultMaxEntries, sharedRateCounters: Bool? = nil, server: ServerSettings = .init(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.database = database
        self.masterKey = masterKey
        self.bcryptCost = bcryptCost
        self.session = session
        self.loginLimits = loginLimits
        self.sessionCache = sessionCache
        self.sessionCacheMaxAge = sessionCacheMaxAge
        self.sessionCacheSize = sessionCacheSize
        self.sharedRateCounters = sharedRateCounters
        self.server = server
        self.now = now
    }
}

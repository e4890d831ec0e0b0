import Foundation

// The use cases' home: ``Keygate`` holds the store, the cipher, the hasher, the settings and the clock; each concept's
// use cases are in the file named for it: Keys, Sessions (the API's), SignIn (the one sign-in flow), PortalSessions,
// Operators (the console's), Admins, Roles, Audit, Organizations, OrganizationTransfer (import, export), KeyColumns,
// Usage, Webhooks, MasterKeys (rotation, heartbeats), SessionCache; Provider is the provider's capability. Every
// public use case takes a capability: a ``Principal`` (an admin, checked by ``AccessRules``) or a ``Provider``.

/// Keygate's use cases, shared by the HTTP API, the portal and the operator CLI.
///
/// Holds no state of its own: every decision reads the store, so any instance (or the CLI) sees a change on
/// the very next request. The one exception is the optional ``SessionCache`` for the session check, whose
/// staleness bound is documented there. Rules that need no store live in ``KeyRules`` and ``SessionRules``.
public struct Keygate: Sendable {
    /// Persistence. Internal: every caller (HTTP, portal, CLI, health) goes through the use cases, so no rule can
    /// be skipped by reaching the data another way. Each concept's file reaches it only through a private view typed
    /// with the capabilities that concept needs (`keyStorage: any KeyStore & OrganizationStore & SessionStore`, …).
    let store: any KeygateStore
    /// Seals and opens key values.
    public let cipher: KeyCipher
    /// Password hashing (bcrypt outside Core).
    public let hasher: any PasswordHasher
    /// Session and login settings.
    public let settings: SessionSettings
    /// Failed-login limiter.
    public let loginThrottle: LoginThrottle
    /// The clock (tests move it).
    public let now: @Sendable () -> Date
    /// Session snapshots kept in memory by a server (nil: every check reads the database).
    public let sessionCache: SessionCache?
    /// What the use cases count (logins, sessions, key changes, lockouts, browser sign-ins).
    public let metrics: KeygateMetrics
    /// API usage counted in memory until flushed (servers only; nil: not counted).
    public let usageMeter: UsageMeter?
    /// Webhook targets, timeouts and retries.
    public let webhooks: WebhookSettings
    /// Decoy hashes that make every sign-in check cost one verification at the configured cost, whether or not the
    /// account exists and whatever its hash's cost (``PasswordDecoys``).
    public let decoys: PasswordDecoys

    public init(
        store: any KeygateStore, cipher: KeyCipher, hasher: any PasswordHasher, settings: SessionSettings = .init(),
        loginThrottle: LoginThrottle = LoginThrottle(), decoys: PasswordDecoys, sessionCache: SessionCache? = nil,
        metrics: KeygateMetrics = .disabled, usageMeter: UsageMeter? = nil, webhooks: WebhookSettings = .init(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.metrics = metrics
        self.webhooks = webhooks
        self.usageMeter = usageMeter
        self.sessionCache = sessionCache
        self.store = store
        self.cipher = cipher
        self.hasher = hasher
        self.settings = settings
        self.loginThrottle = loginThrottle
        self.decoys = decoys
        self.now = now
    }

    /// Opens a sealed key for the domain.
    func open(_ sealed: SealedAPIKey) throws -> APIKey {
        try sealed.map { try cipher.open($0, orgID: sealed.orgID) }
    }
}

/// Session and login settings.
///
/// Configuration keys (read by the executable): `session.ztwIdleSeconds` (1800), `session.ziaIdleSeconds` (300),
/// `login.timestampWindowSeconds` (7200), `portal.idleSeconds` (1800), `session.maxLifetimeSeconds` (43200),
/// `portal.maxLifetimeSeconds` (43200).
///
/// The absolute lifetimes bound a session however busy it is: a stolen cookie that is used every minute still
/// dies. 12 hours (NIST SP 800-63B's re-authentication bound for AAL2) is far above what the SDKs need: the Go SDK
/// logs in again every 25 minutes, the Python SDK on any 401.
public struct SessionSettings: Sendable {
    /// Idle timeout of ZTW sessions.
    public var ztwIdle: TimeInterval
    /// Idle timeout of ZIA sessions.
    public var ziaIdle: TimeInterval
    /// How far a login timestamp may be from the server clock.
    public var timestampWindow: TimeInterval
    /// Idle timeout of portal (browser) sessions.
    public var portalIdle: TimeInterval
    /// Longest life of an API session, busy or not.
    public var apiMaxLifetime: TimeInterval
    /// Longest life of a portal or console session, busy or not.
    public var portalMaxLifetime: TimeInterval

    /// Creates settings; the defaults are the legacy service's (the portal's: 30 minutes, like ZTW).
    public init(
        ztwIdle: TimeInterval = TimeInterval(ConfigKeys.sessionZTWIdleSeconds.defaultValue),
        ziaIdle: TimeInterval = TimeInterval(ConfigKeys.sessionZIAIdleSeconds.defaultValue),
        timestampWindow: TimeInterval = TimeInterval(ConfigKeys.loginTimestampWindowSeconds.defaultValue),
        portalIdle: TimeInterval = TimeInterval(ConfigKeys.portalIdleSeconds.defaultValue),
        apiMaxLifetime: TimeInterval = TimeInterval(ConfigKeys.sessionMaxLifetimeSeconds.defaultValue),
        portalMaxLifetime: TimeInterval = TimeInterval(ConfigKeys.portalMaxLifetimeSeconds.defaultValue)
    ) {
        self.apiMaxLifetime = apiMaxLifetime
        self.portalMaxLifetime = portalMaxLifetime
        self.ztwIdle = ztwIdle
        self.ziaIdle = ziaIdle
        self.timestampWindow = timestampWindow
        self.portalIdle = portalIdle
    }

    /// The idle timeout for a session kind.
    public func idleTimeout(_ kind: SessionKind) -> TimeInterval { kind == .ztw ? ztwIdle : ziaIdle }

    /// How long an API session of `kind` lives.
    public func lifetime(_ kind: SessionKind) -> SessionLifetime { SessionLifetime(idle: idleTimeout(kind), maxLifetime: apiMaxLifetime) }

    /// How long a portal or console session lives (the console keeps the portal's settings).
    public var browserLifetime: SessionLifetime { SessionLifetime(idle: portalIdle, maxLifetime: portalMaxLifetime) }
}

extension Keygate {
    /// Answers when the database does (the health check): one indexed read that needs no row to exist.
    public func checkDatabase() async throws { _ = try await healthStorage.organization(id: 0) }

    func audit(_ principal: Principal, _ action: AuditAction, _ detail: String) -> AuditEvent {
        AuditEvent(orgID: principal.orgID, at: now(), actor: principal.actor, action: action, detail: detail)
    }
}

extension Keygate {
    /// What this concept needs of storage (one cheap read), and no more: its use cases reach data only through it.
    private var healthStorage: any OrganizationStore { store }
}

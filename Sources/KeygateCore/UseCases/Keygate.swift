import Foundation

// The use cases, one type per concept, each in the file named for it and each holding only the storage protocols it
// needs: KeyUseCases (Keys.swift), SessionUseCases (Sessions.swift, the API's sessions), SignInFlow (SignIn.swift, the
// one sign-in flow), PortalSessionUseCases, OperatorUseCases (the console's), AdminUseCases, RoleUseCases,
// AuditUseCases, OrganizationUseCases (Organizations.swift and OrganizationTransfer.swift), KeyColumnUseCases,
// UsageUseCases, WebhookUseCases, MasterKeyUseCases (rotation, heartbeats); SessionCache is the session check's
// memory; Provider is the provider's capability. ``Keygate`` composes them. Every public use case takes a capability:
// a ``Principal`` (an admin, checked by ``AccessRules``) or a ``Provider``; the few that take none are the server's own
// housekeeping and are listed in docs/architecture.md.

/// Keygate's use cases, shared by the HTTP API, the portal, the console and the operator CLI: one value per concept
/// (`keygate.keys.editKey(principal, …)`, `keygate.organizations.provisionOrganization(provider, …)`).
///
/// Holds no state of its own: every decision reads the store, so any instance (or the CLI) sees a change on
/// the very next request. The one exception is the optional ``SessionCache`` for the session check, whose
/// staleness bound is documented there. Rules that need no store live in ``KeyRules`` and ``SessionRules``.
///
/// The store is handed to each concept typed as only the protocols that concept needs (`KeyUseCases` gets
/// `any KeyStore & OrganizationStore & SessionStore`, `RoleUseCases` `any RoleStore`, …), and `Keygate` keeps none
/// itself beyond the one read of the health check: a use case cannot reach data its concept does not own.
public struct Keygate: Sendable {
    /// What every concept shares besides storage.
    public let environment: UseCaseEnvironment
    /// The organization's key: list, read, add, edit, regenerate, delete, the provider's disable and regenerate.
    public let keys: KeyUseCases
    /// API sessions: the legacy login, the check on every request, logout, expiry.
    public let sessions: SessionUseCases
    /// The portal's browser sessions.
    public let portal: PortalSessionUseCases
    /// The provider console's operators and their sessions.
    public let operators: OperatorUseCases
    /// Admin accounts.
    public let admins: AdminUseCases
    /// Roles.
    public let roles: RoleUseCases
    /// The audit trail.
    public let audit: AuditUseCases
    /// Organizations: provisioning, lookup, the console's pages, import and export.
    public let organizations: OrganizationUseCases
    /// The key table's columns per admin.
    public let keyColumns: KeyColumnUseCases
    /// API usage per key and admin.
    public let usage: UsageUseCases
    /// Lifecycle webhooks: endpoints, the delivery log, delivery.
    public let webhooks: WebhookUseCases
    /// Master-key rotation: heartbeats, census, re-seal.
    public let masterKeys: MasterKeyUseCases
    /// The health check's one read.
    private let healthStorage: any OrganizationStore

    public init(
        store: any KeygateStore, cipher: KeyCipher, hasher: any PasswordHasher, settings: SessionSettings = .init(),
        loginThrottle: LoginThrottle = LoginThrottle(), decoys: PasswordDecoys, sessionCache: SessionCache? = nil,
        metrics: KeygateMetrics = .disabled, usageMeter: UsageMeter? = nil, webhooks: WebhookSettings = .init(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        let environment = UseCaseEnvironment(
            cipher: cipher, hasher: hasher, settings: settings, loginThrottle: loginThrottle, now: now, sessionCache: sessionCache,
            metrics: metrics, usageMeter: usageMeter, webhookSettings: webhooks, decoys: decoys)
        let signIns = SignInFlow(passwordStorage: store, environment: environment)
        self.environment = environment
        keys = KeyUseCases(keyStorage: store, environment: environment)
        sessions = SessionUseCases(sessionStorage: store, signIns: signIns, environment: environment)
        portal = PortalSessionUseCases(portalStorage: store, signIns: signIns, environment: environment)
        operators = OperatorUseCases(operatorStorage: store, signIns: signIns, environment: environment)
        admins = AdminUseCases(adminStorage: store, signIns: signIns, environment: environment)
        roles = RoleUseCases(roleStorage: store, environment: environment)
        audit = AuditUseCases(auditStorage: store, environment: environment)
        organizations = OrganizationUseCases(organizationStorage: store, environment: environment)
        keyColumns = KeyColumnUseCases(preferenceStorage: store, environment: environment)
        usage = UsageUseCases(usageStorage: store, environment: environment)
        self.webhooks = WebhookUseCases(webhookStorage: store, environment: environment)
        masterKeys = MasterKeyUseCases(keyStorage: store, instanceStorage: store, webhookSecretStorage: store, environment: environment)
        healthStorage = store
    }

    /// Answers when the database does (the health check): one indexed read that needs no row to exist.
    public func checkDatabase() async throws { _ = try await healthStorage.organization(id: 0) }

    /// Seals and opens key values.
    public var cipher: KeyCipher { environment.cipher }
    /// The clock (tests move it).
    public var now: @Sendable () -> Date { environment.now }
    /// Session snapshots kept in memory by a server (nil: every check reads the database).
    public var sessionCache: SessionCache? { environment.sessionCache }
}

/// What every use case shares besides storage: the cipher, the hasher, the settings, the clock and what is counted.
/// Storage is not here: each concept holds its own narrowed view.
public struct UseCaseEnvironment: Sendable {
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
    public let webhookSettings: WebhookSettings
    /// Decoy hashes that make every sign-in check cost one verification at the configured cost, whether or not the
    /// account exists and whatever its hash's cost (``PasswordDecoys``).
    public let decoys: PasswordDecoys
}

/// A concept's use cases: what they may read of the shared environment, by name, so a use case's body reads
/// `now()`, `cipher`, `metrics` whichever concept it is in.
protocol UseCases: Sendable {
    var environment: UseCaseEnvironment { get }
}

extension UseCases {
    var cipher: KeyCipher { environment.cipher }
    var hasher: any PasswordHasher { environment.hasher }
    var settings: SessionSettings { environment.settings }
    var loginThrottle: LoginThrottle { environment.loginThrottle }
    var now: @Sendable () -> Date { environment.now }
    var sessionCache: SessionCache? { environment.sessionCache }
    var metrics: KeygateMetrics { environment.metrics }
    var usageMeter: UsageMeter? { environment.usageMeter }
    var decoys: PasswordDecoys { environment.decoys }

    /// Opens a sealed key for the domain.
    func open(_ sealed: SealedAPIKey) throws -> APIKey {
        try sealed.map { try cipher.open($0, orgID: sealed.orgID) }
    }

    /// The audit event of a change an admin makes in their organization, now.
    func audit(_ principal: Principal, _ action: AuditAction, _ detail: String) -> AuditEvent {
        AuditEvent(orgID: principal.orgID, at: now(), actor: principal.actor, action: action, detail: detail)
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

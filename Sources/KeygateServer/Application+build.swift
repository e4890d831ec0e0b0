import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import KeygateCore
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// How the HTTP server runs.
///
/// Configuration keys (read by the executable; flags > `KEYGATE_*` environment > defaults): `host` (127.0.0.1),
/// `port` (8080), `tls.cert` and `tls.key` (PEM paths; both or neither), `proxy.trusted` (false: believe
/// `X-Forwarded-Proto` from any peer), `proxy.trustedAddresses` (none: addresses and CIDR ranges of proxies whose
/// `Forwarded`/`X-Forwarded-For` name the client, see ``TrustedProxies``), `ratelimit.*` (see ``RateLimiter``),
/// `proxy.clientHeader` (`x-forwarded-for`, or `forwarded`: the one header a trusted proxy names the client in),
/// `server.allowedHosts` (none: `Host` names the portal may show in the API base URL without `publicUrl`, see
/// ``apiBaseURL(authority:secure:)``), `server.idleTimeoutSeconds` (30), `server.maxConnections` (4096), `portal.requestsPerSecond` (20) and
/// `portal.requestsPerMinute` (600) per client address for `/portal` and `/provider`.
public struct ServerSettings: Sendable {
    public var host: String
    public var port: Int
    /// PEM certificate chain; with ``tlsKeyPath`` the server speaks HTTPS only.
    public var tlsCertificatePath: String?
    /// PEM private key.
    public var tlsKeyPath: String?
    /// Believe `X-Forwarded-Proto: https` (set only behind a proxy you run).
    public var trustForwardedProto: Bool
    /// Request limits per organization.
    public var rateLimits: RateLimiter.Limits
    /// Where request limits are counted (memory, or the database shared by several instances).
    public var rateCounters: any WindowCounters
    /// How often idle sessions are purged.
    public var housekeepingInterval: Duration
    /// The externally visible base URL (no trailing slash), shown on the portal; nil: see ``apiBaseURL(authority:secure:)``.
    public var publicURL: String?
    /// Host names (`name` or `name:port`, lower-case) whose `Host` header the portal may show in the API base URL
    /// when ``publicURL`` is not set (`server.allowedHosts`, comma-separated).
    public var allowedHosts: Set<String> = []
    /// Proxies whose forwarding headers name the client.
    public var trustedProxies: TrustedProxies
    /// A connection that sends nothing (no complete request head, or nothing after an answer) for this long is
    /// closed: a client dripping its headers (slowloris) cannot hold a connection open.
    public var idleTimeout: Duration
    /// Open connections at most; further ones wait in the listen backlog until one closes.
    public var maxConnections: Int
    /// Per client address, portal and console requests a second and a minute.
    public var browserLimits: (perSecond: Int, perMinute: Int)
    /// What the server measures and where it serves `GET /metrics`.
    public var metrics: MetricsSettings = MetricsSettings()
    /// How often the usage counted in memory is written (shown beside the usage figures, which lag by up to this).
    public var usageFlushSeconds = ConfigKeys.usageFlushSeconds.defaultValue
    /// Set when the server begins to stop; `GET /health/ready` then answers `503`.
    public var readiness = Readiness()
    /// How long the server keeps serving after the first SIGTERM, with `/health/ready` at `503`, before it stops
    /// accepting connections (`server.drainSeconds`).
    public var drain: Duration = .seconds(ConfigKeys.serverDrainSeconds.defaultValue)

    public init(
        host: String = ConfigKeys.host.defaultValue, port: Int = ConfigKeys.port.defaultValue, tlsCertificatePath: String? = nil,
        tlsKeyPath: String? = nil, trustForwardedProto: Bool = ConfigKeys.proxyTrusted.defaultValue,
        rateLimits: RateLimiter.Limits = .generous, rateCounters: any WindowCounters = InMemoryWindowCounters(),
        housekeepingInterval: Duration = .seconds(ConfigKeys.housekeepingIntervalSeconds.defaultValue), publicURL: String? = nil,
        trustedProxies: TrustedProxies = .none, idleTimeout: Duration = .seconds(ConfigKeys.serverIdleTimeoutSeconds.defaultValue),
        maxConnections: Int = ConfigKeys.serverMaxConnections.defaultValue,
        browserLimits: (perSecond: Int, perMinute: Int) = (
            ConfigKeys.portalRequestsPerSecond.defaultValue, ConfigKeys.portalRequestsPerMinute.defaultValue
        )
    ) {
        self.publicURL = publicURL
        self.trustedProxies = trustedProxies
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.browserLimits = browserLimits
        self.host = host
        self.port = port
        self.tlsCertificatePath = tlsCertificatePath
        self.tlsKeyPath = tlsKeyPath
        self.trustForwardedProto = trustForwardedProto
        self.rateLimits = rateLimits
        self.rateCounters = rateCounters
        self.housekeepingInterval = housekeepingInterval
    }

    /// The API base URL the portal shows: ``publicURL`` when set; else the request's `Host` when it names this server
    /// (one of ``allowedHosts``, the listen address, or `localhost`/`127.0.0.1`/`[::1]` on the listen port when the
    /// server listens on loopback or on every address; with port 0, on any port); else the listen address. A `Host` header is chosen by the
    /// client, so it never reaches the page unchecked: a forged one cannot make the page show another server.
    public func apiBaseURL(authority: String?, secure: Bool) -> String {
        if let publicURL { return publicURL + "/api/v1" }
        let listen = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        var known = allowedHosts.union([listen.lowercased()])
        if ["127.0.0.1", "::1", "localhost", "0.0.0.0", "::"].contains(host) {
            known.formUnion(["localhost:\(port)", "127.0.0.1:\(port)", "[::1]:\(port)"])
        }
        // Port 0 lets the system pick the port, which these settings never learn: the listen host on any port.
        let matches = { (candidate: String) -> Bool in
            if known.contains(candidate) { return true }
            guard self.port == 0, let colon = candidate.lastIndex(of: ":"), candidate[candidate.index(after: colon)...].allSatisfy(\.isNumber)
            else { return false }
            return known.contains(candidate[...colon] + "0")
        }
        let chosen = authority.map { $0.lowercased() }.flatMap { matches($0) ? $0 : nil } ?? listen
        return (secure ? "https" : "http") + "://" + chosen + "/api/v1"
    }

    /// Whether the server speaks TLS.
    public var servesTLS: Bool { tlsCertificatePath != nil && tlsKeyPath != nil }

    /// Whether a cookie set in answer to `request` gets `Secure`: the server speaks TLS, or a proxy it trusts
    /// (`proxy.trustedAddresses`, or any peer under the older `proxy.trusted`) says the client used HTTPS.
    func cookiesAreSecure(_ request: Request, _ context: some KeygateContext) -> Bool {
        if servesTLS { return true }
        guard trustForwardedProto || trustedProxies.trusts(context.peerAddress) else { return false }
        return request.headers[.xForwardedProto]?.lowercased() == "https"
    }
}

/// Builds the router: the legacy API under `/api/v1`, `DELETE /auth` at the root, `/health`, the admin portal
/// under `/portal` (and `/` leading to it), the provider console under `/provider`.
public func buildRouter(keygate: Keygate, settings: ServerSettings) -> Router<KeygateRequestContext> {
    let router = Router(context: KeygateRequestContext.self)
    let views = PortalViews()
    let routeTable = RouteTable()
    router.add(
        middleware: EdgeMiddleware(
            metrics: settings.metrics.http, servesTLS: settings.servesTLS, routes: routeTable, proxies: settings.trustedProxies,
            browserLimit: BrowserAreaLimit(
                counters: InMemoryWindowCounters(), perSecond: settings.browserLimits.perSecond,
                perMinute: settings.browserLimits.perMinute, now: keygate.now, metrics: settings.metrics.http),
            browserErrors: BrowserAreaErrors(views: views)))

    let auth = LegacyAuthController(keygate: keygate, settings: settings)
    let status = StatusController(keygate: keygate, readiness: settings.readiness)
    status.addHealthRoute(to: router)
    OpenAPIDocument.addRoute(to: router)
    if case .mainPort = settings.metrics.placement, let scrape = settings.metrics.scrape { addMetricsRoute(to: router, scrape: scrape) }

    // The Python ZTW SDK logs out with `DELETE /auth`, without the /api/v1 prefix.
    router.delete("auth") { request, _ in try await auth.logout(request, status: .noContent) }
    // The Go SDK's ZIA client logs out with `DELETE https://zsapi.<cloud>.net/authenticatedSession`, also unprefixed.
    router.delete("authenticatedSession") { request, _ in try await auth.logout(request, status: .noContent) }
    auth.addPublicRoutes(to: router.group("api/v1"))

    // Behind the session check every route's context is an ``APIContext``: the principal is there, not optional.
    let api = router.group("api/v1")
        .add(
            middleware: SessionMiddleware(
                keygate: keygate, limiter: RateLimiter(limits: settings.rateLimits, counters: settings.rateCounters), now: keygate.now,
                metrics: settings.metrics.http)
        )
        .group(context: APIContext.self)
    auth.addSessionRoutes(to: api)
    APIKeyController(keygate: keygate).addRoutes(to: api)
    AdminController(keygate: keygate).addRoutes(to: api)
    WebhookController(keygate: keygate).addRoutes(to: api)
    status.addSessionRoutes(to: api)

    PortalController(keygate: keygate, views: views, settings: settings).addRoutes(to: router)
    ProviderController(keygate: keygate, views: views, settings: settings).addRoutes(to: router)
    router.get("/") { _, _ in PortalViews.redirect("/portal") }
    routeTable.fill(from: router)
    return router
}

/// Builds the application: router, optional TLS, housekeeping service.
public func buildApplication(
    keygate: Keygate, settings: ServerSettings, logger: Logger, services: [any Service] = [],
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let router = buildRouter(keygate: keygate, settings: settings)
    let server: HTTPServerBuilder
    let http1 = HTTP1Channel.Configuration(idleTimeout: TimeAmount(settings.idleTimeout))
    var reload: [any Service] = []
    if let cert = settings.tlsCertificatePath, let key = settings.tlsKeyPath {
        // Re-read when the files change (every 2 s) or on SIGHUP: a renewed certificate needs no restart.
        let certificates = try TLSCertificates(certificatePath: cert, keyPath: key)
        server = try .tls(.http1(configuration: http1), tlsConfiguration: certificates.serverConfiguration())
        reload = [TLSReloadService(certificates: certificates, interval: .seconds(2), logger: logger)]
    } else {
        server = .http1(configuration: http1)
    }
    let housekeeping = HousekeepingService(
        keygate: keygate, rateCounters: settings.rateCounters, interval: settings.housekeepingInterval, logger: logger)
    var services = services + [housekeeping] + reload
    if case .ownListener(let host, let port) = settings.metrics.placement, let scrape = settings.metrics.scrape {
        services.append(metricsApplication(host: host, port: port, scrape: scrape, logger: logger))
    }
    return Application(
        router: router, server: server,
        configuration: .init(
            address: .hostname(settings.host, port: settings.port), serverName: "Keygate",
            availableConnectionsDelegate: MaximumAvailableConnections(settings.maxConnections, logger: logger)),
        services: services, onServerRunning: onServerRunning, logger: logger)
}

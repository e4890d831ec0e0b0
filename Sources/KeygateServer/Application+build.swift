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
/// `X-Forwarded-Proto` from the peer), `ratelimit.*` (see ``RateLimiter``).
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
    /// The externally visible base URL (no trailing slash), shown on the portal; nil: from each request's `Host`.
    public var publicURL: String?

    /// Creates settings.
    public init(
        host: String = "127.0.0.1", port: Int = 8080, tlsCertificatePath: String? = nil, tlsKeyPath: String? = nil,
        trustForwardedProto: Bool = false, rateLimits: RateLimiter.Limits = .generous,
        rateCounters: any WindowCounters = InMemoryWindowCounters(), housekeepingInterval: Duration = .seconds(60),
        publicURL: String? = nil
    ) {
        self.publicURL = publicURL
        self.host = host
        self.port = port
        self.tlsCertificatePath = tlsCertificatePath
        self.tlsKeyPath = tlsKeyPath
        self.trustForwardedProto = trustForwardedProto
        self.rateLimits = rateLimits
        self.rateCounters = rateCounters
        self.housekeepingInterval = housekeepingInterval
    }

    /// Whether the server speaks TLS.
    public var servesTLS: Bool { tlsCertificatePath != nil && tlsKeyPath != nil }
}

/// Builds the router: the legacy API under `/api/v1`, `DELETE /auth` at the root, `/health`, the admin portal
/// under `/portal` (and `/` leading to it), the provider console under `/provider`.
public func buildRouter(keygate: Keygate, settings: ServerSettings) -> Router<KeygateRequestContext> {
    let router = Router(context: KeygateRequestContext.self)
    let views = PortalViews()
    router.add(middleware: APIErrorMiddleware())
    router.add(middleware: BrowserAreaErrorMiddleware(views: views))

    let auth = LegacyAuthController(keygate: keygate, servesTLS: settings.servesTLS, trustForwardedProto: settings.trustForwardedProto)
    let status = StatusController(keygate: keygate)
    status.addHealthRoute(to: router)

    // The Python ZTW SDK logs out with `DELETE /auth`, without the /api/v1 prefix.
    router.delete("auth") { request, _ in try await auth.logout(request, status: .noContent) }
    auth.addPublicRoutes(to: router.group("api/v1"))

    let api = router.group("api/v1")
        .add(middleware: SessionMiddleware(keygate: keygate))
        .add(middleware: RateLimitMiddleware(limiter: RateLimiter(limits: settings.rateLimits, counters: settings.rateCounters), now: keygate.now))
    auth.addSessionRoutes(to: api)
    APIKeyController(keygate: keygate).addRoutes(to: api)
    AdminController(keygate: keygate).addRoutes(to: api)
    status.addSessionRoutes(to: api)

    PortalController(keygate: keygate, views: views, settings: settings).addRoutes(to: router)
    ProviderController(keygate: keygate, views: views, settings: settings).addRoutes(to: router)
    router.get("/") { _, _ in PortalViews.redirect("/portal") }
    return router
}

/// Builds the application: router, optional TLS, housekeeping service.
public func buildApplication(
    keygate: Keygate, settings: ServerSettings, logger: Logger, services: [any Service] = [],
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let router = buildRouter(keygate: keygate, settings: settings)
    let server: HTTPServerBuilder
    if let cert = settings.tlsCertificatePath, let key = settings.tlsKeyPath {
        let chain = try NIOSSLCertificate.fromPEMFile(cert).map { NIOSSLCertificateSource.certificate($0) }
        let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey))
        tls.minimumTLSVersion = .tlsv12
        server = try .tls(.http1(), tlsConfiguration: tls)
    } else {
        server = .http1()
    }
    let housekeeping = HousekeepingService(
        keygate: keygate, rateCounters: settings.rateCounters, interval: settings.housekeepingInterval, logger: logger)
    return Application(
        router: router, server: server,
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "Keygate"),
        services: services + [housekeeping], onServerRunning: onServerRunning, logger: logger)
}

import Hummingbird
import Logging
import ServiceLifecycle

/// What the server measures and where `GET /metrics` answers.
///
/// Configuration keys (read by the executable): `metrics.enabled` (true), `metrics.host` (127.0.0.1) and
/// `metrics.port` (none). **Default: the main port**, at `/metrics` next to the API: one port to open and scrape,
/// nothing to collide when several instances share a host, and a scrape holds no organization id, login name,
/// address or secret (every label is from a fixed set), so it tells an outsider only volumes. An operator who
/// does not want even that on the public port sets `metrics.port` (the scrape moves to its own listener, by
/// default on loopback, and `/metrics` on the main port is gone) or `metrics.enabled=false` (nothing measured, no
/// route).
public struct MetricsSettings: Sendable {
    /// Where the scrape is served.
    public enum Placement: Sendable, Equatable {
        /// `GET /metrics` on the main port.
        case mainPort
        /// `GET /metrics` on a listener of its own (plain HTTP).
        case ownListener(host: String, port: Int)
        /// Nowhere.
        case off
    }

    /// The HTTP layer's counters (requests, latency, rate limits).
    public var http: HTTPMetrics
    /// Renders one scrape in the Prometheus text format; nil: no `/metrics` route.
    public var scrape: (@Sendable () async -> [UInt8])?
    /// Where the scrape is served.
    public var placement: Placement

    /// Creates settings. The default placement is the main port; the registry (``http``, ``scrape``) is the
    /// composition root's to fill, so a router built without one measures and serves nothing.
    public init(http: HTTPMetrics = .disabled, scrape: (@Sendable () async -> [UInt8])? = nil, placement: Placement = .mainPort) {
        self.http = http
        self.scrape = scrape
        self.placement = placement
    }
}

/// The Prometheus text exposition format's content type.
let prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

/// Adds `GET /metrics`, answering one fresh scrape.
func addMetricsRoute<Context: RequestContext>(to router: Router<Context>, scrape: @escaping @Sendable () async -> [UInt8]) {
    router.get("metrics") { _, _ in
        Response(
            status: .ok, headers: [.contentType: prometheusContentType, .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: await scrape())))
    }
}

/// The metrics listener of its own (`metrics.port`): `GET /metrics` and nothing else, over plain HTTP.
func metricsApplication(host: String, port: Int, scrape: @escaping @Sendable () async -> [UInt8], logger: Logger) -> some Service {
    let router = Router()
    addMetricsRoute(to: router, scrape: scrape)
    var metricsLogger = logger
    metricsLogger[metadataKey: "listener"] = "metrics"
    return Application(
        router: router, configuration: .init(address: .hostname(host, port: port), serverName: "Keygate"), logger: metricsLogger)
}

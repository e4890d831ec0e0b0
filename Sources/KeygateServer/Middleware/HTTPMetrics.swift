import CoreMetrics
import HTTPTypes
import Hummingbird
import KeygateCore
import Synchronization

/// The HTTP layer's metrics: every request by route template, method and status class, with its latency, and the
/// requests refused by a rate limit, by class.
///
/// Labels stay low-cardinality whatever clients send: the route is the router's template (`/api/v1/apiKeys/{id}`,
/// never the id), `unmatched` when no route matched; methods outside the common seven are `OTHER`; statuses are
/// classes (`2xx` … `5xx`).
public final class HTTPMetrics: Sendable {
    /// One (route, method, status class) series' handles.
    private struct Series: Sendable {
        let requests: Counter
        let duration: Timer
    }

    private struct SeriesKey: Hashable {
        let route: String
        let method: String
        let statusClass: Int
    }

    private let factory: any MetricsFactory
    /// Handles made on a series' first request and kept: a lookup under a lock instead of the factory's registry.
    private let series = Mutex<[SeriesKey: Series]>([:])
    private let rateLimited: [String: Counter]

    /// Makes the handles from `factory`; the rate-limit series exist (at 0) from the start.
    public init(factory: any MetricsFactory) {
        self.factory = factory
        self.rateLimited = Dictionary(
            uniqueKeysWithValues: (RateLimiter.RequestClass.allCases.map(\.rawValue) + ["browser"]).map {
                ($0, Counter(label: "keygate_rate_limited_total", dimensions: [("class", $0)], factory: factory))
            })
    }

    /// Records nothing.
    public static let disabled = HTTPMetrics(factory: NOOPMetricsHandler.instance)

    /// Counts and times one answered request (public for the cost probe in `Benchmarks/HotPathCost`).
    public func record(route: String?, method: HTTPRequest.Method, status: HTTPResponse.Status, duration: Duration) {
        // The router names a request no route matched `NotFound`; here it is `unmatched`, like a missing name.
        let key = SeriesKey(
            route: route.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched", method: Self.methodLabel(method),
            statusClass: min(5, max(1, status.code / 100)))
        let handles = series.withLock { table in
            if let existing = table[key] { return existing }
            let dimensions = [("route", key.route), ("method", key.method), ("status_class", "\(key.statusClass)xx")]
            let made = Series(
                requests: Counter(label: "keygate_http_requests_total", dimensions: dimensions, factory: factory),
                duration: Timer(
                    label: "keygate_http_request_duration_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds,
                    factory: factory))
            table[key] = made
            return made
        }
        handles.requests.increment()
        handles.duration.recordNanoseconds(duration.nanoseconds)
    }

    /// Counts a request refused by a rate limit (`get`, `write`, `delete`: the API's per-organization classes;
    /// `browser`: the portal's and console's per-address limit).
    func rateLimited(_ requestClass: String) { rateLimited[requestClass]?.increment() }

    static func methodLabel(_ method: HTTPRequest.Method) -> String {
        switch method {
        case .get, .post, .put, .delete, .head, .options, .patch: method.rawValue
        default: "OTHER"
        }
    }
}

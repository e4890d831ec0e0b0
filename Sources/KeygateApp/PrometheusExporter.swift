import CoreMetrics
import Foundation
import KeygateCore
import Prometheus
import Synchronization

/// One server's Prometheus registry: the swift-metrics factory every layer counts through, and the scrape.
///
/// Each server has its own registry (not the process-wide `MetricsSystem`), so several servers in one test
/// process count apart. Most series are pushed as things happen (logins, key changes, requests); the rest are
/// read when scraped: the live API sessions (one indexed count, at most every ``liveSessionsMaxAge``, so a scrape
/// storm cannot become a database load) and the session cache's entries, hits, misses and invalidations.
final class PrometheusExporter: Sendable {
    /// Request latency buckets, 0.5 ms to 10 s: a cached session check answers in well under a millisecond, a
    /// login (bcrypt) in tens to hundreds.
    static let latencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
        .seconds(10),
    ]
    /// How long a count of live sessions is reused.
    static let liveSessionsMaxAge: Duration = .seconds(5)

    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    private let sessionsLive: Prometheus.Gauge
    private let cacheEntries: Prometheus.Gauge
    private let cacheHits: Prometheus.Counter
    private let cacheMisses: Prometheus.Counter
    private let cacheInvalidations: Prometheus.Counter
    private let cacheLive: Prometheus.Gauge
    /// The cache's cumulative counts at the last scrape, and the last live-session count with its time.
    private let state = Mutex<(hits: Int, misses: Int, invalidated: Int, live: (count: Int, at: ContinuousClock.Instant)?)>((0, 0, 0, nil))

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.latencyBuckets
        self.factory = factory
        func describe(_ subsystem: String, _ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "keygate", subsystem: subsystem, metricName: name, unitName: unit, helpText: help)
        }
        sessionsLive = registry.makeGauge(descriptor: describe("sessions", "live", "", "API sessions alive now, in every organization"))
        cacheEntries = registry.makeGauge(descriptor: describe("session_cache", "entries", "", "Session snapshots held in this instance's memory"))
        cacheLive = registry.makeGauge(
            descriptor: describe("session_cache", "serving", "", "1 while the session cache serves (change announcements received), else 0"))
        cacheHits = registry.makeCounter(descriptor: describe("session_cache", "hits", "total", "Session checks answered from memory"))
        cacheMisses = registry.makeCounter(descriptor: describe("session_cache", "misses", "total", "Session checks that read the database"))
        cacheInvalidations = registry.makeCounter(
            descriptor: describe("session_cache", "invalidations", "total", "Cached sessions dropped because a change made them stale"))
    }

    /// Reads the figures that are not pushed, then renders the registry in the text format.
    func scrape(keygate: Keygate) async -> [UInt8] {
        let now = ContinuousClock.now
        let cached = state.withLock { $0.live }
        if let cached, now - cached.at < Self.liveSessionsMaxAge {
            sessionsLive.set(to: Double(cached.count))
        } else if let count = try? await keygate.sessions.liveSessionTotal() {
            sessionsLive.set(to: Double(count))
            state.withLock { $0.live = (count, now) }
        }
        if let cache = keygate.sessionCache {
            let counts = cache.counts
            cacheEntries.set(to: Double(cache.count))
            cacheLive.set(to: cache.isLive ? 1 : 0)
            let (hits, misses, invalidated) = state.withLock { state in
                defer { (state.hits, state.misses, state.invalidated) = (counts.hits, counts.misses, counts.invalidated) }
                return (counts.hits - state.hits, counts.misses - state.misses, counts.invalidated - state.invalidated)
            }
            if hits > 0 { cacheHits.increment(by: Int64(hits)) }
            if misses > 0 { cacheMisses.increment(by: Int64(misses)) }
            if invalidated > 0 { cacheInvalidations.increment(by: Int64(invalidated)) }
        }
        return registry.emitToBuffer()
    }
}

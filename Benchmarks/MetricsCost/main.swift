// What the HTTP metrics add to one request, measured without a network or a noisy neighbour: the work
// MetricsMiddleware does per request (two clock reads, the series lookup under its lock, a counter increment and a
// histogram observation into a real Prometheus registry), repeated millions of times on one thread and on two
// threads at once (the server's two event loops contending for the same series). Run by scripts/bench/metrics.

import Foundation
import HTTPTypes
import KeygateServer
import Prometheus

let registry = PrometheusCollectorRegistry()
var factory = PrometheusMetricsFactory(registry: registry)
factory.defaultDurationHistogramBuckets = [
    .microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .seconds(1),
]
let metrics = HTTPMetrics(factory: factory)
let iterations = 4_000_000

/// One request's worth of the middleware's work.
@inline(never) func oneRequest() {
    let start = ContinuousClock.now
    metrics.record(route: "/api/v1/apiKeys", method: .get, status: .ok, duration: .now - start)
}

func nanosecondsPerRequest(threads: Int) async -> Double {
    let clock = ContinuousClock()
    let began = clock.now
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<threads {
            group.addTask { for _ in 0..<(iterations / threads) { oneRequest() } }
        }
    }
    let elapsed = clock.now - began
    let (seconds, attoseconds) = elapsed.components
    // Wall time for all requests across the threads, so per request on the machine as a whole.
    return (Double(seconds) * 1e9 + Double(attoseconds) / 1e9) / Double(iterations)
}

for _ in 0..<200_000 { oneRequest() }  // warm: the series exists, the caches are hot
let single = await nanosecondsPerRequest(threads: 1)
let contended = await nanosecondsPerRequest(threads: 2)
print(String(format: "metrics work per request: %.0f ns on one thread; %.0f ns of machine time with two threads at once", single, contended))

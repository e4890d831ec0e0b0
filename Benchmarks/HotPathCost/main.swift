// What the HTTP metrics and the usage count add to one session-checked request, measured without a network or a
// noisy neighbour: the metrics work EdgeMiddleware does per request (two clock reads, the series lookup under its lock, a
// counter increment and a histogram observation into a real Prometheus registry), and UsageMeter.count (one
// dictionary increment under a lock), each repeated millions of times on one thread and on two threads at once (the
// server's two event loops contending). Run by scripts/bench/metrics.

import Foundation
import HTTPTypes
import KeygateCore
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

let meter = UsageMeter()
let principal = Principal(
    tokenHash: "t", orgID: 1,
    admin: Admin(id: 7, orgID: 1, loginName: "ops", userName: "Ops", email: "", roleID: 1, passwordHash: "", createdAt: Date()),
    role: Role(id: 1, orgID: 1, name: "Super Admin", featurePermissions: [:]), channel: .api(.ztw), sessionKeyVersion: 1)
let now = Date()

/// One request's usage count.
@inline(never) func oneCount() { meter.count(principal, at: now) }

func nanosecondsPerRequest(threads: Int, _ work: @escaping @Sendable () -> Void) async -> Double {
    let clock = ContinuousClock()
    let began = clock.now
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<threads {
            group.addTask { for _ in 0..<(iterations / threads) { work() } }
        }
    }
    let elapsed = clock.now - began
    let (seconds, attoseconds) = elapsed.components
    // Wall time for all requests across the threads, so per request on the machine as a whole.
    return (Double(seconds) * 1e9 + Double(attoseconds) / 1e9) / Double(iterations)
}

for _ in 0..<200_000 {  // warm: the series and the bucket exist, the caches are hot
    oneRequest()
    oneCount()
}
for (name, work) in [("metrics", oneRequest as @Sendable () -> Void), ("usage count", oneCount)] {
    let single = await nanosecondsPerRequest(threads: 1, work)
    let contended = await nanosecondsPerRequest(threads: 2, work)
    print(String(format: "%@ work per request: %.0f ns on one thread; %.0f ns of machine time with two threads at once", name, single, contended))
}

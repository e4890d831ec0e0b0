import KeygateCore
import Logging
import ServiceLifecycle

/// Deletes idle sessions, old replay digests and ended counter windows every `interval` seconds. Correctness never depends on it (the
/// session check enforces timeouts itself); it only keeps the tables small.
struct HousekeepingService: Service, CustomStringConvertible {
    let keygate: Keygate
    /// The request-limit counters, pruned along with the rest.
    let rateCounters: any WindowCounters
    let interval: Duration
    let logger: Logger

    /// ServiceLifecycle logs services by description; the default would dump the whole `Keygate` value.
    var description: String { "HousekeepingService" }

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    try await Task.sleep(for: interval)
                    do {
                        let removed = try await keygate.sessions.pruneExpired()
                        try await keygate.masterKeys.pruneInstances()
                        try await keygate.webhooks.pruneWebhookLog()
                        try await rateCounters.prune(now: keygate.now())
                        if removed > 0 { logger.debug("expired sessions removed", metadata: ["count": "\(removed)"]) }
                    } catch {
                        logger.warning("housekeeping failed", metadata: ["error": "\(String(reflecting: error))"])
                    }
                }
            }
        } catch is CancellationError {
            return
        }
    }
}

import KeygateCore
import Logging
import ServiceLifecycle

/// Writes the API usage counted in memory to the database every ``interval`` and once more on graceful shutdown
/// (before the database closes: it is listed after ``DatabaseService``, and services stop in reverse order).
///
/// What a crash loses: the requests counted since the last flush, at most one interval (`usage.flushSeconds`).
public struct UsageFlushService: Service, CustomStringConvertible {
    let keygate: Keygate
    let interval: Duration
    let logger: Logger

    public init(keygate: Keygate, interval: Duration, logger: Logger) {
        self.keygate = keygate
        self.interval = interval
        self.logger = logger
    }

    public var description: String { "UsageFlushService" }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    try await Task.sleep(for: interval)
                    await flush()
                }
            }
        } catch is CancellationError {}
        await flush()
    }

    private func flush() async {
        do {
            try await keygate.usage.flushUsage()
        } catch {
            logger.warning("usage flush failed; the counts are kept for the next one", metadata: ["error": "\(String(reflecting: error))"])
        }
    }
}

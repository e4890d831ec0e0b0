import ArgumentParser
import Foundation
import KeygateCore

/// `keygate housekeeping`: one pass of what every server does each minute (idle API, portal and console sessions,
/// stale replay digests, ended failure windows), in batches of 250 rows per transaction, so it never holds the
/// database's write lock for long. For an operator who wants it now (after a mass expiry, before a backup) or from
/// cron when no server runs; the benchmark `scripts/bench/scale` runs it under load to measure what it costs a request.
struct HousekeepingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "housekeeping", abstract: "Delete expired sessions, replay digests and counters now.")
    @OptionGroup var common: CommonOptions

    func run() async throws {
        try await withRuntime(common) { runtime in
            let started = ContinuousClock.now
            let removed = try await runtime.keygate.sessions.pruneExpired()
            let seconds = (ContinuousClock.now - started) / .seconds(1)
            Output.emit(common.json, ["apiSessionsRemoved": removed, "milliseconds": Int(seconds * 1000)]) {
                "removed \(removed) expired API session(s) (and expired browser sessions, replay digests, counters) in \(Int(seconds * 1000)) ms"
            }
        }
    }
}

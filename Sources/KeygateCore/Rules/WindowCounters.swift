import Foundation
import Synchronization

/// One fixed-window counter: a key that names the window (e.g. `rl|7|get|s|1795749071`), the most it may count,
/// and when it can be forgotten.
public struct CounterBucket: Sendable, Hashable {
    /// Unique per limit and window.
    public var key: String
    /// The most requests the window allows.
    public var budget: Int
    /// The end of the window; the counter is meaningless after it.
    public var expiresAt: Date

    public init(key: String, budget: Int, expiresAt: Date) {
        self.key = key
        self.budget = budget
        self.expiresAt = expiresAt
    }

    /// The bucket for a fixed window of `length` seconds containing `now`, keyed `prefix|<window start>`.
    public static func window(_ prefix: String, length: Int, budget: Int, now: Date) -> CounterBucket {
        let t = Int(now.timeIntervalSince1970)
        let start = t - t % max(1, length)
        return CounterBucket(key: "\(prefix)|\(start)", budget: budget, expiresAt: Date(timeIntervalSince1970: TimeInterval(start + length)))
    }
}

/// Fixed-window counters for rate limits and login lockouts.
///
/// Two implementations: ``InMemoryWindowCounters`` (one process) and the SQL one in KeygateStorage (shared by
/// every instance on the database, so limits are not multiplied by the number of instances).
public protocol WindowCounters: Sendable {
    /// Counts one against every bucket, unless any is already at its budget; then nothing is counted.
    /// - Returns: nil when counted, or the first bucket that was full.
    func acquire(_ buckets: [CounterBucket]) async throws -> CounterBucket?
    /// The current counts of these keys (absent keys count 0).
    func counts(_ keys: [String]) async throws -> [String: Int]
    /// Settles an attempt reserved with ``acquire(_:)`` that succeeded, in one step: gives one back to each of
    /// `release` (never below zero), forgets the key `forget` entirely, and sets the marker `remember` to 1 until
    /// `until` (extending an existing one).
    func recordSuccess(release: [CounterBucket], forget: String, remember: String, until: Date) async throws
    /// Forgets every window that ended before `now`.
    func prune(now: Date) async throws
    /// The live counters whose key starts with `prefix` (windows not yet ended at `now`).
    func entries(prefix: String, now: Date) async throws -> [(key: String, count: Int, expiresAt: Date)]
}

/// ``WindowCounters`` in this process's memory.
public final class InMemoryWindowCounters: WindowCounters {
    private struct Entry {
        var count: Int
        var expiresAt: Date
    }

    private let table = Mutex<[String: Entry]>([:])

    /// Creates empty counters.
    public init() {}

    public func acquire(_ buckets: [CounterBucket]) async throws -> CounterBucket? {
        table.withLock { table in
            if let full = buckets.first(where: { (table[$0.key]?.count ?? 0) >= $0.budget }) { return full }
            for bucket in buckets { table[bucket.key, default: Entry(count: 0, expiresAt: bucket.expiresAt)].count += 1 }
            return nil
        }
    }

    public func counts(_ keys: [String]) async throws -> [String: Int] {
        table.withLock { table in Dictionary(uniqueKeysWithValues: keys.map { ($0, table[$0]?.count ?? 0) }) }
    }

    public func recordSuccess(release: [CounterBucket], forget: String, remember: String, until: Date) async throws {
        table.withLock { table in
            for bucket in release where bucket.key != forget {
                if let entry = table[bucket.key], entry.count > 0 { table[bucket.key]?.count = entry.count - 1 }
            }
            table[forget] = nil
            table[remember] = Entry(count: 1, expiresAt: until)
        }
    }

    public func entries(prefix: String, now: Date) async throws -> [(key: String, count: Int, expiresAt: Date)] {
        table.withLock { table in
            table.filter { $0.key.hasPrefix(prefix) && $0.value.expiresAt > now }.map {
                (key: $0.key, count: $0.value.count, expiresAt: $0.value.expiresAt)
            }
        }
    }

    public func prune(now: Date) async throws { table.withLock { $0 = $0.filter { $0.value.expiresAt > now } } }
}

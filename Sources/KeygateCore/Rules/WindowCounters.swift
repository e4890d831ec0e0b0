import Foundation
import Synchronization

/// One window counter: a key that names the window (e.g. `rl|7|get|s|1795749071`), the most it may count, and when
/// it can be forgotten.
///
/// A *fixed* window (``window(_:length:budget:now:)``, the request limits) counts from its start to its end, so up to
/// twice the budget fits across a boundary. A *sliding* one (``sliding(_:length:budget:now:)``, the login lockouts)
/// also counts the previous window's count, weighted by how much of it still lies inside the last `length` seconds
/// (Cloudflare's two-bucket estimate): at a boundary the previous window still counts in full, so the budget holds
/// over any `length` seconds, not only within each fixed window.
public struct CounterBucket: Sendable, Hashable {
    /// Unique per limit and window.
    public var key: String
    /// The most requests the window allows.
    public var budget: Int
    /// When the counter is meaningless (a sliding window's row is still read through the next window).
    public var expiresAt: Date
    /// A sliding window's previous fixed window (nil: a fixed window).
    public var previousKey: String?
    /// How much of the previous window's count still counts: 1 at this window's start, 0 at its end.
    public var previousWeight: Double
    /// Seconds since this window began, and its length (for ``secondsUntilFree(previous:current:)``).
    public var elapsed: Double
    public var length: Double

    public init(
        key: String, budget: Int, expiresAt: Date, previousKey: String? = nil, previousWeight: Double = 0, elapsed: Double = 0,
        length: Double = 1
    ) {
        self.key = key
        self.budget = budget
        self.expiresAt = expiresAt
        self.previousKey = previousKey
        self.previousWeight = previousWeight
        self.elapsed = elapsed
        self.length = length
    }

    /// The bucket for a fixed window of `length` seconds containing `now`, keyed `prefix|<window start>`.
    public static func window(_ prefix: String, length: Int, budget: Int, now: Date) -> CounterBucket {
        let t = Int(now.timeIntervalSince1970)
        let start = t - t % max(1, length)
        return CounterBucket(
            key: "\(prefix)|\(start)", budget: budget, expiresAt: Date(timeIntervalSince1970: TimeInterval(start + length)),
            elapsed: now.timeIntervalSince1970 - Double(start), length: Double(max(1, length)))
    }

    /// The bucket for a sliding window of `length` seconds ending at `now`: the fixed window holding `now`, keyed
    /// `prefix|<start>`, plus the weighted previous one, `prefix|<start - length>`.
    public static func sliding(_ prefix: String, length: Int, budget: Int, now: Date) -> CounterBucket {
        let length = max(1, length)
        let t = Int(now.timeIntervalSince1970)
        let start = t - t % length
        let elapsed = now.timeIntervalSince1970 - Double(start)
        return CounterBucket(
            key: "\(prefix)|\(start)", budget: budget, expiresAt: Date(timeIntervalSince1970: TimeInterval(start + 2 * length)),
            previousKey: "\(prefix)|\(start - length)", previousWeight: max(0, 1 - elapsed / Double(length)), elapsed: elapsed,
            length: Double(length))
    }

    /// What the window counts: this window's count plus the still-counting part of the previous one's.
    public func estimate(previous: Int, current: Int) -> Int {
        current + (previousKey == nil ? 0 : Int((Double(previous) * previousWeight).rounded(.down)))
    }

    /// Seconds from now until one more unit fits the budget, given the previous and current counts (at least 1).
    public func secondsUntilFree(previous: Int, current: Int) -> Int {
        let remaining = length - elapsed
        // A budget of 0 (a limit switched to "never") frees nothing: the end of the next window, as a bound.
        guard previousKey != nil, budget > 0 else { return max(1, Int((remaining + (previousKey == nil ? 0 : length)).rounded(.up))) }
        let room = Double(budget - 1)
        let wait: Double
        if Double(current) <= room {
            // Within this window, as the previous one's weight falls.
            wait = previous == 0 ? 0 : max(0, length * (1 - (room - Double(current)) / Double(previous)) - elapsed)
        } else {
            // Into the next window, as this one's count (then the previous) loses weight.
            wait = remaining + length * (1 - room / Double(current))
        }
        return max(1, Int(wait.rounded(.up)))
    }

    /// The keys whose counts ``estimate(previous:current:)`` needs.
    public var keys: [String] { [key] + (previousKey.map { [$0] } ?? []) }
}

/// Window counters (fixed and sliding) for rate limits and login lockouts.
///
/// Two implementations: ``InMemoryWindowCounters`` (one process) and the SQL one in KeygateStorage (shared by
/// every instance on the database, so limits are not multiplied by the number of instances).
public protocol WindowCounters: Sendable {
    /// Counts one against every bucket, unless any is already at its budget (for a sliding bucket: its estimate,
    /// ``CounterBucket/estimate(previous:current:)``); then nothing is counted.
    /// - Returns: nil when counted, or the first bucket that was full.
    func acquire(_ buckets: [CounterBucket]) async throws -> CounterBucket?
    /// The current counts of these keys (absent keys count 0).
    func counts(_ keys: [String]) async throws -> [String: Int]
    /// Settles an attempt reserved with ``acquire(_:)`` that succeeded, in one step: gives one back to each of
    /// `release` (never below zero), forgets the keys `forget` entirely, and sets the marker `remember` to 1 until
    /// `until` (extending an existing one).
    func recordSuccess(release: [CounterBucket], forget: [String], remember: String, until: Date) async throws
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
            let full = buckets.first {
                $0.estimate(previous: $0.previousKey.flatMap { table[$0]?.count } ?? 0, current: table[$0.key]?.count ?? 0) >= $0.budget
            }
            if let full { return full }
            for bucket in buckets { table[bucket.key, default: Entry(count: 0, expiresAt: bucket.expiresAt)].count += 1 }
            return nil
        }
    }

    public func counts(_ keys: [String]) async throws -> [String: Int] {
        table.withLock { table in Dictionary(uniqueKeysWithValues: keys.map { ($0, table[$0]?.count ?? 0) }) }
    }

    public func recordSuccess(release: [CounterBucket], forget: [String], remember: String, until: Date) async throws {
        table.withLock { table in
            for bucket in release where !forget.contains(bucket.key) {
                if let entry = table[bucket.key], entry.count > 0 { table[bucket.key]?.count = entry.count - 1 }
            }
            for key in forget { table[key] = nil }
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

import Foundation
import KeygateCore

/// Per-organization request limits by the legacy API's classes: GET, POST+PUT, DELETE.
///
/// Each class has a per-second (or per-minute) and a per-hour budget, counted in fixed windows. Configuration
/// keys: `ratelimit.preset` (`generous`, the default; `zscaler`; `off`) and per class
/// `ratelimit.<get|write|delete>.<perSecond|perMinute|perHour>`, which override the preset.
/// Counters are ``WindowCounters``: in memory for a single instance on SQLite, in the database when several
/// instances share PostgreSQL, so the limit is not multiplied by the number of instances.
public struct RateLimiter: Sendable {
    /// A request class.
    public enum RequestClass: String, Sendable, CaseIterable {
        case get, write, delete
    }

    /// The limits of one class; nil disables that window.
    public struct ClassLimits: Sendable, Equatable {
        /// Budget per short window.
        public var short: Int?
        /// Length of the short window in seconds (1 or 60).
        public var shortWindow: Int
        /// Budget per hour.
        public var perHour: Int?

        public init(short: Int?, shortWindow: Int = 1, perHour: Int?) {
            self.short = short
            self.shortWindow = shortWindow
            self.perHour = perHour
        }

        var shortLabel: String { shortWindow == 1 ? "SECOND" : "MINUTE" }

        /// Whether any budget applies (`ratelimit.preset=off` sets none).
        var isLimited: Bool { short != nil || perHour != nil }
    }

    /// The three classes' limits.
    public struct Limits: Sendable, Equatable {
        public var get: ClassLimits
        public var write: ClassLimits
        public var delete: ClassLimits

        /// Defaults that normal automation never meets: GET 50/s and 50,000/h, POST/PUT 20/s and 10,000/h,
        /// DELETE 10/s and 2,000/h.
        public static let generous = Limits(
            get: .init(short: 50, perHour: 50_000), write: .init(short: 20, perHour: 10_000),
            delete: .init(short: 10, perHour: 2_000))
        /// Zscaler's published limits: GET 2/s and 1,000/h, POST/PUT 1/s and 400/h, DELETE 1/min and 4/h.
        public static let zscaler = Limits(
            get: .init(short: 2, perHour: 1_000), write: .init(short: 1, perHour: 400),
            delete: .init(short: 1, shortWindow: 60, perHour: 4))
        /// No limits.
        public static let off = Limits(
            get: .init(short: nil, perHour: nil), write: .init(short: nil, perHour: nil), delete: .init(short: nil, perHour: nil))

        /// The preset named `name`, or nil.
        public static func preset(_ name: String) -> Limits? {
            switch name.lowercased() {
            case "generous": .generous
            case "zscaler": .zscaler
            case "off", "none": .off
            default: nil
            }
        }

        public subscript(_ c: RequestClass) -> ClassLimits {
            get {
                switch c {
                case .get: get
                case .write: write
                case .delete: delete
                }
            }
            set {
                switch c {
                case .get: get = newValue
                case .write: write = newValue
                case .delete: delete = newValue
                }
            }
        }
    }

    /// The limits in force.
    public let limits: Limits
    /// Where requests are counted: this process's memory (one instance, SQLite) or the shared database
    /// (several instances on PostgreSQL), chosen by the executable.
    public let counters: any WindowCounters

    public init(limits: Limits, counters: any WindowCounters = InMemoryWindowCounters()) {
        self.limits = limits
        self.counters = counters
    }

    /// Counts a request; returns nil when allowed, or the whole seconds to wait and the limit's label.
    ///
    /// A refused request charges no window, so a client that waits as told is never locked out longer.
    public func acquire(orgID: Int64, class requestClass: RequestClass, now: Date) async throws -> (retryAfter: Int, label: String)? {
        let l = limits[requestClass]
        var buckets: [CounterBucket] = []
        var labels: [String: String] = [:]
        if let short = l.short {
            let bucket = CounterBucket.window("rl|\(orgID)|\(requestClass.rawValue)|s", length: l.shortWindow, budget: short, now: now)
            buckets.append(bucket)
            labels[bucket.key] = "\(short)/\(l.shortLabel)"
        }
        if let hour = l.perHour {
            let bucket = CounterBucket.window("rl|\(orgID)|\(requestClass.rawValue)|h", length: 3600, budget: hour, now: now)
            buckets.append(bucket)
            labels[bucket.key] = "\(hour)/HOUR"
        }
        if buckets.isEmpty { return nil }
        guard let full = try await counters.acquire(buckets) else { return nil }
        return (max(1, Int(full.expiresAt.timeIntervalSince(now).rounded(.up))), labels[full.key] ?? "")
    }
}

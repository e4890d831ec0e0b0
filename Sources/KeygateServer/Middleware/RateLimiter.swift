import Foundation
import Synchronization

/// Per-organization request limits by the legacy API's classes: GET, POST+PUT, DELETE.
///
/// Each class has a per-second (or per-minute) and a per-hour budget, counted in fixed windows. Configuration
/// keys: `ratelimit.preset` (`generous`, the default; `zscaler`; `off`) and per class
/// `ratelimit.<get|write|delete>.<perSecond|perMinute|perHour>`, which override the preset.
/// Decision: counters live in this process; several instances each enforce their own (issue 4 shares them).
public final class RateLimiter: Sendable {
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

        /// Creates limits.
        public init(short: Int?, shortWindow: Int = 1, perHour: Int?) {
            self.short = short
            self.shortWindow = shortWindow
            self.perHour = perHour
        }

        var shortLabel: String { shortWindow == 1 ? "SECOND" : "MINUTE" }
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

    private struct Window {
        var start: Int
        var count: Int
    }

    /// The limits in force.
    public let limits: Limits
    private let windows = Mutex<[String: Window]>([:])

    /// Creates a limiter.
    public init(limits: Limits) { self.limits = limits }

    /// Counts a request; returns nil when allowed, or the whole seconds to wait and the limit's label.
    ///
    /// A refused request charges no window, so a client that waits as told is never locked out longer.
    public func acquire(orgID: Int64, class requestClass: RequestClass, now: Date) -> (retryAfter: Int, label: String)? {
        let l = limits[requestClass]
        let t = Int(now.timeIntervalSince1970)
        var checks: [(key: String, start: Int, length: Int, budget: Int, label: String)] = []
        if let short = l.short {
            let start = t - t % l.shortWindow
            checks.append(("\(orgID)|\(requestClass.rawValue)|s", start, l.shortWindow, short, "\(short)/\(l.shortLabel)"))
        }
        if let hour = l.perHour {
            checks.append(("\(orgID)|\(requestClass.rawValue)|h", t - t % 3600, 3600, hour, "\(hour)/HOUR"))
        }
        if checks.isEmpty { return nil }
        return windows.withLock { table in
            for check in checks {
                if let w = table[check.key], w.start == check.start, w.count >= check.budget {
                    return (max(1, check.start + check.length - t), check.label)
                }
            }
            for check in checks {
                if var w = table[check.key], w.start == check.start {
                    w.count += 1
                    table[check.key] = w
                } else {
                    table[check.key] = Window(start: check.start, count: 1)
                }
            }
            return nil
        }
    }
}

import Foundation
import Synchronization

// API usage per organization, admin, day and key version: counted in memory on every session-checked request and
// flushed to the database on an interval and at graceful shutdown, so the hot path never writes.

/// Counts in memory until the next flush.
///
/// A crash loses what was counted since the last flush (at most one interval, `usage.flushSeconds`); a failed flush
/// puts its counts back, so a database outage delays figures and loses none while the process lives.
public final class UsageMeter: Sendable {
    private struct Bucket: Hashable {
        let orgID: Int64
        let adminID: Int64
        let day: Int64
        let keyVersion: Int64
    }

    private let counts = Mutex<[Bucket: Int64]>([:])

    public init() {}

    /// Counts one request of `principal` at `now`.
    public func count(_ principal: Principal, at now: Date) {
        let bucket = Bucket(
            orgID: principal.orgID, adminID: principal.admin.id, day: UsageMeter.day(of: now),
            keyVersion: principal.sessionKeyVersion ?? principal.key?.version ?? 0)
        counts.withLock { $0[bucket, default: 0] += 1 }
    }

    /// Takes every count out (to flush them).
    public func drain() -> [UsageCount] {
        let taken = counts.withLock { counts in
            defer { counts.removeAll(keepingCapacity: true) }
            return counts
        }
        return taken.map { UsageCount(orgID: $0.orgID, adminID: $0.adminID, day: $0.day, keyVersion: $0.keyVersion, requests: $1) }
    }

    /// Puts counts back (a flush that failed).
    public func restore(_ taken: [UsageCount]) {
        counts.withLock { counts in
            for c in taken { counts[Bucket(orgID: c.orgID, adminID: c.adminID, day: c.day, keyVersion: c.keyVersion), default: 0] += c.requests }
        }
    }

    /// Days since 1970-01-01 of `date`, UTC.
    public static func day(of date: Date) -> Int64 { Int64((date.timeIntervalSince1970 / 86_400).rounded(.down)) }
}

/// An organization's usage over some days, for the portal, the console and `keygate usage`.
public struct UsageReport: Sendable, Equatable {
    /// Per admin: today's and the whole period's requests, most requests first.
    public struct AdminUsage: Sendable, Equatable {
        public var adminID: Int64
        /// The admin's login name; nil for an admin deleted since.
        public var loginName: String?
        public var today: Int64
        public var period: Int64
    }

    /// Per day, per key version.
    public struct DayUsage: Sendable, Equatable {
        /// `YYYY-MM-DD`, UTC.
        public var date: String
        public var keyVersion: Int64
        public var requests: Int64
    }

    /// Days covered, today included.
    public var days: Int
    public var today: Int64
    public var period: Int64
    public var admins: [AdminUsage]
    /// Oldest first.
    public var byDay: [DayUsage]
}

/// API usage: counting, flushing, the report.
public struct UsageUseCases: UseCases {
    /// What this concept needs of storage: the counts, and the admins' names for the report.
    let usageStorage: any UsageStore & AdminStore
    let environment: UseCaseEnvironment
}

extension UsageUseCases {
    /// Counts one session-checked API request (nothing when this process keeps no meter).
    public func recordUsage(_ principal: Principal) { usageMeter?.count(principal, at: now()) }

    /// Writes what the meter counted since the last flush. On failure the counts are kept for the next one.
    /// - Returns: the rows written.
    @discardableResult
    public func flushUsage() async throws -> Int {
        guard let usageMeter else { return 0 }
        let taken = usageMeter.drain()
        guard !taken.isEmpty else { return 0 }
        do {
            try await usageStorage.addUsage(taken)
        } catch {
            usageMeter.restore(taken)
            throw error
        }
        return taken.count
    }

    /// The organization's usage over the last `days` days (today included), from the database: what every instance
    /// flushed (figures of the current interval are still in memory).
    public func usageReport(_ provider: Provider, orgID: Int64, days: Int) async throws -> UsageReport {
        try await usageReport(orgID: orgID, days: days)
    }

    /// The caller's organization's usage (the key page's panel). Requires ``AccessRules/Action/viewKey``.
    public func usageReport(_ principal: Principal, days: Int) async throws -> UsageReport {
        try principal.require(.viewKey)
        return try await usageReport(orgID: principal.orgID, days: days)
    }

    private func usageReport(orgID: Int64, days: Int) async throws -> UsageReport {
        let days = max(1, min(days, 366))
        let today = UsageMeter.day(of: now())
        let rows = try await usageStorage.usage(orgID: orgID, fromDay: today - Int64(days - 1), toDay: today)
        let names = Dictionary(uniqueKeysWithValues: try await usageStorage.admins(orgID: orgID).map { ($0.id, $0.loginName) })
        var admins: [Int64: UsageReport.AdminUsage] = [:]
        var byDay: [String: UsageReport.DayUsage] = [:]
        for row in rows {
            admins[row.adminID, default: .init(adminID: row.adminID, loginName: names[row.adminID], today: 0, period: 0)].period += row.requests
            if row.day == today { admins[row.adminID]!.today += row.requests }
            let date = Self.dayString(row.day)
            byDay["\(date) \(row.keyVersion)", default: .init(date: date, keyVersion: row.keyVersion, requests: 0)].requests += row.requests
        }
        let sortedAdmins = admins.values.sorted { ($0.period, $1.adminID) > ($1.period, $0.adminID) }
        return UsageReport(
            days: days, today: sortedAdmins.reduce(0) { $0 + $1.today }, period: sortedAdmins.reduce(0) { $0 + $1.period },
            admins: sortedAdmins, byDay: byDay.values.sorted { ($0.date, $0.keyVersion) < ($1.date, $1.keyVersion) })
    }

    /// `YYYY-MM-DD` of a day number (UTC).
    static func dayString(_ day: Int64) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: Double(day) * 86_400))
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }
}

import Foundation

/// API requests counted per organization, admin, day and key version.
public protocol UsageStore: Sendable {
    /// Adds the counts to the stored ones (a row per organization, admin, day and key version), in one transaction.
    func addUsage(_ counts: [UsageCount]) async throws
    /// The organization's stored counts for days `from...to` (days since 1970-01-01, UTC).
    func usage(orgID: Int64, fromDay: Int64, toDay: Int64) async throws -> [UsageCount]
}

/// Requests of one admin of one organization on one day with one key version.
public struct UsageCount: Sendable, Hashable {
    public var orgID: Int64
    public var adminID: Int64
    /// Days since 1970-01-01, UTC.
    public var day: Int64
    /// The key version the requests' session was made with (a rotation shows as a new version from its moment).
    public var keyVersion: Int64
    public var requests: Int64

    public init(orgID: Int64, adminID: Int64, day: Int64, keyVersion: Int64, requests: Int64) {
        self.orgID = orgID
        self.adminID = adminID
        self.day = day
        self.keyVersion = keyVersion
        self.requests = requests
    }
}

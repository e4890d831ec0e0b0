import Foundation

/// A browser session of the admin portal: separate from API sessions (its own cookie, table and idle timeout),
/// bound to one admin account in one organization. Only the SHA-256 of its token is stored.
public struct PortalSession: Sendable, Hashable {
    /// Hex SHA-256 of the token.
    public var tokenHash: String
    /// The admin signed in.
    public var adminID: Int64
    /// Their organization.
    public var orgID: Int64
    /// Sign-in time.
    public var createdAt: Date
    /// Last request time, coalesced like API sessions'.
    public var lastSeenAt: Date

    public init(tokenHash: String, adminID: Int64, orgID: Int64, createdAt: Date, lastSeenAt: Date) {
        self.tokenHash = tokenHash
        self.adminID = adminID
        self.orgID = orgID
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
    }
}

/// A portal session with what every page needs, read in one query.
public struct PortalSnapshot: Sendable, Hashable {
    /// The session.
    public var session: PortalSession
    /// The admin.
    public var admin: Admin
    /// Their role.
    public var role: Role
    /// The organization's name.
    public var organizationName: String

    public init(session: PortalSession, admin: Admin, role: Role, organizationName: String) {
        self.session = session
        self.admin = admin
        self.role = role
        self.organizationName = organizationName
    }
}

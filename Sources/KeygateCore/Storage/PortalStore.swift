import Foundation

/// The admin portal's browser sessions and each admin's page preferences.
///
/// One capability of ``KeygateStore``; the use cases of a concept need only theirs. The rules every method keeps
/// (one transaction each, change announcements) are ``KeygateStore``'s.
public protocol PortalStore: Sendable {
    /// Stores new portal sessions (one per organization signed in to) and their audit events, together.
    func createPortalSessions(_ sessions: [PortalSession], audits: [AuditEvent]) async throws
    /// The portal session with its admin, role and organization name.
    func portalSnapshot(tokenHash: String) async throws -> PortalSnapshot?
    /// The portal sessions among these token hashes, each with its admin, role and organization, in one read (a
    /// browser signed in to several organizations holds one token each).
    func portalSnapshots(tokenHashes: [String]) async throws -> [PortalSnapshot]
    /// Records activity on a portal session (announces nothing, like ``touchSession(tokenHash:at:)``).
    func touchPortalSession(tokenHash: String, at: Date) async throws
    /// Ends portal sessions (sign-out). - Returns: how many existed.
    func deletePortalSessions(tokenHashes: [String]) async throws -> Int
    /// Removes portal sessions last seen before `cutoff`. - Returns: how many.
    func deleteIdlePortalSessions(lastSeenBefore cutoff: Date) async throws -> Int
    /// One of an admin's saved preferences (the portal's key-table columns), or nil.
    func adminPreference(adminID: Int64, name: String) async throws -> String?
    /// Saves one of an admin's preferences.
    func setAdminPreference(adminID: Int64, name: String, value: String) async throws
}

import Foundation

/// API sessions: login candidates, create (with the replay guard), check, touch, end, expire, count.
///
/// One capability of ``KeygateStore``; the use cases of a concept need only theirs. The rules every method keeps
/// (one transaction each, change announcements) are ``KeygateStore``'s.
public protocol SessionStore: Sendable {
    /// Admins with this login name in any organization, each with role and key: the login's candidates.
    func loginCandidates(loginName: String) async throws -> [LoginCandidate]
    /// Stores a new session unless `replayDigest` was already used; records the key's last use and `audit`.
    /// - Returns: false when the login is a replay (nothing stored).
    func createSession(_ session: APISession, replayDigest: String, replayExpiresAt: Date, audit: AuditEvent)
        async throws -> Bool
    /// The session with its admin, role and the organization's current key, in one read.
    func sessionSnapshot(tokenHash: String) async throws -> SessionSnapshot?
    /// Records activity on a session. Announces nothing: a cache holding an older last-seen time at worst asks
    /// for this write again or re-reads a session it believes idle.
    func touchSession(tokenHash: String, at: Date) async throws
    /// Ends one session. - Returns: whether it existed.
    func deleteSession(tokenHash: String, audit: AuditEvent?) async throws -> Bool
    /// Removes sessions idle longer than their kind's timeout, ended grace periods and old replay digests.
    func deleteExpired(now: Date, ztwIdle: TimeInterval, ziaIdle: TimeInterval) async throws -> Int
    /// The organization's live (stored) sessions.
    func sessionCount(orgID: Int64) async throws -> Int
    /// API sessions of every organization not idle past their kind's timeout at `now` and not past a grace period.
    func liveSessionCount(now: Date, ztwIdle: TimeInterval, ziaIdle: TimeInterval) async throws -> Int
}

import Foundation

/// The audit trail.
///
/// One capability of ``KeygateStore``; the use cases of a concept need only theirs. The rules every method keeps
/// (one transaction each, change announcements) are ``KeygateStore``'s.
public protocol AuditStore: Sendable {
    /// Newest first, at most `limit`, optionally only actions starting with `actionPrefix`.
    func auditEvents(orgID: Int64, actionPrefix: String?, limit: Int) async throws -> [AuditRecord]
    /// Appends one event on its own.
    func appendAudit(_ event: AuditEvent) async throws
}

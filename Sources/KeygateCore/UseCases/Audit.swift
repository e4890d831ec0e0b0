import Foundation

// The audit trail, as an admin and as the provider read it.

/// The audit trail, as an admin and as the provider read it.
public struct AuditUseCases: UseCases {
    /// What this concept needs of storage (the audit trail), and no more: its use cases reach data only through it.
    let auditStorage: any AuditStore
    let environment: UseCaseEnvironment
}

extension AuditUseCases {
    /// The organization's audit trail, newest first.
    public func auditTrail(_ provider: Provider, orgID: Int64, actionPrefix: String? = nil, limit: Int = 200) async throws -> [AuditRecord] {
        try await auditTrail(orgID: orgID, actionPrefix: actionPrefix, limit: limit)
    }

    private func auditTrail(orgID: Int64, actionPrefix: String?, limit: Int) async throws -> [AuditRecord] {
        try await auditStorage.auditEvents(orgID: orgID, actionPrefix: actionPrefix, limit: max(1, min(limit, 10_000)))
    }

    /// The caller's organization's audit trail, newest first, optionally one kind only. Requires ``AccessRules/Action/viewAudit``.
    /// - Throws: ``KeygateError/invalidInput(_:)`` for an unknown kind.
    public func auditTrail(_ principal: Principal, type: String?, limit: Int = 500) async throws -> [AuditRecord] {
        try principal.require(.viewAudit)
        if let type, !Self.auditTypes.contains(type) {
            throw KeygateError.invalidInput("type must be one of \(Self.auditTypes.joined(separator: ", "))")
        }
        return try await auditTrail(orgID: principal.orgID, actionPrefix: type.map { $0 + "." }, limit: limit)
    }

    /// The kinds of audit event a reader can filter by (the action's first part): ``AuditAction/kinds``.
    public static var auditTypes: [String] { AuditAction.kinds }
}

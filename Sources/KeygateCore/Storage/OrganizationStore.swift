import Foundation

/// Organizations: provisioning, lookup, the console's summaries, the rotation policy.
///
/// One capability of ``KeygateStore``; the use cases of a concept need only theirs. The rules every method keeps
/// (one transaction each, change announcements) are ``KeygateStore``'s.
public protocol OrganizationStore: Sendable {
    /// Provisions an organization with its Super Admin role and first admin, and optionally its first key.
    /// - Parameter sealKey: seals the first key for the new organization id, or nil to start without a key.
    /// - Throws: ``KeygateError/conflict(_:)`` when the name is taken.
    func createOrganization(
        name: String, superAdmin: NewAdmin, sealKey: (@Sendable (Int64) throws -> String)?, at: Date
    ) async throws -> ProvisionedOrganization
    /// The organization with this id.
    func organization(id: Int64) async throws -> Organization?
    /// The organization with this exact name.
    func organization(named name: String) async throws -> Organization?
    /// Every organization with the figures the provider's list shows, by name.
    func organizationSummaries() async throws -> [OrganizationSummary]
    /// Sets the rotation policy, recording `audit`.
    func setRotationPolicy(orgID: Int64, policy: RotationPolicy, audit: AuditEvent) async throws
}

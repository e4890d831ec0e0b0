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
    /// One page of the provider's list, by case-folded name: the organizations whose name starts with
    /// `namePrefix` (case-insensitively; all when empty), `limit` of them from `offset`. Served by an index at any
    /// size.
    func organizationSummaries(namePrefix: String, offset: Int, limit: Int) async throws -> [OrganizationSummary]
    /// How many organizations' names start with `namePrefix`, counted up to `cap` (counting a million rows is a scan).
    func countOrganizations(namePrefix: String, cap: Int) async throws -> Int
    /// Organizations in id order after `afterID`, at most `limit` (`keygate org list` and `export` page with it).
    func organizationSummaries(afterID: Int64, limit: Int) async throws -> [OrganizationSummary]
    /// Creates, in one transaction, each organization whose name is free, with its roles, Super Admin, key (sealed
    /// by `sealKey` for the new id) and an `org.provisioned` audit event by `operator`. A name that exists is
    /// ``OrganizationImportOutcome/existing``; a login name in use is ``OrganizationImportOutcome/failed(_:)``. The
    /// rows' names and login names are distinct (the caller checks).
    func importOrganizations(
        _ rows: [NewOrganization], sealKey: @Sendable (Int64, APIKeyValue) throws -> String, operator: String, at: Date
    ) async throws -> [OrganizationImportOutcome]
    /// Organizations after `afterID` in id order, at most `limit`, each with its Super Admin (the oldest admin with
    /// the Super Admin role) and sealed key.
    func organizationsForExport(afterID: Int64, limit: Int) async throws -> [OrganizationExportRow]
    /// Sets the rotation policy, recording `audit`.
    func setRotationPolicy(orgID: Int64, policy: RotationPolicy, audit: AuditEvent) async throws
}

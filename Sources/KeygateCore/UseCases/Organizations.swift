import Foundation

// Organizations, the provider's: provisioning (Super Admin, read-only role, first key), lookup, the console's pages,
// the rotation policy.

/// What provisioning an organization returns to the operator, once: the clear password and key.
public struct ProvisioningResult: Sendable {
    /// The organization.
    public var organization: Organization
    /// Its Super Admin.
    public var admin: Admin
    /// The admin's password (generated unless the operator gave one). Shown once, stored only as a hash.
    public var password: String
    /// The first key.
    public var key: APIKey
}

extension Keygate {
    /// Provisions an organization, its Super Admin role and admin, and its first key (Last Modified By: provider).
    /// - Parameter password: the admin's password, or nil to generate one.
    public func provisionOrganization(name: String, adminLogin: String, password: String?, operator operatorName: String)
        async throws -> ProvisioningResult
    {
        try Organization.validateName(name)
        try Admin.validateLoginName(adminLogin)
        let password = password ?? PasswordPolicy.generate()
        try PasswordPolicy.validate(password)
        let hash = try await hasher.hash(password)
        let key = APIKeyValue.generate()
        let cipher = self.cipher
        let result = try await organizationStorage.createOrganization(
            name: name, superAdmin: NewAdmin(loginName: adminLogin, userName: adminLogin, email: "", passwordHash: hash),
            sealKey: { orgID in try cipher.seal(key, orgID: orgID) }, at: now())
        guard let sealed = result.key else { throw KeygateError.notFound("API key not found") }
        try await organizationStorage.appendAudit(
            AuditEvent(
                orgID: result.organization.id, at: now(), actor: .provider(name: operatorName), action: "org.provisioned",
                detail: "organization \(name) with admin \(adminLogin) and its first API key"))
        return ProvisioningResult(organization: result.organization, admin: result.admin, password: password, key: try open(sealed))
    }

    /// One page of the provider's organization list.
    public struct OrganizationPage: Sendable {
        /// This page's organizations, by name.
        public var summaries: [OrganizationSummary]
        /// How many match in all.
        public var total: Int
        /// This page (1-based, clamped to the pages there are).
        public var page: Int
        /// How many pages there are (at least 1).
        public var pages: Int
    }

    /// The organizations whose name contains `search` (case-insensitively; all when empty), `pageSize` per page.
    public func organizationPage(search: String, page: Int, pageSize: Int) async throws -> OrganizationPage {
        let needle = search.trimmingCharacters(in: .whitespaces)
        let all = try await organizationStorage.organizationSummaries()
        let matching = needle.isEmpty ? all : all.filter { $0.organization.name.localizedCaseInsensitiveContains(needle) }
        let size = max(1, pageSize)
        let pages = max(1, (matching.count + size - 1) / size)
        let page = min(max(1, page), pages)
        return OrganizationPage(
            summaries: Array(matching.dropFirst((page - 1) * size).prefix(size)), total: matching.count, page: page, pages: pages)
    }

    /// The organization with this id.
    /// - Throws: ``KeygateError/notFound(_:)``.
    public func organization(id: Int64) async throws -> Organization {
        guard let org = try await organizationStorage.organization(id: id) else { throw KeygateError.notFound("organization \(id) not found") }
        return org
    }

    /// Looks an organization up by id (digits) or by name.
    public func findOrganization(_ reference: String) async throws -> Organization {
        if let id = Int64(reference), let org = try await organizationStorage.organization(id: id) { return org }
        if let org = try await organizationStorage.organization(named: reference) { return org }
        throw KeygateError.notFound("organization \(reference) not found")
    }

    /// Sets the organization's rotation policy (provider or CLI).
    public func setRotationPolicy(orgID: Int64, policy: RotationPolicy, operator name: String) async throws {
        try await organizationStorage.setRotationPolicy(
            orgID: orgID, policy: policy,
            audit: AuditEvent(orgID: orgID, at: now(), actor: .provider(name: name), action: "org.rotation_policy", detail: policy.storedValue))
    }

    /// Every organization with its admin count, key status and last use (`keygate org list`, the console).
    public func organizationSummaries() async throws -> [OrganizationSummary] { try await organizationStorage.organizationSummaries() }

    /// Whether any organization exists (`serve` provisions the demo organization only on an empty database).
    public func hasOrganizations() async throws -> Bool { try await !organizationStorage.organizationSummaries().isEmpty }
}

extension Keygate {
    /// What this concept needs of storage (organizations and the provisioning audit event), and no more: its use cases reach data only through it.
    private var organizationStorage: any OrganizationStore & AuditStore { store }
}

import Foundation

/// Everything Keygate persists, behind one protocol. Each method is atomic: a backend runs it in one
/// transaction, so a change and its audit event and session effects land together or not at all.
///
/// Backends: `SQLKeygateStore` (SQLite now, PostgreSQL through the same SQL). All backends pass the same
/// contract tests. Methods throw ``KeygateError`` for domain outcomes (conflict, edit lock) and anything else
/// for infrastructure failures.
///
/// Session caches: every method that writes must, once committed, announce the change to every process's
/// ``SessionCache`` (the SQL store does so in its transactions), except the writes no cached API-session
/// snapshot depends on: ``touchSession(tokenHash:at:)`` (a cache may safely miss it, see ``SessionCache``) and
/// the portal's own sessions and preferences.
public protocol KeygateStore: Sendable {
    // MARK: Organizations

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

    // MARK: The key

    /// The organization's key row, sealed; nil when it has none.
    func sealedKey(orgID: Int64) async throws -> SealedAPIKey?
    /// Applies a key change with its session effect and audit event in one transaction.
    /// - Throws: ``KeygateError/editLockNotAvailable`` when `expectedVersion` is stale (a concurrent change won),
    ///   ``KeygateError/conflict(_:)`` when adding while a key exists.
    func applyKeyChange(_ change: KeyChange) async throws -> KeyChangeResult

    // MARK: Sessions

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

    // MARK: Roles

    /// The organization's roles by id.
    func roles(orgID: Int64) async throws -> [Role]
    /// One role of the organization.
    func role(orgID: Int64, id: Int64) async throws -> Role?
    /// Inserts a role (its `id` is ignored). - Throws: ``KeygateError/conflict(_:)`` on a duplicate name.
    func insertRole(_ role: Role, audit: AuditEvent) async throws -> Role
    /// Replaces a role. - Throws: ``KeygateError/conflict(_:)`` on a duplicate name.
    func updateRole(_ role: Role, audit: AuditEvent) async throws
    /// Deletes a role. - Throws: ``KeygateError/conflict(_:)`` while an admin holds it.
    func deleteRole(orgID: Int64, id: Int64, audit: AuditEvent) async throws

    // MARK: Admins

    /// The organization's admins by id.
    func admins(orgID: Int64) async throws -> [Admin]
    /// One admin of the organization.
    func admin(orgID: Int64, id: Int64) async throws -> Admin?
    /// Inserts an admin (its `id` is ignored). - Throws: ``KeygateError/conflict(_:)`` on a duplicate login name.
    func insertAdmin(_ admin: Admin, audit: AuditEvent) async throws -> Admin
    /// Replaces an admin; ends their API and portal sessions (all, or all but the one whose token hash is
    /// `keepSession`) when `endSessions` is set.
    func updateAdmin(_ admin: Admin, endSessions: Bool, keepSession: String?, audit: AuditEvent) async throws
    /// Deletes an admin and their sessions.
    func deleteAdmin(orgID: Int64, id: Int64, audit: AuditEvent) async throws

    // MARK: Portal

    /// Stores new portal sessions (one per organization signed in to) and their audit events, together.
    func createPortalSessions(_ sessions: [PortalSession], audits: [AuditEvent]) async throws
    /// The portal session with its admin, role and organization name.
    func portalSnapshot(tokenHash: String) async throws -> PortalSnapshot?
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

    // MARK: Provider console

    /// Adds an operator. - Throws: ``KeygateError/conflict(_:)`` when the login name is taken.
    func insertOperator(_ op: ProviderOperator) async throws -> ProviderOperator
    /// The operator with this login name (case-insensitive), or nil.
    func providerOperator(loginName: String) async throws -> ProviderOperator?
    /// Every operator, by login name.
    func providerOperators() async throws -> [ProviderOperator]
    /// Disables or enables an operator; disabling also ends their console sessions.
    /// - Returns: false when no operator has that login name.
    func setOperatorDisabled(loginName: String, disabled: Bool) async throws -> Bool
    /// Stores a console session (hashed token) for an operator.
    func createOperatorSession(tokenHash: String, operatorID: Int64, at: Date) async throws
    /// The operator of a console session, when it was last seen and when it began, or nil.
    func operatorSession(tokenHash: String) async throws -> (ProviderOperator, lastSeenAt: Date, createdAt: Date)?
    /// Records activity on a console session.
    func touchOperatorSession(tokenHash: String, at: Date) async throws
    /// Ends console sessions, and those last seen before `idleBefore` when given. - Returns: how many.
    func deleteOperatorSessions(tokenHashes: [String], idleBefore: Date?) async throws -> Int

    // MARK: Audit

    /// Newest first, at most `limit`, optionally only actions starting with `actionPrefix`.
    func auditEvents(orgID: Int64, actionPrefix: String?, limit: Int) async throws -> [AuditEvent]
    /// Appends one event on its own.
    func appendAudit(_ event: AuditEvent) async throws
}

/// An admin to create along with an organization.
public struct NewAdmin: Sendable {
    /// Sign-in name.
    public var loginName: String
    /// Display name.
    public var userName: String
    /// Contact address.
    public var email: String
    /// bcrypt hash.
    public var passwordHash: String

    /// Creates the draft.
    public init(loginName: String, userName: String, email: String, passwordHash: String) {
        self.loginName = loginName
        self.userName = userName
        self.email = email
        self.passwordHash = passwordHash
    }
}

/// What provisioning created.
public struct ProvisionedOrganization: Sendable {
    /// The organization.
    public var organization: Organization
    /// Its Super Admin role.
    public var role: Role
    /// Its first admin.
    public var admin: Admin
    /// Its first key, sealed, if one was made.
    public var key: SealedAPIKey?

    /// Creates the result.
    public init(organization: Organization, role: Role, admin: Admin, key: SealedAPIKey?) {
        self.organization = organization
        self.role = role
        self.admin = admin
        self.key = key
    }
}

/// One row of the provider's organization list.
public struct OrganizationSummary: Sendable {
    /// The organization.
    public var organization: Organization
    /// Number of admins.
    public var adminCount: Int
    /// nil: no key; otherwise whether it is enabled.
    public var keyEnabled: Bool?
    /// When the key last created a session.
    public var keyLastUsedAt: Date?

    /// Creates a summary.
    public init(organization: Organization, adminCount: Int, keyEnabled: Bool?, keyLastUsedAt: Date?) {
        self.organization = organization
        self.adminCount = adminCount
        self.keyEnabled = keyEnabled
        self.keyLastUsedAt = keyLastUsedAt
    }
}

/// An admin who might be logging in, with what the login check needs.
public struct LoginCandidate: Sendable {
    /// The admin.
    public var admin: Admin
    /// Their role.
    public var role: Role
    /// Their organization's key, sealed; nil when it has none.
    public var key: SealedAPIKey?

    /// Creates a candidate.
    public init(admin: Admin, role: Role, key: SealedAPIKey?) {
        self.admin = admin
        self.role = role
        self.key = key
    }
}

/// A change to an organization's key, as the domain decided it. The backend applies it atomically.
public struct KeyChange: Sendable {
    /// What happens to the key row.
    public enum Operation: Sendable, Equatable {
        /// Insert a key; fails if one exists.
        case add(sealedValue: String)
        /// Replace the value (edit or regenerate) if the row still has `expectedVersion`.
        case replace(sealedValue: String, expectedVersion: Int64)
        /// Delete the row if it still has `expectedVersion`.
        case delete(expectedVersion: Int64)
        /// Enable or disable it if it still has `expectedVersion`.
        case setEnabled(Bool, expectedVersion: Int64)
    }

    /// What happens to the organization's sessions.
    public enum SessionEffect: Sendable, Equatable {
        /// Nothing.
        case none
        /// End every session of the organization.
        case endAll
        /// A rotation: apply `policy` to sessions of the old version; `callerTokenHash` moves to the new key.
        case rotate(policy: RotationPolicy, callerTokenHash: String?)
    }

    /// Organization.
    public var orgID: Int64
    /// The row change.
    public var operation: Operation
    /// The session effect.
    public var sessionEffect: SessionEffect
    /// Who made it (Last Modified By).
    public var actor: ChangeActor
    /// When (Last Modified On).
    public var at: Date
    /// The audit action (`key.added`, ...) and detail; the backend adds the number of sessions ended.
    public var auditAction: String
    /// Audit detail.
    public var auditDetail: String

    /// Creates a change.
    public init(
        orgID: Int64, operation: Operation, sessionEffect: SessionEffect, actor: ChangeActor, at: Date,
        auditAction: String, auditDetail: String
    ) {
        self.orgID = orgID
        self.operation = operation
        self.sessionEffect = sessionEffect
        self.actor = actor
        self.at = at
        self.auditAction = auditAction
        self.auditDetail = auditDetail
    }
}

/// What a key change did.
public struct KeyChangeResult: Sendable {
    /// The key row after the change; nil after a delete.
    public var key: SealedAPIKey?
    /// How many sessions it ended.
    public var endedSessions: Int

    /// Creates a result.
    public init(key: SealedAPIKey?, endedSessions: Int) {
        self.key = key
        self.endedSessions = endedSessions
    }
}

import Foundation

/// Everything Keygate persists: one protocol per concept (this folder), composed. Each method is atomic: a backend
/// runs it in one transaction, so a change and its audit event and session effects land together or not at all.
///
/// Backends: `SQLKeygateStore` (SQLite and PostgreSQL through the same SQL, one file per concept). All backends pass the same
/// contract tests. Methods throw ``KeygateError`` for domain outcomes (conflict, edit lock) and anything else
/// for infrastructure failures.
///
/// Session caches: every method that writes must, once committed, announce the change to every process's
/// ``SessionCache`` (the SQL store does so in its transactions), except the writes no cached API-session
/// snapshot depends on: ``touchSession(tokenHash:at:)`` (a cache may safely miss it, see ``SessionCache``) and
/// the portal's own sessions and preferences.
public typealias KeygateStore = OrganizationStore & KeyStore & SessionStore & RoleStore & AdminStore & PortalStore & OperatorStore
    & AuditStore & InstanceStore & UsageStore & WebhookStore

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
    /// What it is, for the audit trail, the metrics and webhooks.
    public var action: AuditAction
    /// Audit detail, before ``record(endedSessions:)`` adds the number of sessions ended.
    public var detail: String

    public init(
        orgID: Int64, operation: Operation, sessionEffect: SessionEffect, actor: ChangeActor, at: Date,
        action: AuditAction, detail: String
    ) {
        self.orgID = orgID
        self.operation = operation
        self.sessionEffect = sessionEffect
        self.actor = actor
        self.at = at
        self.action = action
        self.detail = detail
    }

    /// What the change writes besides the key and session rows, once the backend knows how many sessions it ended:
    /// the audit row (the count added to its detail), the action's webhook event and, for a rotation that ended
    /// sessions, a `sessions.ended_by_rotation` event with the count.
    public func record(endedSessions ended: Int) -> ChangeRecord {
        let audit = AuditEvent(
            orgID: orgID, at: at, actor: actor, action: action, detail: ended > 0 ? "\(detail); \(ended) session(s) ended" : detail)
        var record = audit.record
        if ended > 0, case .rotate = sessionEffect {
            record.outbox.append(OutboxEvent(of: audit, type: .sessionsEndedByRotation, data: ["count": .int(Int64(ended))]))
        }
        return record
    }
}

/// What a key change did.
public struct KeyChangeResult: Sendable {
    /// The key row after the change; nil after a delete.
    public var key: SealedAPIKey?
    /// How many sessions it ended.
    public var endedSessions: Int

    public init(key: SealedAPIKey?, endedSessions: Int) {
        self.key = key
        self.endedSessions = endedSessions
    }
}

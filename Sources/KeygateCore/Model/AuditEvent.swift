import Foundation

/// One entry of an organization's audit trail. Never holds a secret (no key value, password or token).
public struct AuditEvent: Sendable, Hashable {
    /// Database id (0 before insert).
    public var id: Int64
    /// Organization.
    public var orgID: Int64
    /// When it happened.
    public var at: Date
    /// Who did it.
    public var actor: ChangeActor
    /// What happened, dotted lower-case: `key.added`, `key.edited`, `session.created`, `admin.disabled`, ...
    public var action: String
    /// Human-readable detail (ids, counts; no secrets).
    public var detail: String

    public init(id: Int64 = 0, orgID: Int64, at: Date, actor: ChangeActor, action: String, detail: String) {
        self.id = id
        self.orgID = orgID
        self.at = at
        self.actor = actor
        self.action = action
        self.detail = detail
    }
}

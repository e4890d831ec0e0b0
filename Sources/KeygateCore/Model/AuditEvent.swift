import Foundation

/// What happened, as the use cases say it. The one vocabulary of the domain's events: the audit row, the metric and
/// the webhook event of a change are all derived from its action here (``webhookEvent``, ``keyChange``), and nowhere
/// else. The raw value is what the audit trail stores and shows (dotted lower-case, `kind.verb`).
public enum AuditAction: String, Sendable, CaseIterable, Hashable {
    case keyAdded = "key.added"
    case keyEdited = "key.edited"
    case keyRegenerated = "key.regenerated"
    case keyDeleted = "key.deleted"
    case keyDisabled = "key.disabled"
    case keyEnabled = "key.enabled"
    case adminCreated = "admin.created"
    case adminUpdated = "admin.updated"
    case adminDeleted = "admin.deleted"
    /// Written by migration 6 only, for a login name it made unique.
    case adminRenamed = "admin.renamed"
    case adminDisabled = "admin.disabled"
    case adminEnabled = "admin.enabled"
    /// An admin's password set by another admin.
    case adminPasswordReset = "admin.password_reset"
    /// An admin's own password changed by them.
    case adminPasswordChanged = "admin.password_changed"
    case roleCreated = "role.created"
    case roleUpdated = "role.updated"
    case roleDeleted = "role.deleted"
    case sessionCreated = "session.created"
    case sessionEnded = "session.ended"
    case portalSignedIn = "portal.signed_in"
    case orgProvisioned = "org.provisioned"
    case orgRotationPolicy = "org.rotation_policy"
    case webhookCreated = "webhook.created"
    case webhookUpdated = "webhook.updated"
    case webhookDeleted = "webhook.deleted"
    case webhookSecretRolled = "webhook.secret_rolled"
    /// Keygate disabled an endpoint: its receiver answered `410 Gone`, or failed every attempt for days.
    case webhookDisabled = "webhook.disabled"
    /// An admin sent one delivery again.
    case webhookResent = "webhook.resent"
    /// An admin sent again an endpoint's deliveries that failed since a time.
    case webhookRecovered = "webhook.recovered"

    /// The action's kind, the part before the dot (`key`, `admin`, ...): what a reader of the trail filters by.
    public var kind: String { String(rawValue.prefix { $0 != "." }) }

    /// The kinds a reader can filter the trail by, in a stable order.
    public static let kinds: [String] = allCases.reduce(into: []) { kinds, action in
        if !kinds.contains(action.kind) { kinds.append(action.kind) }
    }

    /// The webhook event this action stands for; nil for actions no webhook reports. Both password actions are
    /// `admin.password_changed` to a receiver: who set it is in the payload's actor.
    public var webhookEvent: WebhookEventType? {
        switch self {
        case .keyAdded: .keyAdded
        case .keyEdited: .keyEdited
        case .keyRegenerated: .keyRegenerated
        case .keyDeleted: .keyDeleted
        case .keyDisabled: .keyDisabled
        case .keyEnabled: .keyEnabled
        case .adminCreated: .adminCreated
        case .adminDisabled: .adminDisabled
        case .adminEnabled: .adminEnabled
        case .adminPasswordChanged, .adminPasswordReset: .adminPasswordChanged
        default: nil
        }
    }

    /// The key change this action is, for ``KeygateMetrics``; nil for actions on anything but the key.
    public var keyChange: KeygateMetrics.KeyChangeKind? {
        switch self {
        case .keyAdded: .added
        case .keyEdited: .edited
        case .keyRegenerated: .regenerated
        case .keyDeleted: .deleted
        case .keyDisabled: .disabled
        case .keyEnabled: .enabled
        default: nil
        }
    }
}

/// One event a use case emits: what happened to which organization, when, by whom. Never holds a secret (no key
/// value, password or token). What storage writes for it is its ``record``.
public struct AuditEvent: Sendable, Hashable {
    /// Organization.
    public var orgID: Int64
    /// When it happened.
    public var at: Date
    /// Who did it.
    public var actor: ChangeActor
    /// What happened.
    public var action: AuditAction
    /// Human-readable detail (ids, counts; no secrets).
    public var detail: String

    public init(orgID: Int64, at: Date, actor: ChangeActor, action: AuditAction, detail: String) {
        self.orgID = orgID
        self.at = at
        self.actor = actor
        self.action = action
        self.detail = detail
    }

    /// What storage writes for this event, in the change's transaction: the audit row and the webhook event its
    /// action stands for (with the detail as the payload's summary).
    public var record: ChangeRecord {
        ChangeRecord(
            audit: self,
            outbox: action.webhookEvent.map { [OutboxEvent(of: self, type: $0, data: ["summary": .string(detail)])] } ?? [])
    }
}

/// A webhook event to enqueue: storage writes it with a pending delivery for each enabled endpoint of the
/// organization subscribed to its type, and nothing when there is none (the outbox, see ``WebhookStore``).
public struct OutboxEvent: Sendable, Hashable {
    /// The event's id (`evt_…`), the same on every delivery attempt.
    public var id: String
    public var orgID: Int64
    public var type: WebhookEventType
    /// The JSON body receivers get (``WebhookPayload``).
    public var payload: String
    public var at: Date

    public init(of event: AuditEvent, type: WebhookEventType, data: [String: WebhookPayload.Value]) {
        let id = WebhookPayload.newEventID()
        self.id = id
        self.orgID = event.orgID
        self.type = type
        self.payload = WebhookPayload.json(id: id, type: type, at: event.at, orgID: event.orgID, actor: event.actor, data: data)
        self.at = event.at
    }
}

/// Everything one change writes besides its own rows: one audit row and the webhook events it stands for. Derived in
/// the domain (``AuditEvent/record``, ``KeyChange/record(endedSessions:)``); storage writes exactly this and decides
/// nothing.
public struct ChangeRecord: Sendable, Hashable {
    public var audit: AuditEvent
    public var outbox: [OutboxEvent]

    public init(audit: AuditEvent, outbox: [OutboxEvent]) {
        self.audit = audit
        self.outbox = outbox
    }
}

/// One row of an organization's audit trail, as read back. Its action is the stored name: rows written by an older
/// version keep the name they were written with.
public struct AuditRecord: Sendable, Hashable {
    /// Database id.
    public var id: Int64
    public var orgID: Int64
    public var at: Date
    public var actor: ChangeActor
    /// The action's name (an ``AuditAction`` raw value).
    public var action: String
    public var detail: String

    public init(id: Int64, orgID: Int64, at: Date, actor: ChangeActor, action: String, detail: String) {
        self.id = id
        self.orgID = orgID
        self.at = at
        self.actor = actor
        self.action = action
        self.detail = detail
    }
}

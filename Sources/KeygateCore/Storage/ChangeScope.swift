/// What a committed write can have changed, as far as cached API-session snapshots are concerned: the unit of
/// change announcements and of ``SessionCache`` invalidation.
///
/// A snapshot (``SessionSnapshot``) is one session row with its admin, the admin's role and the organization's
/// key, so every write falls in one of these:
///
/// | write | scope |
/// |---|---|
/// | a login (new session), a new organization, role or admin, an audit event, expired-session housekeeping | ``nothing`` |
/// | a logout | ``session(tokenHash:)`` |
/// | an admin edited, disabled, deleted, its password changed | ``admin(id:)`` |
/// | a key added, edited, regenerated, deleted, disabled; a role edited or deleted; the rotation policy | ``organization(id:)`` |
/// | a data copy, anything a writer cannot name | ``everything`` |
///
/// Why the first row is safe: a new row cannot be in any cache; housekeeping deletes only sessions that every
/// cached copy already refuses (a cached last-seen time is never newer than the stored one, and a refusal from
/// memory is always checked against the database). A login also writes the key's Last Used time, which a cached
/// snapshot's key carries stale: nothing answered from a snapshot shows it (the API's key object has no such
/// field; the portal reads the key from the database).
public enum ChangeScope: Sendable, Hashable {
    /// No cached snapshot can depend on it; not announced at all.
    case nothing
    /// One session.
    case session(tokenHash: String)
    /// Every session of one admin.
    case admin(id: Int64)
    /// Every session of one organization.
    case organization(id: Int64)
    /// Every session.
    case everything

    /// Whether a snapshot can depend on what this scope names.
    public func affects(_ snapshot: SessionSnapshot) -> Bool {
        switch self {
        case .nothing: false
        case .session(let hash): snapshot.session.tokenHash == hash
        case .admin(let id): snapshot.session.adminID == id
        case .organization(let id): snapshot.session.orgID == id
        case .everything: true
        }
    }

    /// The scope as announced between processes (PostgreSQL `NOTIFY` payload, the SQLite change log):
    /// `*`, `o:<id>`, `a:<id>`, `s:<token hash>` (``nothing`` is never announced; its wire form is empty).
    public var wire: String {
        switch self {
        case .nothing: ""
        case .session(let hash): "s:\(hash)"
        case .admin(let id): "a:\(id)"
        case .organization(let id): "o:\(id)"
        case .everything: "*"
        }
    }

    /// Parses ``wire``. Anything it does not recognise (a newer server's scope, a damaged payload) is
    /// ``everything`` (an empty one too): clearing too much is always safe, too little never is.
    public init(wire: Substring) {
        let body = wire.dropFirst(2)
        switch wire.prefix(2) {
        case "s:" where !body.isEmpty: self = .session(tokenHash: String(body))
        case "a:": self = Int64(body).map { .admin(id: $0) } ?? .everything
        case "o:": self = Int64(body).map { .organization(id: $0) } ?? .everything
        default: self = .everything
        }
    }
}

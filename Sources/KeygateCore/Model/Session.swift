import Foundation

/// Which legacy API created a session; decides its idle timeout.
public enum SessionKind: String, Sendable, Hashable {
    /// Cloud & Branch Connector (`/api/v1/auth`): 30 minutes idle by default.
    case ztw
    /// Internet Access (`/api/v1/authenticatedSession`): 5 minutes idle by default.
    case zia
}

/// An API session as stored. Only the SHA-256 of its token is kept.
public struct APISession: Sendable, Hashable {
    /// Hex SHA-256 of the session token (the JSESSIONID value).
    public var tokenHash: String
    /// Organization.
    public var orgID: Int64
    /// Admin who logged in.
    public var adminID: Int64
    /// The key the session was made with (or moved to by its own rotation).
    public var keyID: Int64
    /// The key version it is bound to.
    public var keyVersion: Int64
    /// ZTW or ZIA.
    public var kind: SessionKind
    /// Creation time.
    public var createdAt: Date
    /// Last request time, coalesced (see ``SessionRules/touchInterval``).
    public var lastSeenAt: Date
    /// After a rotation under a grace policy: valid with the old key version until this time.
    public var graceUntil: Date?

    public init(
        tokenHash: String, orgID: Int64, adminID: Int64, keyID: Int64, keyVersion: Int64, kind: SessionKind,
        createdAt: Date, lastSeenAt: Date, graceUntil: Date? = nil
    ) {
        self.tokenHash = tokenHash
        self.orgID = orgID
        self.adminID = adminID
        self.keyID = keyID
        self.keyVersion = keyVersion
        self.kind = kind
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.graceUntil = graceUntil
    }
}

/// Everything a session check needs, read in one query: the session with its admin, role and key.
public struct SessionSnapshot: Sendable, Hashable {
    /// The session row.
    public var session: APISession
    /// Its admin.
    public var admin: Admin
    /// The admin's role.
    public var role: Role
    /// The organization's current key row (sealed), nil when deleted. Carried along so that a request that
    /// lists the key needs no second read, and sees exactly the key state the session check validated.
    public var key: SealedAPIKey?

    public init(session: APISession, admin: Admin, role: Role, key: SealedAPIKey?) {
        self.session = session
        self.admin = admin
        self.role = role
        self.key = key
    }

    /// The current key's id, nil when deleted.
    public var keyID: Int64? { key?.id }
    /// The current key's version.
    public var keyVersion: Int64? { key?.version }
    /// Whether the current key is enabled.
    public var keyEnabled: Bool { key?.enabled ?? false }
}

/// Where a caller's session came from: an API login (ZTW or ZIA) or a sign-in to the admin portal.
public enum SessionChannel: Sendable, Hashable {
    case api(SessionKind)
    case portal
}

/// The caller of an authenticated request (an API session or a portal page), after the session check.
public struct Principal: Sendable, Hashable {
    /// The session token's hash (identifies the caller's own session in a rotation).
    public var tokenHash: String
    /// Organization.
    public var orgID: Int64
    /// The admin.
    public var admin: Admin
    /// The admin's role.
    public var role: Role
    /// An API session (ZTW or ZIA) or a portal session.
    public var channel: SessionChannel
    /// The organization's key as the session check read it (nil when the principal was built without one).
    public var key: SealedAPIKey?
    /// The key version the API session was made with (or moved to by a rotation); nil for portal sessions.
    public var sessionKeyVersion: Int64?

    public init(
        tokenHash: String, orgID: Int64, admin: Admin, role: Role, channel: SessionChannel, key: SealedAPIKey? = nil,
        sessionKeyVersion: Int64? = nil
    ) {
        self.tokenHash = tokenHash
        self.orgID = orgID
        self.admin = admin
        self.role = role
        self.channel = channel
        self.key = key
        self.sessionKeyVersion = sessionKeyVersion
    }

    /// The actor recorded on changes this caller makes.
    public var actor: ChangeActor { .admin(id: admin.id, name: admin.userName) }

    /// Throws ``KeygateError/forbidden(_:)`` unless the role grants what `action` needs (``AccessRules``).
    public func require(_ action: AccessRules.Action) throws { try AccessRules.check(role, action) }
}

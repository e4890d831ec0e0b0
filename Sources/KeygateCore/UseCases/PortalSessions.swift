import Foundation

// The admin portal's browser sessions: sign-in (locked out like API logins), the check on every page, sign-out.

/// An organization a portal sign-in opened a session for.
public struct PortalSignIn: Sendable, Hashable {
    /// Organization.
    public var orgID: Int64
    /// Its name.
    public var organizationName: String
    /// The session token (the browser keeps it; only its SHA-256 is stored).
    public var token: String
}

extension PortalSnapshot {
    /// The caller as the key and admin use cases see it. Its token hash is not an API session's, so a rotation
    /// made from the portal moves no API session to the new key: under the default policy they all end.
    public var principal: Principal {
        Principal(tokenHash: session.tokenHash, orgID: session.orgID, admin: admin, role: role, channel: .portal)
    }
}

/// The portal's browser sessions: sign-in, the check on every page, sign-out.
public struct PortalSessionUseCases: UseCases {
    /// What this concept needs of storage (portal sessions, and login candidates and organization names for a sign-in), and no more: its use cases reach data only through it.
    let portalStorage: any PortalStore & SessionStore & OrganizationStore
    /// The one sign-in flow.
    let signIns: SignInFlow
    let environment: UseCaseEnvironment
}

extension PortalSessionUseCases {
    /// Signs in to the portal with a login name and password and opens a session in that account's organization.
    ///
    /// Login names are unique across the server (as Zscaler's are per cloud), so a name names at most one account;
    /// an admin who manages several organizations has an account, with its own login name, in each, and signs in
    /// once per account: each sign-in adds its organization to the browser's set, and the portal switches between
    /// them. The work is one bcrypt verification whatever is wrong (against a dummy hash for an unknown name).
    /// The attempt is reserved in the lockout counters before the password is checked (``LoginThrottle``).
    /// - Throws: ``KeygateError/invalidInput(_:)`` for an empty or over-long name or password,
    ///   ``KeygateError/invalidCredentials`` for any wrong name or password, ``KeygateError/adminDisabled`` when the
    ///   password is right but the account is disabled, ``KeygateError/loginLocked(retryAfterSeconds:)``.
    public func portalSignIn(loginName: String, password: String, clientAddress: String) async throws -> PortalSignIn {
        try await signIns.browserSignIn(
            .portal, loginName: loginName, password: password, clientAddress: clientAddress,
            account: { try await portalStorage.loginCandidates(loginName: loginName).first.map { ($0, $0.admin.passwordHash) } },
            complete: { candidate, now in try await createPortalSession(candidate, password: password, clientAddress: clientAddress, now: now) })
    }

    private func createPortalSession(_ candidate: LoginCandidate, password: String, clientAddress: String, now: Date) async throws -> PortalSignIn {
        guard !candidate.admin.disabled else { throw KeygateError.adminDisabled }
        await signIns.upgradePasswordHashIfNeeded(candidate.admin, password: password)
        let token = Secrets.newSessionToken()
        let orgID = candidate.admin.orgID
        let session = PortalSession(tokenHash: Secrets.sha256Hex(token), adminID: candidate.admin.id, orgID: orgID, createdAt: now, lastSeenAt: now)
        let audit = AuditEvent(
            orgID: orgID, at: now, actor: .admin(id: candidate.admin.id, name: candidate.admin.userName), action: .portalSignedIn,
            detail: "portal sign-in from \(clientAddress)")
        let name = try await portalStorage.organization(id: orgID)?.name ?? "#\(orgID)"
        try await portalStorage.createPortalSessions([session], audits: [audit])
        return PortalSignIn(orgID: orgID, organizationName: name, token: token)
    }

    /// Checks a portal session token.
    /// - Throws: ``KeygateError/sessionNotValid`` for a malformed, unknown, idle, expired or disabled one.
    public func portalSession(token: Substring) async throws -> PortalSnapshot {
        guard let (_, snapshot) = try await portalSessions(tokens: [token]).first else { throw KeygateError.sessionNotValid }
        return snapshot
    }

    /// The live portal sessions among a browser's tokens, checked in one read (the page needs every one: the
    /// organization switcher lists them, and "apply one key to all" acts in each). Tokens that are malformed,
    /// unknown, idle, past their lifetime or of a disabled admin are left out; the live ones are touched when due.
    public func portalSessions(tokens: [Substring]) async throws -> [(token: Substring, snapshot: PortalSnapshot)] {
        let wellFormed = tokens.filter(Secrets.isWellFormedToken)
        let hashes = wellFormed.map { Secrets.sha256Hex(String($0)) }
        let snapshots = Dictionary(
            try await portalStorage.portalSnapshots(tokenHashes: hashes).map { ($0.session.tokenHash, $0) }, uniquingKeysWith: { first, _ in first })
        let now = self.now()
        var live: [(token: Substring, snapshot: PortalSnapshot)] = []
        for (token, hash) in zip(wellFormed, hashes) {
            guard let snapshot = snapshots[hash], !snapshot.admin.disabled else { continue }
            let lifetime = settings.browserLifetime
            guard lifetime.allows(createdAt: snapshot.session.createdAt, lastSeenAt: snapshot.session.lastSeenAt, now: now) else { continue }
            if lifetime.touchIsDue(lastSeenAt: snapshot.session.lastSeenAt, now: now) {
                try await portalStorage.touchPortalSession(tokenHash: hash, at: now)
            }
            live.append((token, snapshot))
        }
        return live
    }

    /// Signs out: ends these portal sessions (unknown tokens are ignored).
    public func portalSignOut(tokens: [Substring]) async throws {
        let hashes = tokens.filter(Secrets.isWellFormedToken).map { Secrets.sha256Hex(String($0)) }
        _ = try await portalStorage.deletePortalSessions(tokenHashes: hashes)
    }
}

import Foundation

// API sessions: the legacy login, the session check on every request, logout, and expiry.

/// A legacy login request, as parsed from `POST /auth` or `POST /authenticatedSession`.
public struct LoginRequest: Sendable {
    /// The obfuscated key (12 characters).
    public var apiKey: String
    /// Login name.
    public var username: String
    /// Password.
    public var password: String
    /// Epoch milliseconds as the client sent them, as a decimal string.
    public var timestamp: String

    public init(apiKey: String, username: String, password: String, timestamp: String) {
        self.apiKey = apiKey
        self.username = username
        self.password = password
        self.timestamp = timestamp
    }
}

/// API sessions: the legacy login, the session check on every request, logout, expiry.
public struct SessionUseCases: UseCases {
    /// What this concept needs of storage (API sessions, and the browser sessions housekeeping also expires), and no more: its use cases reach data only through it.
    let sessionStorage: any SessionStore & PortalStore & OperatorStore
    /// The one sign-in flow.
    let signIns: SignInFlow
    let environment: UseCaseEnvironment
}

extension SessionUseCases {
    /// Creates an API session.
    ///
    /// Whatever is wrong (unknown user, wrong password, wrong key, stale timestamp, replay) the answer is
    /// ``KeygateError/invalidCredentials`` and the work done is the same: one reservation in the lockout counters
    /// (taken *before* the password is checked, so simultaneous guesses cannot overrun the limit), one candidate
    /// query and exactly one bcrypt verification. Only a caller who proved the password learns that the key or
    /// account is disabled or that the role has no API access.
    ///
    /// Login names are unique across the server, so at most one account matches and the organization is the one
    /// whose account that is: deterministic even when several organizations share one key string.
    /// - Returns: the session token (the JSESSIONID value); only its SHA-256 is stored.
    public func login(_ request: LoginRequest, kind: SessionKind, clientAddress: String) async throws -> String {
        do {
            let token = try await createSession(request, kind: kind, clientAddress: clientAddress)
            metrics.login(.success)
            metrics.sessionCreated(kind)
            return token
        } catch is LoginReplayed {
            metrics.login(.replay)
            throw KeygateError.invalidCredentials
        } catch {
            metrics.login(KeygateMetrics.LoginOutcome(error))
            throw error
        }
    }

    /// A login that repeats an earlier one inside the timestamp window; answered as ``KeygateError/invalidCredentials``.
    private struct LoginReplayed: Error {}

    private func createSession(_ request: LoginRequest, kind: SessionKind, clientAddress: String) async throws -> String {
        let now = self.now()
        // Every candidate is checked (no early exit) so timing does not depend on which one matches; the password is
        // then verified against the matching one's hash (a decoy's when none matches), and a stale timestamp refused
        // only after that, with the same work.
        return try await signIns.signIn(
            loginName: request.username, password: request.password, clientAddress: clientAddress, now: now,
            account: {
                var matched: (LoginCandidate, SealedAPIKey)?
                for candidate in try await sessionStorage.loginCandidates(loginName: request.username) {
                    guard let sealed = candidate.key, let key = try? cipher.open(sealed.value, orgID: sealed.orgID) else { continue }
                    let ok = KeyObfuscation.matches(presented: request.apiKey, key: key, timestamp: request.timestamp)
                    if ok && matched == nil { matched = (candidate, sealed) }
                }
                return matched.map { (account: $0, passwordHash: $0.0.admin.passwordHash) }
            },
            complete: { matched in
                try await createSession(request, matched: matched, kind: kind, clientAddress: clientAddress, now: now)
            })
    }

    private func createSession(
        _ request: LoginRequest, matched: (LoginCandidate, SealedAPIKey), kind: SessionKind, clientAddress: String, now: Date
    ) async throws -> String {
        let (candidate, key) = matched
        guard SessionRules.timestampIsFresh(request.timestamp, now: now, window: settings.timestampWindow) else {
            throw KeygateError.invalidCredentials
        }
        guard !candidate.admin.disabled else { throw KeygateError.adminDisabled }
        guard key.enabled else { throw KeygateError.keyDisabled }
        guard candidate.role.apiKeyAccess != .none else {
            throw KeygateError.forbidden("your role grants no access to API key management")
        }

        let token = Secrets.newSessionToken()
        let session = APISession(
            tokenHash: Secrets.sha256Hex(token), orgID: candidate.admin.orgID, adminID: candidate.admin.id,
            keyID: key.id, keyVersion: key.version, kind: kind, createdAt: now, lastSeenAt: now)
        let replayDigest = Secrets.sha256Hex(
            "\(request.username.lowercased())\u{0}\(request.timestamp)\u{0}\(request.apiKey)")
        let audit = AuditEvent(
            orgID: candidate.admin.orgID, at: now, actor: .admin(id: candidate.admin.id, name: candidate.admin.userName),
            action: .sessionCreated, detail: "\(kind.rawValue.uppercased()) session from \(clientAddress)")
        let created = try await sessionStorage.createSession(
            session, replayDigest: replayDigest, replayExpiresAt: now.addingTimeInterval(settings.timestampWindow * 2),
            audit: audit)
        // A replay keeps its reservation: it counts as a failed guess.
        guard created else { throw LoginReplayed() }
        await signIns.upgradePasswordHashIfNeeded(candidate.admin, password: request.password)
        return token
    }

    /// Checks a session token on every API request: from the ``SessionCache`` when it holds the session and says
    /// yes, else one read (and a write at most once per touch interval). A cached snapshot that fails the check
    /// is never the answer: the database is asked again, so the cache cannot refuse a valid session.
    /// - Throws: ``KeygateError/sessionNotValid`` for a missing, malformed, unknown or ended session.
    public func authenticate(token: Substring?) async throws -> Principal {
        guard let token, Secrets.isWellFormedToken(token) else { throw KeygateError.sessionNotValid }
        let tokenHash = Secrets.sha256Hex(token)
        let now = self.now()
        if let cached = sessionCache?.hit(tokenHash: tokenHash, now: now), let principal = cached.principal,
            (try? SessionRules.checkClock(cached.session, currentKeyVersion: cached.currentKeyVersion, now: now, settings: settings)) != nil
        {
            // Checked before the call: the write is due about once a minute, and an async call costs even when it
            // does nothing (the hot path, issue 19).
            if touchIsDue(cached.session, now: now) { try await touchIfDue(cached.session, now: now) }
            return principal
        }
        if sessionCache?.isUnknown(tokenHash: tokenHash) == true { throw KeygateError.sessionNotValid }
        let generation = sessionCache?.generation
        guard var snapshot = try await sessionStorage.sessionSnapshot(tokenHash: tokenHash) else {
            sessionCache?.markUnknown(tokenHash: tokenHash)
            throw KeygateError.sessionNotValid
        }
        let principal = try SessionRules.validate(snapshot, now: now, settings: settings)
        if try await touchIfDue(snapshot.session, now: now) { snapshot.session.lastSeenAt = now }
        if let sessionCache, let generation { sessionCache.insert(snapshot, generation: generation, now: now) }
        return principal
    }

    /// Whether the session's last-seen time is older than the touch interval.
    private func touchIsDue(_ session: APISession, now: Date) -> Bool {
        settings.lifetime(session.kind).touchIsDue(lastSeenAt: session.lastSeenAt, now: now)
    }

    /// Writes the session's last-seen time when the last write is older than the touch interval.
    /// - Returns: whether it wrote.
    @discardableResult
    private func touchIfDue(_ session: APISession, now: Date) async throws -> Bool {
        guard touchIsDue(session, now: now) else { return false }
        try await sessionStorage.touchSession(tokenHash: session.tokenHash, at: now)
        sessionCache?.touched(tokenHash: session.tokenHash, at: now)
        return true
    }

    /// Ends the caller's session (logout). Unknown tokens are ignored: logout is idempotent.
    /// - Returns: whether a session ended.
    @discardableResult
    public func logout(token: Substring?) async throws -> Bool {
        guard let token, Secrets.isWellFormedToken(token) else { return false }
        let tokenHash = Secrets.sha256Hex(token)
        guard let snapshot = try await sessionStorage.sessionSnapshot(tokenHash: tokenHash) else { return false }
        let audit = AuditEvent(
            orgID: snapshot.session.orgID, at: now(), actor: .admin(id: snapshot.admin.id, name: snapshot.admin.userName),
            action: .sessionEnded, detail: "logout")
        let ended = try await sessionStorage.deleteSession(tokenHash: tokenHash, audit: audit)
        if ended { metrics.sessionsEnded(.logout, count: 1) }
        return ended
    }

    /// API sessions alive now in every organization (a gauge for operators; one indexed count).
    public func liveSessionTotal() async throws -> Int {
        try await sessionStorage.liveSessionCount(now: now(), ztwIdle: settings.ztwIdle, ziaIdle: settings.ziaIdle)
    }

    /// Housekeeping: deletes idle API, portal and console sessions, stale replay digests and ended login-failure windows.
    /// - Returns: sessions removed.
    public func pruneExpired() async throws -> Int {
        try await loginThrottle.counters.prune(now: now())
        _ = try await sessionStorage.deleteIdlePortalSessions(lastSeenBefore: now().addingTimeInterval(-settings.portalIdle))
        _ = try await sessionStorage.deleteOperatorSessions(tokenHashes: [], idleBefore: now().addingTimeInterval(-settings.portalIdle))
        let expired = try await sessionStorage.deleteExpired(now: now(), ztwIdle: settings.ztwIdle, ziaIdle: settings.ziaIdle)
        metrics.sessionsEnded(.expired, count: expired)
        return expired
    }
}

import Foundation

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
        Principal(tokenHash: session.tokenHash, orgID: session.orgID, admin: admin, role: role, kind: .ztw)
    }
}

extension Keygate {
    /// Signs in to the portal with a login name and password.
    ///
    /// Login names are unique across the server (as Zscaler's are per cloud), so a name names at most one account;
    /// an admin who manages several organizations has an account, with its own login name, in each, and signs in
    /// once per account: each sign-in adds its organization to the browser's set, and the portal switches between
    /// them. The work is one bcrypt verification whatever is wrong (against a dummy hash for an unknown name).
    /// The attempt is reserved in the lockout counters before the password is checked (``LoginThrottle``).
    /// - Throws: ``KeygateError/invalidCredentials`` for any wrong name or password; ``KeygateError/adminDisabled``
    ///   when the password is right but every matching account is disabled.
    public func portalSignIn(loginName: String, password: String, clientAddress: String) async throws -> [PortalSignIn] {
        let now = self.now()
        let reservation = try await loginThrottle.reserve(loginName: loginName, address: clientAddress, now: now)
        // Unique login names: at most one candidate (the loop stays correct for a database mid-migration).
        let candidates = try await store.loginCandidates(loginName: loginName)
        var opened: [LoginCandidate] = []
        if candidates.isEmpty {
            _ = try await hasher.verify(password, against: dummyPasswordHash)
        }
        for candidate in candidates where try await hasher.verify(password, against: candidate.admin.passwordHash) {
            opened.append(candidate)
        }
        guard !opened.isEmpty else { throw KeygateError.invalidCredentials }
        try await loginThrottle.succeeded(reservation, now: now)
        let enabled = opened.filter { !$0.admin.disabled }
        guard !enabled.isEmpty else { throw KeygateError.adminDisabled }

        var result: [PortalSignIn] = []
        var sessions: [PortalSession] = []
        var audits: [AuditEvent] = []
        for candidate in enabled {
            let token = Secrets.newSessionToken()
            let orgID = candidate.admin.orgID
            sessions.append(
                PortalSession(tokenHash: Secrets.sha256Hex(token), adminID: candidate.admin.id, orgID: orgID, createdAt: now, lastSeenAt: now))
            audits.append(
                AuditEvent(
                    orgID: orgID, at: now, actor: .admin(id: candidate.admin.id, name: candidate.admin.userName),
                    action: "portal.signed_in", detail: "portal sign-in from \(clientAddress)"))
            let name = try await store.organization(id: orgID)?.name ?? "#\(orgID)"
            result.append(PortalSignIn(orgID: orgID, organizationName: name, token: token))
        }
        try await store.createPortalSessions(sessions, audits: audits)
        return result.sorted { $0.organizationName.localizedStandardCompare($1.organizationName) == .orderedAscending }
    }

    /// Checks a portal session token on every portal request.
    /// - Throws: ``KeygateError/sessionNotValid`` for a malformed, unknown, idle or disabled one.
    public func portalSession(token: Substring) async throws -> PortalSnapshot {
        guard Secrets.isWellFormedToken(token) else { throw KeygateError.sessionNotValid }
        let tokenHash = Secrets.sha256Hex(String(token))
        guard let snapshot = try await store.portalSnapshot(tokenHash: tokenHash), !snapshot.admin.disabled else {
            throw KeygateError.sessionNotValid
        }
        let now = self.now()
        let idle = now.timeIntervalSince(snapshot.session.lastSeenAt)
        guard idle < settings.portalIdle, now.timeIntervalSince(snapshot.session.createdAt) < settings.portalMaxLifetime else {
            throw KeygateError.sessionNotValid
        }
        if idle >= SessionRules.touchInterval(idle: settings.portalIdle) {
            try await store.touchPortalSession(tokenHash: tokenHash, at: now)
        }
        return snapshot
    }

    /// Signs out: ends these portal sessions (unknown tokens are ignored).
    public func portalSignOut(tokens: [Substring]) async throws {
        let hashes = tokens.filter(Secrets.isWellFormedToken).map { Secrets.sha256Hex(String($0)) }
        _ = try await store.deletePortalSessions(tokenHashes: hashes)
    }

    /// The admin's key-table columns, in order (all of them, in the default order, until they choose).
    public func keyColumns(adminID: Int64) async throws -> [KeyColumn] {
        guard let stored = try await store.adminPreference(adminID: adminID, name: KeyColumn.preferenceName),
            let columns = try? KeyColumn.parse(stored)
        else { return KeyColumn.allCases }
        return columns
    }

    /// Saves the admin's key-table columns.
    /// - Throws: ``KeygateError/invalidInput(_:)`` for an unknown, repeated or empty choice (nothing saved).
    @discardableResult
    public func setKeyColumns(adminID: Int64, choice: String) async throws -> [KeyColumn] {
        let columns = try KeyColumn.parse(choice)
        try await store.setAdminPreference(
            adminID: adminID, name: KeyColumn.preferenceName, value: columns.map(\.rawValue).joined(separator: ","))
        return columns
    }

    /// What happened in one organization when one key string was applied to several.
    public enum KeyApplyOutcome: Sendable {
        /// It already had this key.
        case unchanged
        /// The key was edited to the string; this many API sessions ended.
        case set(endedSessions: Int)
        /// It had no key; the string was added.
        case added
        /// Refused there (role without write access, key disabled by the provider, a concurrent change…).
        case refused(KeygateError)
    }

    /// Applies one key string to several organizations (an admin signed in to each), each with the ordinary edit
    /// (or add, where there is none) and its rules, independently: one refusal does not stop the others.
    /// - Throws: ``KeygateError/invalidInput(_:)`` when the string is not a key, before anything is tried.
    /// - Returns: one outcome per principal, in order.
    public func applyKey(_ value: String, to principals: [Principal]) async throws -> [KeyApplyOutcome] {
        _ = try APIKeyValue(validating: value)
        var outcomes: [KeyApplyOutcome] = []
        for principal in principals {
            do {
                try principal.require(.readWrite)
                if let key = try await listKeys(principal).first {
                    if key.value.rawValue == value {
                        outcomes.append(.unchanged)
                    } else {
                        outcomes.append(.set(endedSessions: try await editKey(principal, id: key.id, newValue: value).1))
                    }
                } else {
                    _ = try await addKey(principal, value: value)
                    outcomes.append(.added)
                }
            } catch let error as KeygateError {
                outcomes.append(.refused(error))
            }
        }
        return outcomes
    }

    /// The number of live API sessions of an organization (what a key change would end).
    public func liveSessionCount(orgID: Int64) async throws -> Int { try await store.sessionCount(orgID: orgID) }
}

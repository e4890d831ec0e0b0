import Foundation

// The organization's one key: list, read, add, edit, regenerate, delete (an admin's), disable, enable, regenerate (the
// provider's), one key applied to several organizations, and what a rotation does to the sessions.

/// The organization's one key, as its admins and the provider change it.
public struct KeyUseCases: UseCases {
    /// What this concept needs of storage (the sealed key, its organization, and the sessions a change ends or counts), and no more: its use cases reach data only through it.
    let keyStorage: any KeyStore & OrganizationStore & SessionStore
    let environment: UseCaseEnvironment
}

extension KeyUseCases {
    /// The organization's keys (zero or one). Requires ``AccessRules/Action/viewKey``.
    public func listKeys(_ principal: Principal) async throws -> [APIKey] {
        try principal.require(.viewKey)
        // The session check's key, without an async call when it is there (every API call lists through here).
        if let sealed = principal.key { return [try open(sealed)] }
        guard let sealed = try await principalKey(principal) else { return [] }
        return [try open(sealed)]
    }

    /// The key the session check read along with the session (no second read), or a fresh read.
    private func principalKey(_ principal: Principal) async throws -> SealedAPIKey? {
        if let key = principal.key { return key }
        return try await keyStorage.sealedKey(orgID: principal.orgID)
    }

    /// One key by id. Requires ``AccessRules/Action/viewKey``.
    public func key(_ principal: Principal, id: Int64) async throws -> APIKey {
        try principal.require(.viewKey)
        guard let sealed = try await principalKey(principal), sealed.id == id else {
            throw KeygateError.notFound("API key \(id) not found")
        }
        return try open(sealed)
    }

    /// The organization's current key, opened; nil when none. The provider's.
    public func currentKey(_ provider: Provider, orgID: Int64) async throws -> APIKey? { try await currentKey(orgID: orgID) }

    func currentKey(orgID: Int64) async throws -> APIKey? {
        guard let sealed = try await keyStorage.sealedKey(orgID: orgID) else { return nil }
        return try open(sealed)
    }

    /// Adds a key when the organization has none: the caller's string, or a random one. Requires ``AccessRules/Action/changeKey``.
    public func addKey(_ principal: Principal, value: String?) async throws -> APIKey {
        try principal.require(.changeKey)
        return try await addKey(orgID: principal.orgID, value: value, actor: principal.actor)
    }

    /// The provider adds a key when the organization has none.
    public func addKey(_ provider: Provider, orgID: Int64, value: String?) async throws -> APIKey {
        try await addKey(orgID: orgID, value: value, actor: provider.actor)
    }

    private func addKey(orgID: Int64, value: String?, actor: ChangeActor) async throws -> APIKey {
        try KeyRules.checkAdd(current: try await currentKey(orgID: orgID))
        let newValue = try value.map { try APIKeyValue(validating: $0) } ?? APIKeyValue.generate()
        let result = try await applyKeyChange(
            KeyChange(
                orgID: orgID, operation: .add(sealedValue: try cipher.seal(newValue, orgID: orgID)), sessionEffect: .none,
                actor: actor, at: now(), action: .keyAdded, detail: "API key added"))
        guard let sealed = result.key else { throw KeygateError.notFound("API key not found") }
        return try open(sealed)
    }

    /// Edits the key to the caller's string (12 alphanumerics, not the current). Requires ``AccessRules/Action/changeKey``.
    public func editKey(_ principal: Principal, id: Int64, newValue: String) async throws -> (APIKey, Int) {
        try principal.require(.changeKey)
        let current = try KeyRules.checkAdminMayChange(current: try await currentKey(orgID: principal.orgID), id: id)
        let value = try KeyRules.validateEdit(newValue: newValue, current: current)
        return try await rotate(current: current, to: value, actor: principal.actor, caller: principal.tokenHash, action: .keyEdited)
    }

    /// Replaces the key with a random one. Requires ``AccessRules/Action/changeKey``.
    public func regenerateKey(_ principal: Principal, id: Int64) async throws -> (APIKey, Int) {
        try principal.require(.changeKey)
        let current = try KeyRules.checkAdminMayChange(current: try await currentKey(orgID: principal.orgID), id: id)
        return try await rotate(
            current: current, to: KeyRules.regenerated(current: current), actor: principal.actor,
            caller: principal.tokenHash, action: .keyRegenerated)
    }

    /// Deletes the key; every session of the organization ends, the caller's too. Requires ``AccessRules/Action/changeKey``.
    /// - Returns: the number of sessions ended.
    public func deleteKey(_ principal: Principal, id: Int64) async throws -> Int {
        try principal.require(.changeKey)
        let current = try KeyRules.checkAdminMayChange(current: try await currentKey(orgID: principal.orgID), id: id)
        let result = try await applyKeyChange(
            KeyChange(
                orgID: current.orgID, operation: .delete(expectedVersion: current.version), sessionEffect: .endAll,
                actor: principal.actor, at: now(), action: .keyDeleted, detail: "API key \(current.id) deleted"))
        return result.endedSessions
    }

    /// The provider disables or enables the key. Disabling ends every session made with it at once.
    public func setKeyEnabled(_ provider: Provider, orgID: Int64, enabled: Bool) async throws -> (APIKey, Int) {
        guard let current = try await currentKey(orgID: orgID) else {
            throw KeygateError.notFound("the organization has no API key")
        }
        let result = try await applyKeyChange(
            KeyChange(
                orgID: orgID, operation: .setEnabled(enabled, expectedVersion: current.version),
                sessionEffect: enabled ? .none : .endAll, actor: provider.actor, at: now(),
                action: enabled ? .keyEnabled : .keyDisabled, detail: "by the provider"))
        guard let sealed = result.key else { throw KeygateError.notFound("the organization has no API key") }
        return (try open(sealed), result.endedSessions)
    }

    /// The provider regenerates the key (e.g. after a leak), whether or not it is disabled.
    public func regenerateKey(_ provider: Provider, orgID: Int64) async throws -> (APIKey, Int) {
        guard let current = try await currentKey(orgID: orgID) else {
            throw KeygateError.notFound("the organization has no API key")
        }
        return try await rotate(
            current: current, to: KeyRules.regenerated(current: current), actor: provider.actor, caller: nil,
            action: .keyRegenerated)
    }

    private func rotate(current: APIKey, to value: APIKeyValue, actor: ChangeActor, caller: String?, action: AuditAction)
        async throws -> (APIKey, Int)
    {
        let policy = try await keyStorage.organization(id: current.orgID)?.rotationPolicy ?? .endOldSessions
        let result = try await applyKeyChange(
            KeyChange(
                orgID: current.orgID,
                operation: .replace(sealedValue: try cipher.seal(value, orgID: current.orgID), expectedVersion: current.version),
                sessionEffect: .rotate(policy: policy, callerTokenHash: caller), actor: actor, at: now(),
                action: action, detail: "API key \(current.id) rotated (policy \(policy.storedValue))"))
        guard let sealed = result.key else { throw KeygateError.notFound("API key not found") }
        return (try open(sealed), result.endedSessions)
    }

    /// Applies a key change and counts it: its kind (``AuditAction/keyChange``) and the sessions it ended.
    private func applyKeyChange(_ change: KeyChange) async throws -> KeyChangeResult {
        let result = try await keyStorage.applyKeyChange(change)
        let kind = change.action.keyChange
        if let kind { metrics.keyChanged(kind) }
        let reason: KeygateMetrics.SessionEndReason =
            switch kind {
            case .deleted: .keyDeleted
            case .disabled: .keyDisabled
            default: .rotation
            }
        metrics.sessionsEnded(reason, count: result.endedSessions)
        return result
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
                try principal.require(.changeKey)
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

    /// The number of live API sessions of an organization (what a key change would end).
    public func liveSessionCount(_ provider: Provider, orgID: Int64) async throws -> Int { try await keyStorage.sessionCount(orgID: orgID) }

    /// The caller's organization's live API sessions (what the key page warns a change would end). Requires
    /// ``AccessRules/Action/viewKey``.
    public func liveSessionCount(_ principal: Principal) async throws -> Int {
        try principal.require(.viewKey)
        return try await keyStorage.sessionCount(orgID: principal.orgID)
    }

    /// Refuses a master key that cannot open this database's keys: a wrong key file would otherwise surface later as
    /// failed logins. Opens the first stored key; a database without keys has nothing to check.
    /// - Throws: ``KeygateError/invalidInput(_:)`` when the key does not open it.
    public func checkMasterKeyOpensStoredKeys() async throws {
        guard let sealed = try await keyStorage.anySealedKey() else { return }
        do {
            _ = try cipher.open(sealed.value, orgID: sealed.orgID)
        } catch {
            throw KeygateError.invalidInput(
                "the master key does not open the API keys in this database: use the master key this database was created with")
        }
    }
}

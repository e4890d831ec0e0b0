import Foundation

// Online master-key rotation: the servers' heartbeats (which master keys each holds), the census of stored keys by
// the master key that sealed them, the re-seal pass and its verification. The order of steps, and why it loses no
// request, is `keygate master-key rotate`'s (docs/decisions.md, "Master-key rotation").

/// Where a re-seal pass stands.
public struct ResealProgress: Sendable, Equatable {
    /// Stored keys looked at so far.
    public var seen = 0
    /// Of those, re-sealed under the primary key by this pass.
    public var resealed = 0
    /// Already under the primary key.
    public var current = 0
    /// Changed by someone else between the read and the write (sealed afresh by them, under their primary key).
    public var changedMeanwhile = 0

    public init() {}
}

/// The outcome of checking every stored key against one master key.
public struct KeyVerification: Sendable, Equatable {
    /// Stored keys.
    public var total = 0
    /// Sealed under the key and opening with it alone.
    public var verified = 0
    /// Organizations whose key is not (yet) under it.
    public var failing: [Int64] = []

    public init() {}
}

/// Master-key rotation: heartbeats, the census of stored keys, re-seal and verification.
public struct MasterKeyUseCases: UseCases {
    /// What this concept needs of storage: the stored keys and the servers' heartbeats.
    let keyStorage: any KeyStore
    let instanceStorage: any InstanceStore
    let webhookSecretStorage: any WebhookStore
    let environment: UseCaseEnvironment
}

extension MasterKeyUseCases {
    /// How long a server's heartbeat counts as live.
    public static let instanceLiveness: TimeInterval = 10

    /// Records this server's heartbeat: the master keys it holds now.
    public func recordHeartbeat(instanceID: String) async throws {
        try await instanceStorage.recordInstance(
            InstanceHeartbeat(id: instanceID, primaryKeyID: cipher.primaryKeyID, keyIDs: cipher.keyIDs, seenAt: now()))
    }

    /// Forgets this server's heartbeat (it is stopping).
    public func forgetHeartbeat(instanceID: String) async throws { try await instanceStorage.deleteInstances(id: instanceID, seenBefore: nil) }

    /// Housekeeping: forgets servers not heard from for a minute (a killed one leaves its row behind).
    public func pruneInstances() async throws {
        try await instanceStorage.deleteInstances(id: nil, seenBefore: now().addingTimeInterval(-60))
    }

    /// The servers that reported within ``instanceLiveness``.
    public func liveInstances() async throws -> [InstanceHeartbeat] {
        try await instanceStorage.instances(seenSince: now().addingTimeInterval(-Self.instanceLiveness))
    }

    /// Stored keys and webhook secrets by the id of the master key that sealed them (`v1` for values sealed before key
    /// ids existed).
    public func storedKeyCensus(batch: Int = 1000) async throws -> [String: Int] {
        var census: [String: Int] = [:]
        try await forEachStoredKeyPage(batch: batch) { page in
            for key in page { census[KeyCipher.keyID(ofSealed: key.value) ?? "v1", default: 0] += 1 }
        }
        try await forEachWebhookSecret(batch: batch) { sealed, _, _, _ in census[KeyCipher.keyID(ofSealed: sealed) ?? "v1", default: 0] += 1 }
        return census
    }

    /// Every sealed webhook secret (current and previous) with its endpoint, organization and which one it is.
    private func forEachWebhookSecret(batch: Int, _ body: (String, Int64, Int64, Bool) async throws -> Void) async throws {
        var after: Int64 = 0
        while true {
            let page = try await webhookSecretStorage.sealedWebhookSecrets(afterID: after, limit: batch)
            guard let last = page.last else { return }
            for row in page {
                try await body(row.current, row.endpointID, row.orgID, false)
                if let previous = row.previous { try await body(previous, row.endpointID, row.orgID, true) }
            }
            after = last.endpointID
        }
    }

    /// The organizations whose stored key opens with no key of this process's keyring (a wrong key file), at most 20.
    public func storedKeysThatDoNotOpen(batch: Int = 1000) async throws -> [Int64] {
        var failing: [Int64] = []
        try await forEachStoredKeyPage(batch: batch) { page in
            for key in page where failing.count < 20 && (try? cipher.open(key.value, orgID: key.orgID)) == nil { failing.append(key.orgID) }
        }
        try await forEachWebhookSecret(batch: batch) { sealed, _, orgID, _ in
            if failing.count < 20, (try? cipher.openSecret(sealed, context: "webhook:\(orgID)")) == nil { failing.append(orgID) }
        }
        return failing
    }

    /// One pass over every stored key, then every webhook signing secret: each one not sealed under the primary key is
    /// opened with the keyring and sealed again under the primary key, `batch` rows per transaction. Safe to interrupt and to run again: a pass only
    /// replaces a row that still holds what it read, and skips rows already under the primary key.
    public func resealStoredKeys(batch: Int = 500, progress: (ResealProgress) -> Void = { _ in }) async throws -> ResealProgress {
        var state = ResealProgress()
        let primary = cipher.primaryKeyID
        try await forEachStoredKeyPage(batch: batch) { page in
            var changes: [KeyReseal] = []
            for key in page {
                if KeyCipher.keyID(ofSealed: key.value) == primary {
                    state.current += 1
                } else {
                    let value = try cipher.open(key.value, orgID: key.orgID)
                    changes.append(KeyReseal(id: key.id, orgID: key.orgID, from: key.value, to: try cipher.seal(value, orgID: key.orgID)))
                }
            }
            let replaced = try await keyStorage.resealKeys(changes)
            state.seen += page.count
            state.resealed += replaced
            state.changedMeanwhile += changes.count - replaced
            progress(state)
        }
        // Webhook signing secrets are sealed under the master key too.
        var secretChanges: [WebhookSecretReseal] = []
        try await forEachWebhookSecret(batch: batch) { sealed, endpointID, orgID, previous in
            state.seen += 1
            if KeyCipher.keyID(ofSealed: sealed) == primary {
                state.current += 1
                return
            }
            let secret = try cipher.openSecret(sealed, context: "webhook:\(orgID)")
            secretChanges.append(
                WebhookSecretReseal(
                    endpointID: endpointID, previous: previous, from: sealed, to: try cipher.seal(secret: secret, context: "webhook:\(orgID)")))
        }
        let replaced = try await webhookSecretStorage.resealWebhookSecrets(secretChanges)
        state.resealed += replaced
        state.changedMeanwhile += secretChanges.count - replaced
        progress(state)
        return state
    }

    /// Checks that every stored key is sealed under the master key `keyID` and opens with it alone.
    public func verifyStoredKeys(under keyID: String, batch: Int = 1000) async throws -> KeyVerification {
        var result = KeyVerification()
        try await forEachStoredKeyPage(batch: batch) { page in
            for key in page {
                result.total += 1
                if (try? cipher.open(key.value, orgID: key.orgID, onlyWith: keyID)) != nil {
                    result.verified += 1
                } else if result.failing.count < 20 {
                    result.failing.append(key.orgID)
                }
            }
        }
        try await forEachWebhookSecret(batch: batch) { sealed, _, orgID, _ in
            result.total += 1
            if (try? cipher.openSecret(sealed, context: "webhook:\(orgID)", onlyWith: keyID)) != nil {
                result.verified += 1
            } else if result.failing.count < 20 {
                result.failing.append(orgID)
            }
        }
        return result
    }

    private func forEachStoredKeyPage(batch: Int, _ body: ([SealedAPIKey]) async throws -> Void) async throws {
        var after: Int64 = 0
        while true {
            let page = try await keyStorage.sealedKeys(afterID: after, limit: batch)
            guard let last = page.last else { return }
            try await body(page)
            after = last.id
        }
    }
}
